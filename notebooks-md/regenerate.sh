#!/usr/bin/env bash
# Regenerates the notebooks' outputs from the commands they show (`make notebooks`).
# Usage: notebooks-md/regenerate.sh [01 02 03 04 05]   (default: 01 02 03; 04 runs the `shift` comparison and the
# demo, about an hour on 2 cores; 05 needs the reference venvs described in bench/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DEEPLENSE_BIN:-}" ]; then
  swift build -c release -Xswiftc -target-cpu -Xswiftc native -Xswiftc -DDEEPLENSE_NATIVE --product deeplense >/dev/null
  DEEPLENSE_BIN="$(swift build -c release -Xswiftc -target-cpu -Xswiftc native -Xswiftc -DDEEPLENSE_NATIVE --show-bin-path)/deeplense"
fi
BIN="$DEEPLENSE_BIN"
parts=("${@:-01 02 03}")
parts=(${parts[@]})

run() {  # prints the command and its output as a fenced block
  echo '```'
  echo "deeplense $*"
  "$BIN" "$@" 2>/dev/null
  echo '```'
}

for part in "${parts[@]}"; do
  case "$part" in
  01)
    tmp=$(mktemp -d)
    for size in 150 64; do for domain in A B; do
      "$BIN" simulate --domain "$domain" --split train --count 18 --size "$size" --seed 1 --out "$tmp" --quiet --preview >/dev/null
      cp "$tmp/$(echo "$domain" | tr AB ab)_train_preview.png" "notebooks-md/01-simulation/model${domain}_${size}.png"
    done; done
    rm -rf "$tmp"
    echo "01: sample grids regenerated in notebooks-md/01-simulation/"
    ;;
  02)
    "$BIN" equivariance --layer lifting --save-filters notebooks-md/figures/equivariant >/dev/null
    echo "02: basis figures regenerated in notebooks-md/figures/equivariant/"
    ;;
  03)
    {
      cat notebooks-md/03-backbones.head.md
      echo
      echo "## Parameters and forward FLOPs"
      echo
      run backbones
      echo
      echo "## Invariance of the pooled features (eval mode, smooth random input, untrained weights)"
      echo
      run equivariance --layer network --group C8 --size 65 --seed 1
      run equivariance --layer network --group D8 --size 65 --seed 1
      run equivariance --layer network --group C8 --size 150 --seed 1
    } > notebooks-md/03-backbones.md
    echo "03: notebooks-md/03-backbones.md"
    ;;
  04)
    "$BIN" compare --profile shift --backbones resnet18,c8resnet --out out/shift
    "$BIN" compare --profile demo --out out/demo
    for study in shift demo; do
      mkdir -p "notebooks-md/04-domain-adaptation/$study"
      cp out/$study/results.md out/$study/results.json out/$study/*.svg "notebooks-md/04-domain-adaptation/$study/"
    done
    echo "04: results copied to notebooks-md/04-domain-adaptation/{shift,demo}/"
    ;;
  05)
    swift build -c release -Xswiftc -target-cpu -Xswiftc native -Xswiftc -DDEEPLENSE_NATIVE --product Bench >/dev/null
    bench="$(swift build -c release -Xswiftc -target-cpu -Xswiftc native -Xswiftc -DDEEPLENSE_NATIVE --show-bin-path)/Bench"
    python3 bench/reference/side_by_side.py --filter '^(sgemm-2048|resnet18-(train|eval)-(64|150)|conv-.*)$' \
      --rounds 3 --seconds 1 --bench "$bench" --out notebooks-md/05-benchmarks/convolutions-and-steps
    python3 bench/reference/side_by_side.py \
      --filter '^(sgemm-|resnet18-|c8resnet-train-(64|150)|r2conv-|filter-expand|simulate-|conv-|batchnorm-|rotate-)' \
      --rounds 3 --seconds 1 --bench "$bench" --out notebooks-md/05-benchmarks/all-cases
    python3 bench/reference/targets.py notebooks-md/05-benchmarks/convolutions-and-steps
    echo "05: results in notebooks-md/05-benchmarks/{convolutions-and-steps,all-cases}/; update the notebook's tables"
    ;;
  *) echo "unknown notebook part '$part'" >&2; exit 2 ;;
  esac
done
