#!/usr/bin/env python3
"""Runs our Bench and the references (PyTorch, e2cnn, lenstronomy) back to back, case by case, and writes the
ratio table (ours / theirs per case).

Usage: side_by_side.py [--filter REGEX] [--threads 2] [--seconds 1] [--rounds 2] [--out DIR]
                       [--bench PATH] [--torch-python PATH] [--lens-python PATH]

For every case name of `Bench --list` (filtered), each round runs our case in its own Bench process, then the
reference of that case in its own Python process, so a drift of the machine load hits both sides alike:
  r2conv-*, filter-expand-*, rotate-fft-*  -> e2cnn_bench.py (torch venv)
  simulate-<side>                          -> lenstronomy_sim.py (lens venv, --processes = threads)
  c8resnet-*                               -> none (ours only: e2cnn has no C8 ResNet with our definition)
  everything else                          -> torch_bench.py
Each process is one median-of-repeats measurement; over rounds we keep the median of the medians and the
minimum of the minima. The 1-minute load average is read from /proc/loadavg just before every process and
stored with the case (`load_average`: one value per round). Writes DIR/ours.json, DIR/theirs.json (Bench layout
plus `load_average`) and DIR/ratios.md (compare.py). Never run in CI.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import ratios  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def reference_for(name):
    if re.match(r"^(r2conv-|filter-expand-|rotate-fft-)", name):
        return "e2cnn"
    if name.startswith("simulate-"):
        return "lenstronomy"
    if name.startswith("c8resnet-"):
        return None
    return "torch"


def run_json(cmd, env=None):
    """Runs `cmd` (which must accept `--json FILE` appended) and returns its single case, or None on failure."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        path = tmp.name
    try:
        proc = subprocess.run(cmd + ["--json", path], capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            sys.stderr.write(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}\n")
            return None, None
        with open(path) as f:
            doc = json.load(f)
        return doc.get("machine", {}), (doc["cases"][0] if doc["cases"] else None)
    finally:
        os.unlink(path)


def merge(rounds):
    """Median of the per-round medians, min of the minima; derived rates from the merged median."""
    first = rounds[0]
    med = statistics.median(r["median_seconds"] for r in rounds)
    out = dict(first)
    out["median_seconds"] = med
    out["min_seconds"] = min(r["min_seconds"] for r in rounds)
    out["repeats"] = sum(r["repeats"] for r in rounds)
    out["round_medians"] = [r["median_seconds"] for r in rounds]
    out["load_average"] = [r["load_average"] for r in rounds]
    scale = first["median_seconds"] / med
    for key in ("gflops", "images_per_second"):
        if first.get(key) is not None:
            out[key] = first[key] * scale
    peaks = [r["peak_memory_bytes"] for r in rounds if r.get("peak_memory_bytes") is not None]
    out["peak_memory_bytes"] = max(peaks) if peaks else None
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--filter", default=".")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", default="/tmp/deeplense-bench")
    ap.add_argument("--bench", default=os.path.join(ROOT, ".build", "release", "Bench"))
    ap.add_argument("--torch-python", default="/work/venv-torch/bin/python")
    ap.add_argument("--lens-python", default="/work/venv-lens/bin/python")
    ap.add_argument("--lens-images", type=int, default=16, help="lenstronomy images per timed run")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    names = subprocess.run([args.bench, "--list", "--filter", args.filter], capture_output=True, text=True,
                           check=True).stdout.split()
    ours, theirs = {}, {}
    machines = {"ours": {}, "torch": {}, "e2cnn": {}, "lenstronomy": {}}
    for name in names:
        ref = reference_for(name)
        for rnd in range(args.rounds):
            load = load_average()
            m, case = run_json([args.bench, "--filter", f"^{name}$", "--threads", str(args.threads),
                                "--seconds", str(args.seconds)])
            if case:
                machines["ours"] = m
                case["load_average"] = load
                ours.setdefault(name, []).append(case)
            if ref is None:
                continue
            load = load_average()
            if ref == "lenstronomy":
                side = name.split("-")[1]
                cmd = [args.lens_python, os.path.join(HERE, "lenstronomy_sim.py"), "--sizes", side,
                       "--images", str(args.lens_images), "--processes", str(args.threads), "--repeats", "3"]
            else:
                script = "e2cnn_bench.py" if ref == "e2cnn" else "torch_bench.py"
                cmd = [args.torch_python, os.path.join(HERE, script), "--filter", f"^{name}$",
                       "--threads", str(args.threads), "--seconds", str(args.seconds)]
            m, case = run_json(cmd)
            if case:
                machines[ref] = m
                case["load_average"] = load
                case["reference"] = ref
                theirs.setdefault(name, []).append(case)
        a = ours.get(name) and merge(ours[name])
        b = theirs.get(name) and merge(theirs[name])
        ratio = f"{ratios(a, b)[0]:.2f}" if a and b else "-"
        print(f"{name:40} ours {a['median_seconds'] * 1e3 if a else float('nan'):10.3f} ms  "
              f"{ref or '-':12} {b['median_seconds'] * 1e3 if b else float('nan'):10.3f} ms  ratio {ratio}  "
              f"load {[c['load_average'] for c in ours.get(name, [])]}", flush=True)
    for side, cases, machine in (("ours", ours, machines["ours"]),
                                 ("theirs", theirs, {k: v for k, v in machines.items() if k != "ours"})):
        with open(os.path.join(args.out, f"{side}.json"), "w") as f:
            json.dump({"machine": machine, "cases": [merge(v) for v in cases.values()]}, f, indent=2, sort_keys=True)
    subprocess.run([sys.executable, os.path.join(HERE, "compare.py"), os.path.join(args.out, "ours.json"),
                    os.path.join(args.out, "theirs.json"), "--out", os.path.join(args.out, "ratios.md")], check=True)


if __name__ == "__main__":
    main()
