#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""virtio-blk 4 KiB random reads: riscv-virt against qemu-system-riscv64
-M virt, the same bare-metal driver guest (virt-blk.S) on both, in one run.

usage: run.py RISCV_VIRT VIRT_BLK_ELF [QEMU] [ROUNDS]

Both boards get the same 64 MiB raw image (each 4 KiB block starts with its
own number, which the guest checks) as
  -drive file=F,if=none,id=d0,format=raw -device virtio-blk-device,drive=d0
and run with -bios none -kernel ELF -nographic.  The guest reads its random
blocks one request at a time, polling the used ring, and prints the IOPS it
measured with rdtime.  The sides run back to back in alternating order;
printed are each round's figures, the medians and the median of the
per-round ratios riscv-virt / QEMU (target >= 1.0).  A guest whose timed
window is longer than its process's wall time fails the run (a timebase
that is not 10 MHz would inflate its IOPS).  Exits 77 without
qemu-system-riscv64.
"""
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

TIMEOUT = 300
BLOCKS = 16384


def make_image(path):
    with open(path, "wb") as f:
        for b in range(BLOCKS):
            f.write(struct.pack("<Q", b).ljust(4096, b"\0"))


def run(argv, image, guest):
    cmd = argv + ["-bios", "none", "-kernel", guest, "-nographic",
                  "-drive", f"file={image},if=none,id=d0,format=raw",
                  "-device", "virtio-blk-device,drive=d0"]
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=TIMEOUT)
    wall = time.monotonic() - t0
    out = p.stdout.decode(errors="replace")
    m = re.search(r"blk: (\d+) reads (\d+) ticks (\d+) iops", out)
    if p.returncode != 0 or not m:
        sys.exit(f"{cmd[0]}: status {p.returncode}, output {out[-300:]!r}, "
                 f"stderr {p.stderr.decode(errors='replace')[-300:]!r}")
    # The guest's clock must not run slow: its timed window fits in the
    # process's wall time.
    if int(m.group(2)) / 10e6 > wall:
        sys.exit(f"{cmd[0]}: guest timed {int(m.group(2)) / 10e6:.3f} s "
                 f"inside a {wall:.3f} s run: its timebase is not 10 MHz")
    return int(m.group(3))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    virt, guest = sys.argv[1], sys.argv[2]
    qemu = sys.argv[3] if len(sys.argv) > 3 else "qemu-system-riscv64"
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    if not shutil.which(qemu):
        print(f"{qemu} not found: skipped")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "blk.img")
        make_image(image)
        vmc_argv, qemu_argv = [virt], [qemu, "-M", "virt"]
        # Warm the page cache and both binaries.
        run(vmc_argv, image, guest)
        run(qemu_argv, image, guest)
        a, b = [], []
        for i in range(rounds):
            if i & 1:
                b.append(run(qemu_argv, image, guest))
                a.append(run(vmc_argv, image, guest))
            else:
                a.append(run(vmc_argv, image, guest))
                b.append(run(qemu_argv, image, guest))
            print(f"round {i}: riscv-virt {a[-1]} IOPS, QEMU {b[-1]} IOPS, "
                  f"ratio {a[-1] / b[-1]:.2f}")
    ratio = statistics.median(x / y for x, y in zip(a, b))
    print(f"virtio-blk 4 KiB random reads, one in flight, 64 MiB image, "
          f"{rounds} rounds (median)")
    print(f"  qemu-system-riscv64 -M virt: {statistics.median(b):.0f} IOPS")
    print(f"  riscv-virt:                  {statistics.median(a):.0f} IOPS  "
          f"ratio {ratio:.2f} (target >= 1.0)")


if __name__ == "__main__":
    main()
