#!/usr/bin/env python3
"""Merges side_by_side.py runs (a full run, then re-runs of the noisy cases) into one pair of JSON files.

Usage: merge_runs.py OUT_DIR RUN_DIR [RUN_DIR ...]
For each side (ours.json, theirs.json) and case, the rounds of every run are pooled: median of all per-round
medians, minimum of all minima, load averages concatenated; GFLOP/s and images/s rescaled to the pooled median.
Then writes OUT_DIR/ratios.md with compare.py.
"""
import json
import os
import statistics
import subprocess
import sys


def pool(cases):
    first = dict(cases[0])
    medians = [m for c in cases for m in c.get("round_medians", [c["median_seconds"]])]
    med = statistics.median(medians)
    scale = first["median_seconds"] / med
    for key in ("gflops", "images_per_second"):
        if first.get(key) is not None:
            first[key] *= scale
    first.update(median_seconds=med, min_seconds=min(c["min_seconds"] for c in cases),
                 repeats=sum(c["repeats"] for c in cases), round_medians=medians,
                 load_average=[x for c in cases for x in c.get("load_average", [])])
    peaks = [c["peak_memory_bytes"] for c in cases if c.get("peak_memory_bytes") is not None]
    first["peak_memory_bytes"] = max(peaks) if peaks else None
    return first


def main():
    out, runs = sys.argv[1], sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    for side in ("ours", "theirs"):
        merged, machine = {}, {}
        for run in runs:
            with open(os.path.join(run, f"{side}.json")) as f:
                doc = json.load(f)
            machine = doc.get("machine", machine)
            for c in doc["cases"]:
                merged.setdefault(c["name"], []).append(c)
        with open(os.path.join(out, f"{side}.json"), "w") as f:
            json.dump({"machine": machine, "cases": [pool(v) for v in merged.values()]}, f, indent=2, sort_keys=True)
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable, os.path.join(here, "compare.py"), os.path.join(out, "ours.json"),
                    os.path.join(out, "theirs.json"), "--out", os.path.join(out, "ratios.md")], check=True,
                   stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
