#!/usr/bin/env python3
"""Markdown tables for notebooks-md/05-benchmarks.md from a side_by_side.py run: conv GFLOP/s against the
measured sgemm peak, whole steps (time, images/s, peak memory), and the performance targets (met / not met).

Usage: targets.py DIR        (DIR holds ours.json and theirs.json written by side_by_side.py)
Ratios are ours / theirs (below 1: ours faster), per image where both sides count images (compare.ratios).
Both the ratio of the medians and the ratio of the minima are shown; the verdict uses the medians, and says
when the minima disagree (a sign the machine load, not the code, decided the case).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import ratios  # noqa: E402


def load(path):
    with open(path) as f:
        return {c["name"]: c for c in json.load(f)["cases"]}


def gflops_at(case, seconds):
    return case["gflops"] * case["median_seconds"] / seconds if case.get("gflops") else None


def main():
    out = sys.argv[1]
    ours, theirs = load(f"{out}/ours.json"), load(f"{out}/theirs.json")
    peak_case = ours["sgemm-2048"]
    peak_med, peak_best = peak_case["gflops"], gflops_at(peak_case, peak_case["min_seconds"])
    print(f"sgemm-2048 (2 threads): {peak_med:.0f} GFLOP/s at the median, {peak_best:.0f} at the minimum\n")

    print("| conv case | ours GFLOP/s (median / best) | % of sgemm peak (median / best) | PyTorch GFLOP/s (median / best) "
          "| ratio median | ratio min |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, a in ours.items():
        if not name.startswith("conv-"):
            continue
        b = theirs.get(name)
        r, rmin = ratios(a, b)
        best = gflops_at(a, a["min_seconds"])
        tb = b and f"{b['gflops']:.0f} / {gflops_at(b, b['min_seconds']):.0f}"
        print(f"| {name} | {a['gflops']:.0f} / {best:.0f} | {100 * a['gflops'] / peak_med:.0f} / {100 * best / peak_best:.0f} "
              f"| {tb or '-'} | {r:.2f} | {rmin:.2f} |")

    print("\n| whole step | ours ms (median) | PyTorch ms (median) | ours img/s | PyTorch img/s | ours GFLOP/s | "
          "% of sgemm peak | ours peak MiB | PyTorch peak MiB | ratio median | ratio min |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in ("resnet18-train-64", "resnet18-train-150", "resnet18-eval-150", "c8resnet-train-64",
                 "c8resnet-train-150"):
        a, b = ours.get(name), theirs.get(name)
        if not a:
            continue
        r, rmin = ratios(a, b)
        mib = lambda c: f"{c['peak_memory_bytes'] / 2 ** 20:.0f}" if c and c.get("peak_memory_bytes") else "-"
        f = lambda x, s: format(x, s) if x is not None else "-"
        print(f"| {name} | {a['median_seconds'] * 1e3:.0f} | {f(b and b['median_seconds'] * 1e3, '.0f')} "
              f"| {a['images_per_second']:.1f} | {f(b and b['images_per_second'], '.1f')} | {f(a.get('gflops'), '.0f')} "
              f"| {f(a.get('gflops') and 100 * a['gflops'] / peak_med, '.0f')} | {mib(a)} | {mib(b)} "
              f"| {f(r, '.2f')} | {f(rmin, '.2f')} |")

    print("\n| target | measured | verdict |")
    print("|---|---|---|")

    def verdict(ok, ok_min):
        if ok and ok_min:
            return "met"
        if not ok and not ok_min:
            return "not met"
        return "met on " + ("medians" if ok else "minima") + " only (load-sensitive)"

    for side in (64, 150):
        name = f"resnet18-train-{side}"
        r, rmin = ratios(ours[name], theirs.get(name))
        print(f"| ResNet18 train step {side}: <= 1.0x PyTorch (stretch 0.8x) | {r:.2f}x median, {rmin:.2f}x min "
              f"| {verdict(r <= 1.0, rmin <= 1.0)}; stretch {verdict(r <= 0.8, rmin <= 0.8)} |")
    n_conv = sum(1 for n in ours if n.startswith("conv-"))
    conv = {n: ratios(ours[n], theirs[n]) for n in ours if n.startswith("conv-") and n in theirs}
    over_med = sorted(((r, n) for n, (r, _) in conv.items() if r > 1.0), reverse=True)
    over_min = [n for n, (_, m) in conv.items() if m > 1.0]
    both = [n for n, (r, m) in conv.items() if r <= 1.0 and m <= 1.0]
    print(f"| every conv shape fwd + bwd <= 1.0x PyTorch | {len(both)}/{n_conv} at <= 1.0x on both ratios; "
          f"{len(over_med)} above 1.0x by median ({', '.join(f'{n} {r:.2f}' for r, n in over_med) or 'none'}); "
          f"{len(over_min)} above by min | {'met' if len(both) == n_conv else 'not met'} |")
    both_sides = lambda *names: all(n in ours and n in theirs for n in names)
    fwd, bwd = "r2conv-c8-16x16-k5-64-fwd", "r2conv-c8-16x16-k5-64-bwd"
    if both_sides(fwd, bwd):
        step = (ours[fwd]["median_seconds"] + ours[bwd]["median_seconds"]) / (theirs[fwd]["median_seconds"] + theirs[bwd]["median_seconds"])
        step_min = (ours[fwd]["min_seconds"] + ours[bwd]["min_seconds"]) / (theirs[fwd]["min_seconds"] + theirs[bwd]["min_seconds"])
        print(f"| C8 R2Conv fwd + bwd <= 0.8x e2cnn | {step:.2f}x median, {step_min:.2f}x min (fwd {ratios(ours[fwd], theirs[fwd])[0]:.2f}, "
              f"bwd {ratios(ours[bwd], theirs[bwd])[0]:.2f}) | {verdict(step <= 0.8, step_min <= 0.8)} |")
    b = "r2conv-build-c8-64x64-k5"
    if both_sides(b):
        r, rmin = ratios(ours[b], theirs[b])
        print(f"| R2Conv construction >= 20x faster than e2cnn | {1 / r:.0f}x median, {1 / rmin:.0f}x min "
              f"| {verdict(1 / r >= 20, 1 / rmin >= 20)} |")
    for side in (64, 150):
        name = f"resnet18-train-{side}"
        frac = ours[name]["gflops"] / peak_med
        frac_best = gflops_at(ours[name], ours[name]["min_seconds"]) / peak_best
        print(f"| ResNet18 step {side} >= 60% of 2-core sgemm GFLOP/s | {100 * frac:.0f}% median "
              f"({ours[name]['gflops']:.0f} of {peak_med:.0f}), {100 * frac_best:.0f}% best | "
              f"{verdict(frac >= 0.6, frac_best >= 0.6)} |")
    for side in (150, 64):
        name = f"simulate-{side}"
        if name in ours and name in theirs:
            r, rmin = ratios(ours[name], theirs[name])
            print(f"| simulate-{side} >= 10x lenstronomy images/s | {1 / r:.1f}x median "
                  f"({ours[name]['images_per_second']:.0f} vs {theirs[name]['images_per_second']:.1f} img/s), "
                  f"{1 / rmin:.1f}x min | {verdict(1 / r >= 10, 1 / rmin >= 10)} |")


if __name__ == "__main__":
    main()
