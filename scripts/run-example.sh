#!/bin/sh
# Install what is missing, build, and run the flagship example: the
# riscv-virt board (QEMU's RISC-V virt machine on libvmcore's software CPU)
# booting Debian's OpenSBI and U-Boot to U-Boot's interactive prompt.
# On a terminal the console is yours (Ctrl-A x quits); otherwise a scripted
# session runs `version` and a memory command, resets the machine through
# the test finisher, and powers off.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
bios=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf
kernel=/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf
if [ -t 0 ] && [ -t 1 ]; then
	echo "riscv-virt: booting OpenSBI and U-Boot; Ctrl-A x quits" >&2
	exec build/examples/riscv-virt -bios "$bios" -kernel "$kernel" "$@"
fi
exec python3 tests/boot/uboot.py --show build/examples/riscv-virt
