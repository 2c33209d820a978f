#!/bin/sh
# Install the Debian packages libvmcore needs that are missing.
#   scripts/deps.sh          build + example + test peers
#   scripts/deps.sh build    only what building the library needs
#   scripts/deps.sh fuzz     everything, plus clang for the libFuzzer targets
set -eu
build_pkgs="gcc g++ meson ninja-build pkg-config libuv1-dev libfdt-dev
	libjson-c-dev liburing-dev"
# Guest toolchains and the real peers the tests compare against; the Linux
# cross compiler, static glibc and kernel source for the linux suite
# (scripts/build-linux.sh).
test_pkgs="gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf libunicorn-dev
	gdb-multiarch opensbi u-boot-qemu qemu-system-misc qemu-system-x86
	binutils python3 doxygen make clang-format
	gcc-riscv64-linux-gnu libc6-dev-riscv64-cross linux-source-6.1 flex
	bison bc xz-utils"
fuzz_pkgs="clang libclang-rt-14-dev"
pkgs=$build_pkgs
[ "${1:-all}" = build ] || pkgs="$pkgs $test_pkgs"
[ "${1:-all}" = fuzz ] && pkgs="$pkgs $fuzz_pkgs"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "libvmcore: installing$missing" >&2
$sudo apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >&2
