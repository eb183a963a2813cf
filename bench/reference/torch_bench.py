#!/usr/bin/env python3
"""PyTorch CPU reference for the Swift Bench executable (issue 8): the same case names, the same JSON layout.

Usage: torch_bench.py [--filter REGEX] [--json FILE] [--threads T] [--seconds S]

Cases mirror Sources/Bench: sgemm-<n>, conv-{fwd|bwd}-<net input>-<stage>-<cin>x<cout>-k<k>s<s> (ResNet18,
1-channel stem, batch 32), batchnorm-{fwd|bwd}-<net input>-<stage>-<c>. Each case warms up once, then repeats
until the time budget is spent (at least 3 runs); median and min are reported. Never run in CI.
"""
import argparse
import json
import os
import platform
import re
import statistics
import time

import torch
import torch.nn.functional as F

BATCH = 32


def resnet_conv_shapes(inp):
    after_stem = (inp + 2 * 3 - 7) // 2 + 1
    size = (after_stem + 2 - 3) // 2 + 1
    shapes = [("stem", 1, 64, 7, 2, 3, inp), ("l1", 64, 64, 3, 1, 1, size)]
    ch = 64
    for stage in (2, 3, 4):
        out, nxt = ch * 2, (size + 2 - 3) // 2 + 1
        shapes += [(f"l{stage}", ch, out, 3, 2, 1, size), (f"l{stage}", out, out, 3, 1, 1, nxt),
                   (f"l{stage}", ch, out, 1, 2, 0, size)]
        ch, size = out, nxt
    return shapes


def bench_tensor(shape, requires_grad=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) * 2 - 1).requires_grad_(requires_grad)


def cases():
    out = []
    for n in (1024, 2048):
        def prep(n=n):
            a, b = bench_tensor((n, n)), bench_tensor((n, n))
            c = torch.empty(n, n)
            return lambda: torch.mm(a, b, out=c)
        out.append((f"sgemm-{n}", 2.0 * n ** 3, None, prep))
    for inp in (64, 150):
        for stage, cin, cout, k, s, p, size in resnet_conv_shapes(inp):
            ho = (size + 2 * p - k) // s + 1
            flops = 2.0 * BATCH * cout * ho * ho * cin * k * k
            suffix = f"{inp}-{stage}-{cin}x{cout}-k{k}s{s}"
            need_x = stage != "stem"

            def prep_fwd(cin=cin, cout=cout, k=k, s=s, p=p, size=size, need_x=need_x):
                x = bench_tensor((BATCH, cin, size, size), need_x, 3)
                w = bench_tensor((cout, cin, k, k), True, 4)
                return lambda: F.conv2d(x, w, stride=s, padding=p)

            def prep_bwd(cin=cin, cout=cout, k=k, s=s, p=p, size=size, need_x=need_x):
                x = bench_tensor((BATCH, cin, size, size), need_x, 3)
                w = bench_tensor((cout, cin, k, k), True, 4)
                y = F.conv2d(x, w, stride=s, padding=p)
                seed = bench_tensor(y.shape, False, 5)

                def body():
                    x.grad = None
                    w.grad = None
                    y.backward(seed, retain_graph=True)
                return body
            out.append((f"conv-fwd-{suffix}", flops, BATCH, prep_fwd))
            out.append((f"conv-bwd-{suffix}", flops * (2 if need_x else 1), BATCH, prep_bwd))
    for inp in (64, 150):
        for stage, c, size in batchnorm_shapes(inp):
            def prep_bn_fwd(c=c, size=size):
                x = bench_tensor((BATCH, c, size, size), True, 6)
                w, b = bench_tensor((c,), True, 7), bench_tensor((c,), True, 8)
                rm, rv = torch.zeros(c), torch.ones(c)
                return lambda: F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)

            def prep_bn_bwd(c=c, size=size):
                x = bench_tensor((BATCH, c, size, size), True, 6)
                w, b = bench_tensor((c,), True, 7), bench_tensor((c,), True, 8)
                rm, rv = torch.zeros(c), torch.ones(c)
                y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
                seed = bench_tensor(y.shape, False, 9)

                def body():
                    x.grad = w.grad = b.grad = None
                    y.backward(seed, retain_graph=True)
                return body
            out.append((f"batchnorm-fwd-{inp}-{stage}-{c}", None, BATCH, prep_bn_fwd))
            out.append((f"batchnorm-bwd-{inp}-{stage}-{c}", None, BATCH, prep_bn_bwd))
    return out


def batchnorm_shapes(inp):
    """The distinct BatchNorm2d inputs of ResNet18: after the stem and at the output of each stage."""
    size = (inp + 2 * 3 - 7) // 2 + 1
    shapes = [("stem", 64, size)]
    size = (size + 2 - 3) // 2 + 1
    shapes.append(("l1", 64, size))
    for stage, c in ((2, 128), (3, 256), (4, 512)):
        size = (size + 2 - 3) // 2 + 1
        shapes.append((f"l{stage}", c, size))
    return shapes


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
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    pattern = re.compile(args.filter) if args.filter else None
    results = []
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"{'case':40}{'median ms':>11}{'min ms':>10}{'reps':>6}{'GFLOP/s':>9}{'img/s':>9}")
    for name, flops, images, prep in cases():
        if pattern and not pattern.search(name):
            continue
        with torch.no_grad() if name.startswith("sgemm") else torch.enable_grad():
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
                   "threads": torch.get_num_threads(), "torch": torch.__version__, "hostname": platform.node()}
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "cases": results}, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
