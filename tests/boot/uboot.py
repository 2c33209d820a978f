#!/usr/bin/env python3
"""Boot Debian's OpenSBI and U-Boot on riscv-virt and use the U-Boot prompt.

usage: uboot.py [--show] [--smp N] RISCV_VIRT [QEMU]

Reaches the interactive prompt, runs `version` and a memory command, resets
through the test finisher (the machine must come back to the prompt), and
powers off (exit status 0).  With QEMU given, does the same on
qemu-system-riscv64 -M virt and prints both boot times.  Exits 77 when the
firmware packages are not installed.
"""
import os
import select
import subprocess
import sys
import time

BIOS = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
KERNEL = "/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf"


class Console:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""
        self.log = b""

    def expect(self, text, timeout):
        end = time.monotonic() + timeout
        want = text.encode()
        while want not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or self.p.poll() is not None and not self._read(0):
                raise TimeoutError(f"no {text!r}; console said:\n"
                                   + self.log[-1500:].decode(errors="replace"))
            self._read(min(left, 0.5))
        i = self.buf.index(want) + len(want)
        self.buf = self.buf[i:]

    def _read(self, timeout):
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not r:
            return False
        data = os.read(self.p.stdout.fileno(), 4096)
        if SHOW:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        self.buf += data
        self.log += data
        return bool(data)

    def send(self, text):
        if SHOW:
            time.sleep(0.3)  # let a human reader see the prompt first
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()


def session(argv, full):
    t0 = time.monotonic()
    c = Console(argv)
    c.expect("OpenSBI v", 60)
    c.expect("Hit any key to stop autoboot", 60)
    c.send("\r")
    c.expect("=> ", 30)
    boot = time.monotonic() - t0
    if full:
        c.send("version\r")
        c.expect("U-Boot 20", 10)
        c.expect("=> ", 10)
        c.send("mw.l 0x81000000 0x12345678 2; md.l 0x81000000 2\r")
        c.expect("81000000: 12345678 12345678", 10)
        c.expect("=> ", 10)
        c.send("reset\r")
        c.expect("resetting", 10)
        c.expect("OpenSBI v", 60)
        c.expect("Hit any key to stop autoboot", 60)
        c.send("\r")
        c.expect("=> ", 30)
    c.send("poweroff\r")
    try:
        rc = c.p.wait(30)
    except subprocess.TimeoutExpired:
        c.p.kill()
        raise
    return boot, rc


SHOW = False


def main():
    global SHOW
    smp = []
    while len(sys.argv) > 1 and sys.argv[1].startswith("--"):
        if sys.argv[1] == "--show":
            SHOW = True
            del sys.argv[1]
        elif sys.argv[1] == "--smp" and len(sys.argv) > 2:
            smp = ["-smp", sys.argv[2]]
            del sys.argv[1:3]
        else:
            print(__doc__)
            return 2
    if not (os.path.exists(BIOS) and os.path.exists(KERNEL)):
        print("SKIP: opensbi or u-boot-qemu not installed")
        return 77
    ours = [sys.argv[1]] + smp + ["-bios", BIOS, "-kernel", KERNEL]
    boot, rc = session(ours, True)
    print(f"libvmcore riscv-virt {' '.join(smp)}: prompt after {boot:.2f} s; version, md, "
          f"reset and poweroff worked; exit status {rc}")
    if rc != 0:
        return 1
    if len(sys.argv) > 2:
        qemu = [sys.argv[2], "-M", "virt", "-nographic", "-bios", BIOS,
                "-kernel", KERNEL]
        qboot, _ = session(qemu, False)
        print(f"qemu-system-riscv64 -M virt: prompt after {qboot:.2f} s; "
              f"ratio libvmcore/qemu {boot / qboot:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
