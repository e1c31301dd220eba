#!/usr/bin/env bash
# Opt-in check (make test-onnx): onnxruntime's outputs on the exported ONNX models must match
# `dataprep predict` within 1e-4, for the tutorial, fashion and mlp presets. Installs onnx,
# onnxruntime and numpy from PyPI into .build-onnx/venv (once); skips, with the reason, when pip
# cannot install them. The work (generated images, shards, runs, models) goes to a temporary folder.
set -euo pipefail
dataprep=$(realpath "${1:?usage: scripts/test_onnx.sh PATH-TO-DATAPREP}")
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.build-onnx/venv"
skip() { echo "test-onnx: skipped: $*"; exit 0; }

if ! "$venv/bin/python" -c 'import onnx, onnxruntime, numpy' 2>/dev/null; then
  python3 -m venv "$venv" || skip "python3 -m venv failed"
  "$venv/bin/pip" install --quiet --disable-pip-version-check onnx onnxruntime numpy \
    || skip "pip cannot install onnx, onnxruntime and numpy"
fi

work=$(mktemp -d /tmp/dataprep-onnx.XXXXXX)
trap 'rm -rf "$work"' EXIT
OMP_WAIT_POLICY=PASSIVE "$venv/bin/python" "$root/scripts/test_onnx.py" "$dataprep" "$work"
