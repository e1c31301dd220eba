#!/usr/bin/env bash
# `make demo`: the pipeline on real data, offline. Fashion-MNIST comes from Debian's
# dataset-fashion-mnist package (installed by `make deps`); everything is written under demo-output/.
set -euo pipefail
dataprep=${1:?usage: scripts/demo.sh PATH-TO-DATAPREP}
out=demo-output
export DATAPREP_HOME=$out/home
step() { printf '\n== %s\n' "$*"; }

step "dataprep fetch fashion_mnist"
data=$("$dataprep" fetch fashion_mnist)
echo "$data"

step "dataprep scan $data"
"$dataprep" scan "$data"

step "dataprep info (three of the images)"
bags=("$data"/train/Bag/*.png)
"$dataprep" info "${bags[@]:0:3}"

rm -rf "$out/shards"
for split in train validation; do
  step "dataprep pack $data/$split --size 28x28 --channels 1 --out $out/shards/$split"
  "$dataprep" pack "$data/$split" --size 28x28 --channels 1 --out "$out/shards/$split"
  "$dataprep" verify "$out/shards/$split"
done

step "dataprep inspect $out/shards/validation"
"$dataprep" inspect "$out/shards/validation"

printf '\ndemo: done (dataset in %s, shards in %s/shards)\n' "$data" "$out"
