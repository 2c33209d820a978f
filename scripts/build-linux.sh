#!/bin/sh
# Build the RISC-V Linux 6.1 kernel Image that the linux test suite boots,
# from Debian's linux-source-6.1 with gcc-riscv64-linux-gnu and the config
# fragment tests/linux/linux.config on top of tinyconfig.  The Image is cached
# outside the build directory, keyed by a hash of the fragment and this
# script, so a machine builds it once (about 5-10 minutes on two cores):
#
#   ${LIBVMCORE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libvmcore}/linux-6.1-HASH/Image
#
#   scripts/build-linux.sh          build if missing, print the Image's path
#   scripts/build-linux.sh --path   print the path only (exit 1 if not built)
#
# LINUX_JOBS sets make's -j (default 2); the build runs under nice -n 10.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
frag=$top/tests/linux/linux.config
src_tar=/usr/src/linux-source-6.1.tar.xz
cache=${LIBVMCORE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libvmcore}
hash=$(cat "$frag" "$0" | sha256sum | cut -c1-16)
out=$cache/linux-6.1-$hash
image=$out/Image

if [ "${1:-}" = --path ]; then
	echo "$image"
	[ -f "$image" ]
	exit
fi
if [ -f "$image" ]; then
	echo "$image"
	exit 0
fi

# Install what is missing (the kernel source, the cross compiler and the
# kernel's build tools).
need=
for p in linux-source-6.1 gcc-riscv64-linux-gnu flex bison bc make xz-utils; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		need="$need $p"
done
if [ -n "$need" ]; then
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "build-linux: installing$need" >&2
	$sudo apt-get update -qq >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
		--no-install-recommends $need >&2
fi

mkdir -p "$cache"
# One build per hash at a time; a second caller waits and reuses it.
exec 9>"$cache/.linux-6.1-$hash.lock"
flock 9
if [ -f "$image" ]; then
	echo "$image"
	exit 0
fi

work=$out.build
rm -rf "$work"
mkdir -p "$work"
echo "build-linux: building Linux 6.1 in $work (log: $work/build.log)" >&2
start=$(date +%s)
tar -C "$work" -xJf "$src_tar"
ksrc=$work/linux-source-6.1
# On failure keep only the log.
trap 'rm -rf "$ksrc"' EXIT
mk() {
	nice -n 10 make -C "$ksrc" ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu- \
		-j"${LINUX_JOBS:-2}" "$@" >>"$work/build.log" 2>&1 || {
		tail -40 "$work/build.log" >&2
		echo "build-linux: make $* failed" >&2
		exit 1
	}
}
mk tinyconfig
(cd "$ksrc" && ARCH=riscv scripts/kconfig/merge_config.sh -m .config "$frag") \
	>>"$work/build.log" 2>&1
mk olddefconfig
# Every option the fragment turns on must survive olddefconfig.
missing=
for opt in $(sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=y$/\1/p' "$frag"); do
	grep -q "^$opt=y\$" "$ksrc/.config" || missing="$missing $opt"
done
if [ -n "$missing" ]; then
	echo "build-linux: not enabled after olddefconfig:$missing" >&2
	exit 1
fi
mk Image
mkdir -p "$out.new"
cp "$ksrc/arch/riscv/boot/Image" "$ksrc/.config" "$out.new/"
cp "$work/build.log" "$out.new/build.log"
rm -rf "$out"
mv "$out.new" "$out"
trap - EXIT
rm -rf "$work"
echo "build-linux: built in $(($(date +%s) - start)) s" >&2
echo "$image"
