#!/bin/sh
# Install into a scratch root and build examples/out-of-tree (a device model
# with its own Makefile) against the installed libvmcore.pc alone, then run
# it: a device written outside the tree needs nothing but the public API.
# usage: out-of-tree.sh BUILD_DIR EXAMPLE_DIR
set -eu
build=$1 example=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >/dev/null
pcdir=$(find "$tmp/root" -name libvmcore.pc -printf '%h\n' | head -n 1)
[ -n "$pcdir" ] || { echo "FAIL: libvmcore.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
# Only the example's own files: no header of the source tree can leak in.
mkdir "$tmp/src"
cp "$example"/Makefile "$example"/*.c "$example"/*.h "$tmp/src/"
make -s -C "$tmp/src" CC="${CC:-cc}"
libdir=$(dirname "$(find "$tmp/root" -name 'libvmcore.so.0' | head -n 1)")
LD_LIBRARY_PATH="$libdir" "$tmp/src/tick"
