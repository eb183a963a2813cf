#!/usr/bin/env bash
# End-to-end check of the comparison grid on Slurm: brings up the loopback cluster (scripts/slurm-loopback.sh), emits
# a tiny grid (demo-sized data, 1 epoch, resnet18, source-only and AdaBN, seed 1), submits it with submit.sh --wait,
# checks that every job completed and that results.json equals the same comparison run serially (run times and data
# paths aside), resubmits it (every cell is skipped as finished), then cancels jobs and stops the daemons.
#
#   scripts/slurm-grid-check.sh path/to/deeplense        (as root; `make slurm-check` builds the binary and runs this)
#
# SLURM_CHECK_DATA=dir uses the DeepLense-layout files in dir (prefixes a/b) instead of simulating demo-sized data:
# a quick run with a few images, e.g. from `deeplense simulate --count 30`.
set -euo pipefail
cd "$(dirname "$0")/.."

DEEPLENSE=$(realpath "${1:?usage: $0 path/to/deeplense}")
WORK=${SLURM_CHECK_DIR:-/tmp/deeplense-slurm-check}
export SLURM_LOOPBACK_DIR=${SLURM_LOOPBACK_DIR:-/tmp/deeplense-slurm}
export SLURM_CONF=$SLURM_LOOPBACK_DIR/slurm.conf
GRID=(--profile demo --epochs 1 --backbones resnet18 --methods source-only,adabn --seeds 1)
if [ -n "${SLURM_CHECK_DATA:-}" ]; then GRID+=(--data "$(realpath "$SLURM_CHECK_DATA")"); fi

fail() { echo "slurm-grid-check: FAILED: $*" >&2; exit 1; }
show_logs() { for f in "$WORK"/grid/slurm/logs/*; do echo "== $f"; tail -n 20 "$f"; done; }

if ! command -v jq >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null
fi
rm -rf "$WORK"
mkdir -p "$WORK"
scripts/slurm-loopback.sh up
trap 'scripts/slurm-loopback.sh down' EXIT

start=$(date +%s)
"$DEEPLENSE" compare "${GRID[@]}" --out "$WORK/grid" --emit slurm --cpus-per-task 1 --max-parallel 2 --time 30
"$WORK/grid/slurm/submit.sh" --wait || { show_logs; fail "the collect job did not succeed"; }
echo "grid on Slurm: $(( $(date +%s) - start )) s"
states=$(sed -n 's/.* Name=\(deeplense-[a-z]*\) JobState=\([A-Z]*\).*/\1 \2/p' "$SLURM_LOOPBACK_DIR/jobcomp.txt" | sort | uniq -c)
echo "$states"
if grep -v ' COMPLETED$' <<<"$states" | grep -q .; then show_logs; fail "a job did not complete"; fi
for job in prepare supervised adaptation collect; do grep -q "deeplense-$job COMPLETED" <<<"$states" || fail "no $job job ran"; done

start=$(date +%s)
"$DEEPLENSE" compare "${GRID[@]}" --out "$WORK/serial" --threads 1 --quiet >/dev/null
echo "serial comparison: $(( $(date +%s) - start )) s"
normalise() { jq -S 'del(.dataDirectory, .dataOrigin) | .runs[].seconds = 0 | .cells[].seconds = 0' "$1"; }
if ! diff <(normalise "$WORK/serial/results.json") <(normalise "$WORK/grid/results.json"); then
    fail "results.json of the grid differs from the serial run"
fi
jq -r '.runs[] | "\(.backbone) \(.method) seed \(.seed): \(.accuracy) % / \(.aurocMacro)"' "$WORK/grid/results.json"

# Resubmission (e.g. after a time-out) is safe: finished cells are skipped.
"$WORK/grid/slurm/submit.sh" --wait >/dev/null || { show_logs; fail "the resubmitted grid did not succeed"; }
skipped=$(cat "$WORK"/grid/slurm/logs/deeplense-supervised-* "$WORK"/grid/slurm/logs/deeplense-adaptation-* | grep -c 'finished earlier' || true)
[ "$skipped" = 2 ] || fail "a resubmitted cell was trained again ($skipped of 2 skipped)"
echo "slurm-grid-check: grid results equal the serial run; resubmission skipped every finished cell"
