#!/usr/bin/env python3
"""e2cnn 0.2.3 reference for the equivariant Bench cases (Sources/Bench/EquivariantCases.swift): same case names,
same JSON layout as our Bench `--json` (Sources/Bench/Report.swift), so ratios are one join on `name`.

Usage: /work/venv-torch/bin/python bench/reference/e2cnn_bench.py [--filter REGEX] [--json FILE] [--threads 2]
                                                                   [--seconds S]
Cases:
  r2conv-c8-16x16-k5-64-fwd   nn.R2Conv C8, 16 -> 16 regular fields, 5x5, padding 2, batch 32 of 64x64, train mode
                              (every forward expands the filter by e2cnn's einsum, then conv2d)
  r2conv-c8-16x16-k5-64-bwd   backward alone (retain_graph), gradients of input, weights (and bias)
  r2conv-build-c8-64x64-k5    constructing a 64 -> 64 regular-field 5x5 R2Conv (basis + init), cold: a new gspace
                              and e2cnn's shared basis-sampling cache (`basisexpansion_singleblock._stored_filters`)
                              emptied before every run (group and representation objects stay cached)
  filter-expand-c8-64x64-k5   that layer's basis expansion forward + backward (weights -> [512, 512, 5, 5] -> grad)
  rotate-fft-150              32 images 150x150 rotated by 30 degrees with the rotation e2cnn's group action uses
                              (`e2cnn.gspaces.r2.utils.rotate_array`: scipy.ndimage order-2 spline; ours is FFT)
Never run in CI.
"""
import argparse
import json
import math
import os
import platform
import re
import statistics
import time

import torch
from e2cnn import gspaces, nn
from e2cnn.gspaces.r2.utils import rotate_array
from e2cnn.nn.modules.r2_conv import basisexpansion_singleblock

BATCH = 32


def bench_tensor(shape, requires_grad=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) * 2 - 1).requires_grad_(requires_grad)


def regular(space, n):
    return nn.FieldType(space, n * [space.regular_repr])


def cases():
    space = gspaces.Rot2dOnR2(8)
    fields = regular(space, 16)

    def make_layer():
        torch.manual_seed(1)
        layer = nn.R2Conv(fields, fields, kernel_size=5, padding=2)
        layer.train()
        return layer, bench_tensor((BATCH, fields.size, 64, 64), True, 2)

    def prep_fwd():
        layer, x = make_layer()
        return lambda: layer(nn.GeometricTensor(x, fields))

    def prep_bwd():
        layer, x = make_layer()
        y = layer(nn.GeometricTensor(x, fields)).tensor
        seed = bench_tensor(y.shape, False, 3)

        def body():
            x.grad = None
            layer.zero_grad(set_to_none=True)
            y.backward(seed, retain_graph=True)
        return body

    def prep_build():
        def body():
            basisexpansion_singleblock._stored_filters.clear()
            s = gspaces.Rot2dOnR2(8)
            wide = regular(s, 64)
            nn.R2Conv(wide, wide, kernel_size=5, padding=2)
        return body

    def prep_expand():
        wide = regular(space, 64)
        torch.manual_seed(4)
        layer = nn.R2Conv(wide, wide, kernel_size=5, padding=2)
        layer.train()
        seed = bench_tensor((wide.size, wide.size, 5, 5), False, 5)

        def body():
            layer.weights.grad = None
            f = layer._basisexpansion(layer.weights)
            f.backward(seed.reshape(f.shape))
        return body

    def prep_rotate():
        x = bench_tensor((32, 1, 150, 150), False, 6).numpy()
        return lambda: rotate_array(x, math.radians(30))

    flops = 2.0 * BATCH * 128 * 64 * 64 * 128 * 25
    return [("r2conv-c8-16x16-k5-64-fwd", flops, BATCH, prep_fwd),
            ("r2conv-c8-16x16-k5-64-bwd", 2 * flops, BATCH, prep_bwd),
            ("r2conv-build-c8-64x64-k5", None, None, prep_build),
            ("filter-expand-c8-64x64-k5", None, None, prep_expand),
            ("rotate-fft-150", None, 32, prep_rotate)]


def run(prep, seconds):
    body = prep()
    body()
    times = []
    start = time.perf_counter()
    while len(times) < 1000 and (len(times) < 3 or time.perf_counter() - start < seconds):
        t0 = time.perf_counter()
        body()
        times.append(time.perf_counter() - t0)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--filter")
    ap.add_argument("--json")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    pattern = re.compile(args.filter) if args.filter else None
    results = []
    print(f"torch {torch.__version__}, e2cnn, threads {torch.get_num_threads()}")
    print(f"{'case':40}{'median ms':>11}{'min ms':>10}{'reps':>6}{'GFLOP/s':>9}{'img/s':>9}")
    for name, flops, images, prep in cases():
        if pattern and not pattern.search(name):
            continue
        times = run(prep, args.seconds)
        med = statistics.median(times)
        r = {"name": name, "median_seconds": med, "min_seconds": min(times), "repeats": len(times),
             "gflops": flops / med / 1e9 if flops else None,
             "images_per_second": images / med if images else None, "peak_memory_bytes": None}
        results.append(r)
        gf = f"{r['gflops']:.1f}" if r["gflops"] else "-"
        ips = f"{r['images_per_second']:.1f}" if r["images_per_second"] else "-"
        print(f"{name:40}{med * 1e3:>11.3f}{min(times) * 1e3:>10.3f}{len(times):>6}{gf:>9}{ips:>9}", flush=True)
    if args.json:
        machine = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                   "threads": torch.get_num_threads(), "torch": torch.__version__, "hostname": platform.node(),
                   "library": "e2cnn"}
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "cases": results}, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
