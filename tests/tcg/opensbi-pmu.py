#!/usr/bin/env python3
"""OpenSBI's banner on riscv-virt reports the hardware counters it found.

usage: opensbi-pmu.py RISCV_VIRT

OpenSBI probes mhpmcounter3, 4, ... by writing 1 and reading it back, and
counts them up to the first that does not hold it.  It finds Sstc by reading
stimecmp, which must fail with -cpu rv64,sstc=off.  QEMU's virt has 16
(mhpmcounter3..18); so must riscv-virt.  When qemu-system-riscv64 is
installed, its banner is read in the same run and the lines compared.
Skips (exit 77) without Debian's opensbi package.
"""
import os
import select
import shutil
import subprocess
import sys
import time

FW = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"


def banner(argv):
    """The 'Boot HART ...' lines the firmware prints, up to MIDELEG."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    lines, buf, end = {}, b"", time.time() + 60
    try:
        while time.time() < end and "Boot HART MIDELEG" not in lines:
            r, _, _ = select.select([p.stdout], [], [], 1)
            if not r:
                continue
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
            for ln in buf.decode(errors="replace").splitlines():
                if ":" in ln:
                    k, v = ln.split(":", 1)
                    lines[k.strip()] = v.strip()
    finally:
        p.kill()
        p.wait()
    return lines


def main():
    virt = sys.argv[1]
    if not os.path.exists(FW):
        print("no OpenSBI firmware")
        sys.exit(77)
    ours = banner([virt, "-M", "virt", "-nographic", "-bios", FW])
    print("riscv-virt:", {k: v for k, v in ours.items() if "HART" in k})
    ok = ours.get("Boot HART MHPM Count") == "16"
    # OpenSBI probes stimecmp: with Sstc it lists it (QEMU: "time,sstc")
    # and sets menvcfg.STCE, so the kernel can program the timer itself.
    exts = ours.get("Boot HART ISA Extensions", "").split(",")
    if "sstc" not in exts:
        print("FAIL: riscv-virt's OpenSBI does not find Sstc:", exts)
        ok = False
    off = banner([virt, "-M", "virt", "-nographic", "-bios", FW,
                  "-cpu", "rv64,sstc=off"])
    if "sstc" in off.get("Boot HART ISA Extensions", "").split(","):
        print("FAIL: OpenSBI finds Sstc with -cpu rv64,sstc=off")
        ok = False
    qemu = shutil.which("qemu-system-riscv64")
    if qemu:
        theirs = banner([qemu, "-M", "virt", "-nographic", "-bios", FW])
        print("qemu:", {k: v for k, v in theirs.items() if "HART" in k})
        if theirs.get("Boot HART MHPM Count") != ours.get(
                "Boot HART MHPM Count"):
            print("FAIL: the MHPM counts differ")
            ok = False
    if not ok:
        print("FAIL: riscv-virt's OpenSBI reports MHPM Count",
              ours.get("Boot HART MHPM Count"), "(want 16)")
        sys.exit(1)


main()
