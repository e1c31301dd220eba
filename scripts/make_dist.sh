#!/usr/bin/env bash
# `make dist`: packs a dataprep binary linked with the static Swift standard library into the
# relocatable tarball OUT/NAME.tar.gz, laid out as
#   NAME/bin/dataprep
#   NAME/share/dataprep/runtime-packages.txt   the Debian packages it needs at run time
#   NAME/share/doc/dataprep/README             how to install it
# Refuses a binary that needs a library of the Swift toolchain, or a Debian library whose package
# the list does not name (ldd and dpkg -S decide), so the tarball runs wherever those packages are.
#   scripts/make_dist.sh BINARY OUT NAME PACKAGES-FILE
set -euo pipefail
binary=${1:?usage: scripts/make_dist.sh BINARY OUT NAME PACKAGES-FILE} out=${2:?} name=${3:?} packages=${4:?}

# The libraries the binary loads, as ldd resolves them on this machine.
libraries=$(ldd "$binary")
if grep -q "not found" <<<"$libraries"; then
  echo "make_dist: $binary needs a library this machine does not have:" >&2
  grep "not found" <<<"$libraries" >&2
  exit 1
fi
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
if grep -E "$toolchain/|libswift|libFoundation|lib_FoundationICU|libdispatch|libBlocksRuntime" <<<"$libraries" >&2; then
  echo "make_dist: $binary needs the Swift toolchain's libraries above; build it with --static-swift-stdlib" >&2
  exit 1
fi
# Every library the binary names itself must come from a listed package (apt brings their own).
missing=0
for needed in $(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
  # `lib => /path (addr)`, or `/path (addr)` for the dynamic loader
  path=$(awk -v lib="$needed" '$1 == lib { print $3 } substr($1, length($1) - length(lib)) == "/" lib { print $1 }' <<<"$libraries")
  package=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "/usr$path" 2>/dev/null || true)
  package=${package%%:*}
  if [ -z "$package" ] || ! grep -qx "$package" "$packages"; then
    echo "make_dist: $needed ($path) comes from ${package:-no Debian package}, which $packages does not list" >&2
    missing=1
  fi
done
[ "$missing" = 0 ] || exit 1

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
root=$staging/$name
mkdir -p "$root/bin" "$root/share/dataprep" "$root/share/doc/dataprep"
strip --strip-unneeded -o "$root/bin/dataprep" "$binary"
cp "$packages" "$root/share/dataprep/runtime-packages.txt"
cat >"$root/share/doc/dataprep/README" <<EOF
$name: the dataprep command-line tool for Debian 12 (bookworm) on $(uname -m), with the Swift
runtime linked in: it needs no Swift toolchain, only these Debian packages:

  sudo apt-get install $(tr '\n' ' ' <"$packages")

Then run bin/dataprep from where it is, put this folder's bin/ on PATH, or copy bin/dataprep to
any folder on PATH. The documentation is at the project's README.md and docs/.
EOF
mkdir -p "$out"
tar -czf "$out/$name.tar.gz" -C "$staging" "$name"
echo "$out/$name.tar.gz: $(du -h "$out/$name.tar.gz" | cut -f1), needs: $(tr '\n' ' ' <"$packages")"
