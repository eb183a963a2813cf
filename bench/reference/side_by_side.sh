#!/usr/bin/env bash
# Runs the Swift Bench and the references (PyTorch, e2cnn, lenstronomy) back to back, case by case (interleaved,
# so machine load drifts affect both alike), with the same thread count, then writes a ratio table
# (ours / theirs) to $OUT/ratios.md. A thin wrapper around side_by_side.py (see its docstring).
#
# Usage: bench/reference/side_by_side.sh [REGEX] [THREADS] [SECONDS] [ROUNDS]
# Needs: a release Bench (swift build -c release -Xswiftc -target-cpu -Xswiftc native -Xswiftc -DDEEPLENSE_NATIVE --product Bench), a venv with torch + e2cnn at $VENV and one
# with lenstronomy at $LENS_VENV (see bench/README.md). Never run in CI.
set -euo pipefail
FILTER=${1:-'.'}
THREADS=${2:-2}
SECONDS_PER_CASE=${3:-1}
ROUNDS=${4:-2}
VENV=${VENV:-/work/venv-torch}
LENS_VENV=${LENS_VENV:-/work/venv-lens}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=${BENCH:-$(cd "$ROOT" && swift build -c release -Xswiftc -target-cpu -Xswiftc native --show-bin-path)/Bench}
OUT=${OUT:-/tmp/deeplense-bench}
exec python3 "$ROOT/bench/reference/side_by_side.py" --filter "$FILTER" --threads "$THREADS" \
  --seconds "$SECONDS_PER_CASE" --rounds "$ROUNDS" --out "$OUT" --bench "$BENCH" \
  --torch-python "$VENV/bin/python" --lens-python "$LENS_VENV/bin/python"
