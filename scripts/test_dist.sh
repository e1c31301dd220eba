#!/usr/bin/env bash
# `make test-dist`: the tarball `make dist` writes runs with nothing of the Swift toolchain. It is
# extracted into an empty folder and run from there with a bare environment (PATH=/usr/bin:/bin,
# no LD_LIBRARY_PATH, HOME and DATAPREP_HOME in the folder): ldd must list no library of the toolchain, the dynamic
# loader must open none (LD_DEBUG), and the whole pipeline must work: fetch of an archive,
# scan, pack, train, evaluate, predict, verify, export.
#   scripts/test_dist.sh TARBALL
set -euo pipefail
tarball=$(readlink -f "${1:?usage: scripts/test_dist.sh TARBALL}")
examples=$(readlink -f "$(dirname "$0")/../examples")
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
tar -xzf "$tarball"
name=$(basename "$tarball" .tar.gz)
dataprep=$work/$name/bin/dataprep
passed=0
pass() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*" >&2; exit 1; }
bare() { env -i PATH=/usr/bin:/bin HOME="$work" DATAPREP_HOME="$work/home" DATAPREP_SEARCH_PATH= "$@"; }

[ "$(ls "$work")" = "$name" ] || fail "the tarball holds more than $name/"
[ -f "$work/$name/share/dataprep/runtime-packages.txt" ] || fail "no share/dataprep/runtime-packages.txt"
if ldd "$dataprep" | grep -E "$toolchain|libswift|libFoundation|not found"; then fail "ldd lists the toolchain's libraries"; fi
pass "ldd lists no library of $toolchain: $(ldd "$dataprep" | awk '{print $1}' | tr '\n' ' ')"
while read -r package; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || fail "$package is not installed here"
done <"$work/$name/share/dataprep/runtime-packages.txt"
pass "every package of runtime-packages.txt is installed"

if bare LD_DEBUG=files "$dataprep" --version 2>&1 | grep -E "$toolchain|libswift"; then fail "the loader opens toolchain files"; fi
version=$(bare "$dataprep" --version)
pass "bare environment: dataprep --version is $version, and the loader opens nothing of $toolchain"

mkdir -p archive
bare /usr/bin/python3 "$examples/make_dataset.py" archive/stripes --train 40 --validation 20 --size 32 >/dev/null
(cd archive && tar -czf ../stripes.tar.gz stripes)
data=$(bare "$dataprep" fetch "file://$work/stripes.tar.gz" 2>fetch.err) || { cat fetch.err >&2; fail "fetch"; }
[ "$data" = "$work/home/datasets/stripes" ] || fail "fetch printed $data"
pass "fetch file://.../stripes.tar.gz (libcurl, libarchive) → $data"
bare "$dataprep" scan "$data" >scan.txt && grep -q "Found 80 images belonging to 2 classes" scan.txt || fail "scan"
bare "$dataprep" pack "$data/train" --size 32x32 --out out >/dev/null
bare "$dataprep" pack "$data/validation" --size 32x32 --out out/validation >/dev/null
bare "$dataprep" verify out >/dev/null
pass "scan, pack (TurboJPEG, libpng) and verify"
bare "$dataprep" train --shards out --model mlp --epochs 2 --batch-size 20 --flip --run-dir run >train.txt 2>train.err \
  || { cat train.err >&2; fail "train"; }
bare "$dataprep" evaluate --model run --shards out/validation | grep -q "^loss " || fail "evaluate"
first=$(ls "$data"/validation/horizontal/* | head -1)
bare "$dataprep" predict --model run "$first" | grep -q "horizontal\|vertical" || fail "predict"
bare "$dataprep" export --model run --format onnx --out model.onnx >/dev/null || fail "export"
pass "train (oneDNN), evaluate, predict and export: $(tail -1 train.txt)"
echo "test-dist: $passed checks passed on $tarball"
