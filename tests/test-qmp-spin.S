/*
 * For tests/test-qmp-qemu.py: a riscv-virt guest that idles for ever
 * (WFI with no interrupt enabled), so that QEMU and riscv-virt both stay
 * up while a QMP script stops, continues and resets them.
 */
	.section .text.init
	.globl _start
_start:
	wfi
	j _start
