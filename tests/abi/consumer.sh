#!/bin/sh
# Install into a scratch root and build a consumer with nothing but
# `pkg-config --cflags --libs libvmcore`, then run it.
# usage: consumer.sh BUILD_DIR CONSUMER_C EXPECTED_VERSION
set -eu
build=$1 src=$2 version=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >/dev/null
pcdir=$(find "$tmp/root" -name libvmcore.pc -printf '%h\n' | head -n 1)
[ -n "$pcdir" ] || { echo "FAIL: libvmcore.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
got=$(pkg-config --modversion libvmcore)
[ "$got" = "$version" ] || { echo "FAIL: pkg-config says $got"; exit 1; }
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$tmp/consumer" "$src" \
	$(pkg-config --cflags --libs libvmcore)
libdir=$(dirname "$(find "$tmp/root" -name 'libvmcore.so.0' | head -n 1)")
LD_LIBRARY_PATH="$libdir" "$tmp/consumer" "$version"
