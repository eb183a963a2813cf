#!/usr/bin/env bash
# End-to-end check of data-parallel training over Open MPI: on a tiny simulated data set (64x64, 48 images per domain),
# `deeplense train --distributed` over 2 ranks (mpirun) must give the model and checkpoint of a one-process run with the
# same global batch (16) to round-off after one optimizer step (source-only; ADDA with its source pre-training), a
# 2-epoch run must keep its ranks in agreement (the trainer checks every epoch), and a method or batch that cannot be
# split must be refused with one line. As root it also launches the source-only run with `srun --mpi=pmix -n 2` on the
# loopback Slurm cluster (scripts/slurm-loopback.sh) and compares it the same way.
#
#   scripts/mpi-check.sh path/to/deeplense      (a deeplense built with `--traits MPI`; `make mpi-check` builds it)
#
# Tolerance: source-only, 1e-5 on every value (parameters, batch-norm statistics, Adam moments); the one step differs
# from the one-process run only by summation order (measured: 4.8e-7 at most). ADDA: Adam's first step moves every
# target-encoder weight by +-1e-5, the sign of its gradient, so a weight whose gradient is within round-off of zero
# can land 2e-5 away, and the batch-norm statistics re-estimated on the target set follow (measured: 698 of 11.3 M
# values differ by more than 1e-5, largest 1.4e-4 in a running variance of 8.5); it must agree within 1e-5 on all
# but 0.1 % of the values. Longer runs are compared in-process on a small network (DataParallelTrainingTests).
set -euo pipefail
cd "$(dirname "$0")/.."

DEEPLENSE=$(realpath "${1:?usage: $0 path/to/deeplense (built with --traits MPI)}")
WORK=${MPI_CHECK_DIR:-/tmp/deeplense-mpi-check}
MPIRUN=(mpirun --oversubscribe -np 2)
if [ "$(id -u)" = 0 ]; then MPIRUN+=(--allow-run-as-root); fi
TOLERANCE=1e-5

fail() { echo "mpi-check: FAILED: $*" >&2; exit 1; }

rm -rf "$WORK"
mkdir -p "$WORK"
"$DEEPLENSE" simulate --domain A --count 48 --size 64 --seed 1 --out "$WORK/data/a" >/dev/null
"$DEEPLENSE" simulate --domain B --count 48 --size 64 --seed 2 --out "$WORK/data/b" >/dev/null
"$DEEPLENSE" simulate --domain B --split test --count 24 --size 64 --seed 3 --out "$WORK/data/b" >/dev/null
RUN=(--source "$WORK/data/a" --target "$WORK/data/b" --batch 16 --seed 4 --threads 1)

declare -A ALLOWED=([source-only]=0 [adda]=1e-3)
for method in source-only adda; do
    "$DEEPLENSE" train --method "$method" "${RUN[@]}" --epochs 1 --max-iterations 1 --quiet --out "$WORK/one-process-$method" >/dev/null
    "${MPIRUN[@]}" "$DEEPLENSE" train --method "$method" "${RUN[@]}" --epochs 1 --max-iterations 1 --distributed \
        --out "$WORK/two-ranks-$method" >"$WORK/two-ranks-$method.log" 2>&1 \
        || { cat "$WORK/two-ranks-$method.log"; fail "the 2-rank $method run failed"; }
    for file in best checkpoint; do
        "$DEEPLENSE" diff "$WORK/one-process-$method/$file.safetensors" "$WORK/two-ranks-$method/$file.safetensors" \
            --tolerance "$TOLERANCE" --allowed-fraction "${ALLOWED[$method]}" --top 3 || fail "$method: 2 ranks differ from one process in $file.safetensors"
    done
done
"$DEEPLENSE" diff "$WORK/one-process-adda/source-pretraining/best.safetensors" \
    "$WORK/two-ranks-adda/source-pretraining/best.safetensors" --tolerance "$TOLERANCE" --top 0 \
    || fail "adda: the source pre-training differs"

"${MPIRUN[@]}" "$DEEPLENSE" train --method source-only "${RUN[@]}" --epochs 2 --max-iterations 3 --distributed \
    --out "$WORK/two-epochs" >"$WORK/two-epochs.log" 2>&1 || { cat "$WORK/two-epochs.log"; fail "the 2-epoch run failed"; }
grep -h "collectives" "$WORK/two-epochs.log"

if [ "$(id -u)" = 0 ]; then
    export SLURM_LOOPBACK_DIR=${SLURM_LOOPBACK_DIR:-/tmp/deeplense-slurm}
    export SLURM_CONF=$SLURM_LOOPBACK_DIR/slurm.conf
    scripts/slurm-loopback.sh up
    trap 'scripts/slurm-loopback.sh down' EXIT
    srun --mpi=pmix -n 2 --cpus-per-task 1 "$DEEPLENSE" train --method source-only "${RUN[@]}" --epochs 1 --max-iterations 1 \
        --distributed --out "$WORK/srun-source-only" >"$WORK/srun-source-only.log" 2>&1 \
        || { cat "$WORK/srun-source-only.log"; fail "the 2-task srun run failed"; }
    "$DEEPLENSE" diff "$WORK/one-process-source-only/best.safetensors" "$WORK/srun-source-only/best.safetensors" \
        --tolerance "$TOLERANCE" --top 0 || fail "srun: 2 tasks differ from one process"
fi

refused() {  # a run that must stop with a one-line reason containing $1
    local expected=$1; shift
    if "${MPIRUN[@]}" "$DEEPLENSE" train "${RUN[@]}" --epochs 1 --distributed "$@" --out "$WORK/refused" >"$WORK/refused.log" 2>&1; then
        fail "a run with $* was not refused"
    fi
    grep -q "$expected" "$WORK/refused.log" || { cat "$WORK/refused.log"; fail "a run with $* was refused without '$expected'"; }
    rm -rf "$WORK/refused"
}
refused "distributed trains source-only, adda and adabn" --method self-ensemble
refused "does not split evenly over 2 processes" --method source-only --batch 15 --force
echo "mpi-check: 2 ranks (mpirun; srun --mpi=pmix as root) reproduce one process (source-only within $TOLERANCE, ADDA within $TOLERANCE but 0.1 % of the values); unsplittable runs are refused"
