#!/usr/bin/env python3
"""Ratio table of two Bench-format JSON files: ours / theirs per case (median and min), as markdown.

Usage: compare.py OURS.json THEIRS.json [--out TABLE.md]
A ratio below 1 means ours is faster. Where both sides report images/s, the ratio is of the time per image
(theirs images/s / ours images/s), since a run may process a different number of images on each side
(simulate-*: 64 images per run for ours, --lens-images for lenstronomy); elsewhere it is of the times.
Cases present in only one file are listed without a ratio. `load` is the 1-minute load average read before
each of our runs (side_by_side.py), when present.
"""
import argparse
import json


def load(path):
    with open(path) as f:
        doc = json.load(f)
    return doc.get("machine", {}), {c["name"]: c for c in doc["cases"]}


def ratios(a, b):
    """(ratio of medians, ratio of minima), ours / theirs, per image where both sides count images."""
    if not (a and b):
        return None, None
    if a.get("images_per_second") and b.get("images_per_second"):
        ours_images = a["images_per_second"] * a["median_seconds"]
        theirs_images = b["images_per_second"] * b["median_seconds"]
        return (b["images_per_second"] / a["images_per_second"],
                (a["min_seconds"] / ours_images) / (b["min_seconds"] / theirs_images))
    return a["median_seconds"] / b["median_seconds"], a["min_seconds"] / b["min_seconds"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ours")
    ap.add_argument("theirs")
    ap.add_argument("--out")
    args = ap.parse_args()
    m1, ours = load(args.ours)
    m2, theirs = load(args.theirs)
    lines = [f"ours: {m1}", "", f"theirs: {m2}", "",
             "| case | ours median ms | theirs median ms | ratio (median) | ratio (min) | ours GFLOP/s | theirs GFLOP/s "
             "| ours img/s | theirs img/s | ours peak MiB | theirs peak MiB | load |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]

    def fmt(x, spec):
        return format(x, spec) if x is not None else "-"

    def mib(c):
        return c and c.get("peak_memory_bytes") and c["peak_memory_bytes"] / 2 ** 20

    for name in list(ours) + [n for n in theirs if n not in ours]:
        a, b = ours.get(name), theirs.get(name)
        ratio, ratio_min = ratios(a, b)
        load_values = (a or {}).get("load_average")
        load_text = "/".join(f"{x:.1f}" for x in load_values) if isinstance(load_values, list) else "-"
        lines.append(f"| {name} | {fmt(a and a['median_seconds'] * 1e3, '.3f')} | {fmt(b and b['median_seconds'] * 1e3, '.3f')} "
                     f"| {fmt(ratio, '.2f')} | {fmt(ratio_min, '.2f')} | {fmt(a and a['gflops'], '.1f')} | {fmt(b and b['gflops'], '.1f')} "
                     f"| {fmt(a and a.get('images_per_second'), '.1f')} | {fmt(b and b.get('images_per_second'), '.1f')} "
                     f"| {fmt(mib(a), '.0f')} | {fmt(mib(b), '.0f')} | {load_text} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
