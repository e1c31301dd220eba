#!/usr/bin/env bash
# `make demo`: the whole pipeline on real data, offline. Fashion-MNIST comes from Debian's
# dataset-fashion-mnist package (installed by `make deps`); everything is written under demo-output/.
set -euo pipefail
dataprep=${1:?usage: scripts/demo.sh PATH-TO-DATAPREP}
out=demo-output
epochs=${DEMO_EPOCHS:-5}
export DATAPREP_HOME=$out/home
# oneDNN runs on OpenMP: sleeping instead of spinning at barriers keeps training fast even when
# another process wants a core (spinning threads then stall each other).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
step() { printf '\n== %s\n' "$*"; }

step "dataprep fetch fashion_mnist"
data=$("$dataprep" fetch fashion_mnist)
echo "$data"

step "dataprep scan $data"
"$dataprep" scan "$data"

rm -rf "$out/shards" "$out/run"
step "dataprep pack $data/train --size 28x28 --channels 1 --out $out/shards (and the validation split)"
"$dataprep" pack "$data/train" --size 28x28 --channels 1 --out "$out/shards"
"$dataprep" pack "$data/validation" --size 28x28 --channels 1 --out "$out/shards/validation"
"$dataprep" verify "$out/shards"
"$dataprep" verify "$out/shards/validation"

step "dataprep preview: what epochs 1-5 of training sample 0 look like"
first=("$data"/train/*/*.png)
"$dataprep" preview "${first[0]}" --shift 0.08 --zoom 0.08 --flip --size 28x28 --seed 1 --epoch 1 --count 5 --out "$out/epochs.png"

# Fresh augmentation: new random shifts, zooms and flips for every image in every epoch, rendered
# by the reader while the model trains, instead of copies stored once.
step "dataprep train --shards $out/shards --model fashion --epochs $epochs --batch-size 64 --shift 0.08 --zoom 0.08 --flip --run-dir $out/run"
"$dataprep" train --shards "$out/shards" --model fashion --epochs "$epochs" --batch-size 64 --seed 1 --run-dir "$out/run" \
  --shift 0.08 --zoom 0.08 --flip --checkpoint 'best.dpw' --monitor val_accuracy --save-best-only

step "dataprep evaluate --model $out/run/best.dpw --shards $out/shards/validation"
"$dataprep" evaluate --model "$out/run/best.dpw" --shards "$out/shards/validation" | tee "$out/evaluation.txt"

step "dataprep predict (the first test image of three classes)"
samples=()
for class in Sneaker Trouser Bag; do
  files=("$data"/validation/$class/*.png)
  samples+=("${files[0]}")
done
"$dataprep" predict --model "$out/run/best.dpw" "${samples[@]}"

accuracy=$(awk 'NR == 1 { print $4 }' "$out/evaluation.txt")
printf '\ndemo: done. Final validation accuracy %s.\n' "$accuracy"
printf '  model:  %s\n  curves: %s\n  history: %s\n  shards: %s\n' \
  "$out/run/best.dpw" "$out/run/learning-curves.svg" "$out/run/history.csv" "$out/shards"
