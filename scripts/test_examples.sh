#!/usr/bin/env bash
# `make test-torch` / `make test-keras`: examples/train_FRAMEWORK.py trains the tutorial CNN from the
# engine's loader, with the tutorial's augmentation, on examples/make_dataset.py's stripes (64×64,
# 600 training and 200 validation images); its last validation accuracy must reach 0.8 (chance is
# 0.5; dataprep's own trainer reaches 0.98 on this set in 4 epochs).
set -euo pipefail
framework=${1:?usage: scripts/test_examples.sh pytorch|keras PYTHON DATAPREP ENGINE}
python=${2:?} dataprep=${3:?} engine=${4:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 examples/make_dataset.py "$work/data" --train 300 --validation 100 --size 64 > /dev/null
"$dataprep" pack "$work/data/train" --size 64x64 --out "$work/shards"
"$dataprep" pack "$work/data/validation" --size 64x64 --out "$work/shards/validation"
DATAPREP_ENGINE=$engine PYTHONPATH=python TF_CPP_MIN_LOG_LEVEL=2 \
  "$python" "examples/train_$framework.py" "$work/shards" --epochs 5 --expect-accuracy 0.8
echo "test-examples: $framework learned from the loader"
