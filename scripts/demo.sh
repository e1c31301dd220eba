#!/usr/bin/env bash
# `make demo`: runs dataprep on data it makes here. Today that is `dataprep info` over a few
# generated images, good and bad; each later stage of the pipeline joins it.
set -euo pipefail
dataprep=${1:?usage: scripts/demo.sh PATH-TO-DATAPREP}
out=demo-output/images
rm -rf "$out"
python3 "$(dirname "$0")/make-demo-images.py" "$out"

echo
echo "== dataprep info $out/good/*"
"$dataprep" info "$out"/good/*

echo
echo "== dataprep info $out/bad/*   (each file is named with the reason; exit status 1)"
status=0
"$dataprep" info "$out"/bad/* || status=$?
if [ "$status" -ne 1 ]; then
  echo "demo: expected exit status 1 for the bad files, got $status" >&2
  exit 1
fi
echo
echo "demo: done (images in $out)"
