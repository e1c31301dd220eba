#!/usr/bin/env bash
# Accuracy of three ways to feed augmentation to `tutorial-dropout` (issue 11): no augmentation
# (pack), augmentation rendered once (augment --copies 1, the old walkthrough), and fresh
# augmentation every epoch (train --rotate ...). 15 epochs, batch 20, seeds 0 1 2, on a
# 2,000/1,000 stand-in of the cats_and_dogs_filtered layout (scripts/make_standin.py).
# With KERAS_PYTHON (a Python with Keras 3 and a backend, e.g. make bench-keras's
# .build-keras/venv/bin/python), Keras trains the same model on the same files with
# ImageDataGenerator's augmentation too (scripts/keras_fresh_augmentation.py), for each seed
# (KERAS_CONFIGURATIONS="pack fresh" adds Keras without augmentation).
# Prints one line per run and a Markdown table of the final and best val_accuracy and the final
# accuracy (mean over the seeds), and the final val_accuracy of each seed. Takes hours on 2 cores
# (9 runs, 12 with Keras, × 15 epochs × 2,000 images). Run again with the same WORK-DIR, it skips
# the runs WORK-DIR/results.csv already holds.
#
# Usage: scripts/fresh_augmentation_accuracy.sh PATH-TO-DATAPREP [WORK-DIR]
# Environment: EPOCHS (15), SEEDS ("0 1 2"), TRAIN_PER_CLASS (1000), VALIDATION_PER_CLASS (500),
# KERAS_PYTHON (unset: dataprep only), KERAS_CONFIGURATIONS ("fresh").
set -euo pipefail
dataprep=${1:?usage: scripts/fresh_augmentation_accuracy.sh PATH-TO-DATAPREP [WORK-DIR]}
work=${2:-fresh-accuracy}
epochs=${EPOCHS:-15}
seeds=${SEEDS:-0 1 2}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
augmentation=(--rotate 40 --shift 0.2 --shear 0.2 --zoom 0.2 --flip)
mkdir -p "$work"

if [ ! -d "$work/data/train" ]; then
  python3 "$(dirname "$0")/make_standin.py" "$work/data" "${TRAIN_PER_CLASS:-1000}" "${VALIDATION_PER_CLASS:-500}" 0
fi
[ -f "$work/packed/manifest.json" ] || "$dataprep" pack "$work/data/train" --size 150x150 --out "$work/packed" >/dev/null
[ -f "$work/packed/validation/manifest.json" ] ||
  "$dataprep" pack "$work/data/validation" --size 150x150 --out "$work/packed/validation" >/dev/null

results=$work/results.csv
[ -f "$results" ] || echo "configuration,seed,final_val_accuracy,best_val_accuracy,final_accuracy" >"$results"
done_already() { grep -q "^$1,$2," "$results"; }
for seed in $seeds; do
  for configuration in pack copies1 fresh; do
    done_already "$configuration" "$seed" && continue
    run=$work/run-$configuration-$seed
    case $configuration in
      pack) args=(--shards "$work/packed") ;;
      copies1)
        # augment renders its copy with the run's seed; its validation split is packed beside it.
        rm -rf "$work/augmented"
        "$dataprep" augment "$work/data" --out "$work/augmented" --size 150x150 "${augmentation[@]}" --copies 1 --seed "$seed" >/dev/null
        args=(--shards "$work/augmented") ;;
      fresh) args=(--shards "$work/packed" "${augmentation[@]}") ;;
    esac
    "$dataprep" train "${args[@]}" --model tutorial-dropout --epochs "$epochs" --batch-size 20 --seed "$seed" \
      --run-dir "$run" --overwrite 2>/dev/null >"$run.log"
    # history.csv: epoch,loss,accuracy,val_loss,val_accuracy,...
    line=$(awk -F, 'NR > 1 { last = $5; acc = $3; if ($5 > best) best = $5 } END { printf "%s,%s,%s", last, best, acc }' "$run/history.csv")
    echo "$configuration,$seed,$line" | tee -a "$results"
  done
  if [ -n "${KERAS_PYTHON:-}" ]; then
    for configuration in ${KERAS_CONFIGURATIONS:-fresh}; do
      done_already "keras-$configuration" "$seed" && continue
      "$KERAS_PYTHON" "$(dirname "$0")/keras_fresh_augmentation.py" "$work/data" "$seed" "$configuration" "$epochs" \
        2>/dev/null >"$work/run-keras-$configuration-$seed.log"
      echo "keras-$(tail -n 1 "$work/run-keras-$configuration-$seed.log")" | tee -a "$results"
    done
  fi
done

awk -F, 'NR > 1 { n[$1]++; f[$1] += $3; b[$1] += $4; a[$1] += $5; seeds[$1] = seeds[$1] (n[$1] > 1 ? ", " : "") $3 }
  END {
    print "| training data | final val accuracy | best val accuracy | final train accuracy | per seed (final val) |"
    print "|---|---|---|---|---|"
    split("pack copies1 fresh keras-pack keras-fresh", order, " ")
    name["pack"] = "no augmentation (`pack`)"; name["copies1"] = "`augment --copies 1`"; name["fresh"] = "fresh every epoch (`train --rotate ...`)"
    name["keras-pack"] = "Keras, no augmentation"; name["keras-fresh"] = "Keras, `ImageDataGenerator` with the same arguments"
    for (i = 1; i <= 5; i++) {
      c = order[i]
      if (n[c]) printf "| %s | %.3f | %.3f | %.3f | %s |\n", name[c], f[c] / n[c], b[c] / n[c], a[c] / n[c], seeds[c]
    }
  }' "$results"
