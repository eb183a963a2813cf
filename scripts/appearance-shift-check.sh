#!/usr/bin/env bash
# Checks that every adaptation method beats source-only on random appearance shifts of Model A: for each draw, Model
# A (1,200 training / 600 test images, 64x64) is observed with another PSF width, gain, sky level and SNR, drawn at
# random, and `deeplense compare --profile shift` runs ResNet18 with one seed on it.
# Usage: scripts/appearance-shift-check.sh OUT_DIR [DRAWS=3] [RANDOM_SEED=1]   (about 10 minutes per draw on 2 cores)
set -euo pipefail
out=${1:?usage: $0 OUT_DIR [DRAWS] [RANDOM_SEED]}
draws=${2:-3}
seed=${3:-1}
bin=${DEEPLENSE_BIN:-.build/release/deeplense}
mkdir -p "$out"
for draw in $(seq 1 "$draws"); do
  read -r psf gain sky snr < <(python3 -c "
import random; r = random.Random($seed * 1000 + $draw)
print(f'{r.uniform(0.05, 0.2):.3f} {r.uniform(0.5, 2.0):.2f} {r.uniform(-0.2, 0.5):.2f} {r.uniform(8, 40):.1f}')")
  data="$out/draw-$draw/data"
  if [ ! -f "$data/b_test_labels.npy" ]; then
    for split in train:1200 test:600; do
      "$bin" simulate --domain A --split "${split%%:*}" --count "${split##*:}" --size 64 --seed 2026 --out "$data" --prefix a --quiet
      "$bin" simulate --domain A --split "${split%%:*}" --count "${split##*:}" --size 64 --seed 2027 --out "$data" --prefix b \
        --psf-sigma "$psf" --gain "$gain" --sky="$sky" --snr "$snr" --quiet
    done
  fi
  echo "draw $draw: psf sigma $psf\", gain $gain, sky $sky, SNR $snr"
  "$bin" compare --profile shift --backbones resnet18 --seeds 1 --data "$data" --out "$out/draw-$draw" --quiet \
    | grep -A4 "^## Target test\|^## Gain" || true
done
