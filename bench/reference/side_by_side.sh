#!/usr/bin/env bash
# Runs the Swift Bench and the PyTorch reference back to back, case by case (interleaved, so machine load
# drifts affect both alike), with the same thread count, then writes a ratio table (ours / theirs).
#
# Usage: bench/reference/side_by_side.sh [REGEX] [THREADS] [SECONDS]
# Needs: a release Bench (swift build -c release --product Bench) and a venv with torch at $VENV
# (python3 -m venv /work/venv-torch && /work/venv-torch/bin/pip install torch). Never run in CI.
set -euo pipefail
FILTER=${1:-'^(sgemm|conv|batchnorm)-'}
THREADS=${2:-2}
SECONDS_PER_CASE=${3:-1}
VENV=${VENV:-/work/venv-torch}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=${BENCH:-$(cd "$ROOT" && swift build -c release --show-bin-path)/Bench}
OUT=${OUT:-/tmp/deeplense-bench}
mkdir -p "$OUT" "$OUT/parts"
rm -f "$OUT"/parts/*.json
for name in $("$BENCH" --list --filter "$FILTER"); do
  "$BENCH" --filter "^${name}\$" --threads "$THREADS" --seconds "$SECONDS_PER_CASE" --json "$OUT/parts/ours-$name.json" | tail -1
  "$VENV/bin/python" "$ROOT/bench/reference/torch_bench.py" --filter "^${name}\$" --threads "$THREADS" \
    --seconds "$SECONDS_PER_CASE" --json "$OUT/parts/torch-$name.json" | tail -1
done
"$VENV/bin/python" - "$OUT" <<'PY'
import glob, json, sys
out = sys.argv[1]
for side in ("ours", "torch"):
    parts = sorted(glob.glob(f"{out}/parts/{side}-*.json"))
    docs = [json.load(open(p)) for p in parts]
    merged = {"machine": docs[0]["machine"] if docs else {}, "cases": [c for d in docs for c in d["cases"]]}
    json.dump(merged, open(f"{out}/{side}.json", "w"), indent=2, sort_keys=True)
PY
"$VENV/bin/python" "$ROOT/bench/reference/compare.py" "$OUT/ours.json" "$OUT/torch.json" --out "$OUT/ratios.md"
