#!/usr/bin/env python3
"""PyTorch CPU reference for the Swift Bench executable: the same case names, the same JSON layout.

Usage: torch_bench.py [--filter REGEX] [--json FILE] [--threads T] [--seconds S]

Cases mirror Sources/Bench: sgemm-<n>, conv-{fwd|bwd}-<net input>-<stage>-<cin>x<cout>-k<k>s<s> (ResNet18,
1-channel stem, batch 32; plus stage r2: the 128 -> 128 5x5 conv of the R2Conv case), batchnorm-{fwd|bwd}-<net input>-<stage>-<c>, and the whole-network cases of
Sources/Bench/NetworkCases.swift: resnet18-train-64 / resnet18-train-150 (one training step at batch 32:
forward, Linear(256, 3) head, cross-entropy, backward, Adam lr 1e-3) and resnet18-eval-150 (eval-mode forward
under no_grad). The ResNet18 is torchvision's (BasicBlock, [2, 2, 2, 2]) written out here so the reference needs
only torch: conv1 = Conv2d(1, 64, 7, stride 2, padding 3, bias=False), fc = Linear(512, 256). Whole-step cases
also report the peak resident memory (VmHWM, reset per case like ours). Each case warms up once, then repeats
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
import torch.nn as tnn
import torch.nn.functional as F

BATCH = 32


class BasicBlock(tnn.Module):
    """torchvision.models.resnet.BasicBlock (expansion 1)."""

    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = tnn.Sequential(tnn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                             tnn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(tnn.Module):
    """torchvision resnet18 with the DeepLense changes: 1 input channel, fc 512 -> 256 (features, no activation)."""

    def __init__(self, features=256):
        super().__init__()
        self.conv1 = tnn.Conv2d(1, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        layers, inplanes = [], 64
        for planes, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers.append(tnn.Sequential(BasicBlock(inplanes, planes, stride), BasicBlock(planes, planes, 1)))
            inplanes = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.fc = tnn.Linear(512, features)
        for m in self.modules():
            if isinstance(m, tnn.Conv2d):
                tnn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def resnet18_forward_flops(side):
    """2 x multiply-adds of the convolutions and fc for one image (the count ResNet18.forwardFLOPs uses)."""
    def out(s, k, stride, p):
        return (s + 2 * p - k) // stride + 1
    h = out(side, 7, 2, 3)
    flops = 2.0 * 64 * 49 * h * h
    h = out(h, 3, 2, 1)
    planes = 64
    for index, stage_planes in enumerate((64, 128, 256, 512)):
        for block in range(2):
            stride = 2 if index > 0 and block == 0 else 1
            ho = out(h, 3, stride, 1)
            flops += 2.0 * planes * stage_planes * 9 * ho * ho + 2.0 * stage_planes * stage_planes * 9 * ho * ho
            if stride != 1 or planes != stage_planes:
                flops += 2.0 * planes * stage_planes * ho * ho
            planes, h = stage_planes, ho
    return flops + 2.0 * 512 * 256


def peak_rss_reset():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_bytes():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def network_cases():
    out = []
    for side in (64, 150):
        def prep_train(side=side):
            torch.manual_seed(1)
            model, head = ResNet18(), tnn.Linear(256, 3)
            model.train()
            opt = torch.optim.Adam(list(model.parameters()) + list(head.parameters()), lr=1e-3)
            images = bench_tensor((BATCH, 1, side, side), False, 5)
            labels = torch.arange(BATCH) % 3

            def body():
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(head(model(images)), labels).backward()
                opt.step()
            return body
        out.append((f"resnet18-train-{side}", 3 * resnet18_forward_flops(side) * BATCH, BATCH, prep_train))

    def prep_eval():
        torch.manual_seed(1)
        model = ResNet18()
        model.eval()
        images = bench_tensor((BATCH, 1, 150, 150), False, 6)

        def body():
            with torch.no_grad():
                model(images)
        return body
    out.append(("resnet18-eval-150", resnet18_forward_flops(150) * BATCH, BATCH, prep_eval))
    return out


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
        # plus, at 64, the plain conv inside the r2conv-c8-16x16-k5-64 case (128 -> 128 channels, 5x5)
        extra = [("r2", 128, 128, 5, 1, 2, 64)] if inp == 64 else []
        for stage, cin, cout, k, s, p, size in resnet_conv_shapes(inp) + extra:
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
    return out + network_cases()


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
        whole_step = name.startswith("resnet18-")
        if whole_step:
            peak_rss_reset()
        with torch.no_grad() if name.startswith("sgemm") else torch.enable_grad():
            times = run(prep, args.seconds)
        med = statistics.median(times)
        r = {"name": name, "median_seconds": med, "min_seconds": min(times), "repeats": len(times),
             "gflops": flops / med / 1e9 if flops else None,
             "images_per_second": images / med if images else None,
             "peak_memory_bytes": peak_rss_bytes() if whole_step else None}
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
