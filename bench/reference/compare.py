#!/usr/bin/env python3
"""Ratio table of two Bench-format JSON files: ours / theirs per case (median and min), as markdown.

Usage: compare.py OURS.json THEIRS.json [--out TABLE.md]
A ratio below 1 means ours is faster. Cases present in only one file are listed without a ratio.
"""
import argparse
import json


def load(path):
    with open(path) as f:
        doc = json.load(f)
    return doc.get("machine", {}), {c["name"]: c for c in doc["cases"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ours")
    ap.add_argument("theirs")
    ap.add_argument("--out")
    args = ap.parse_args()
    m1, ours = load(args.ours)
    m2, theirs = load(args.theirs)
    lines = [f"ours: {m1}", "", f"theirs: {m2}", "",
             "| case | ours median ms | theirs median ms | ratio (median) | ratio (min) | ours GFLOP/s | theirs GFLOP/s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    def fmt(x, spec):
        return format(x, spec) if x is not None else "-"
    for name in list(ours) + [n for n in theirs if n not in ours]:
        a, b = ours.get(name), theirs.get(name)
        ratio = a["median_seconds"] / b["median_seconds"] if a and b else None
        ratio_min = a["min_seconds"] / b["min_seconds"] if a and b else None
        lines.append(f"| {name} | {fmt(a and a['median_seconds'] * 1e3, '.3f')} | {fmt(b and b['median_seconds'] * 1e3, '.3f')} "
                     f"| {fmt(ratio, '.2f')} | {fmt(ratio_min, '.2f')} | {fmt(a and a['gflops'], '.1f')} | {fmt(b and b['gflops'], '.1f')} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
