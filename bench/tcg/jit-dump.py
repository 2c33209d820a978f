#!/usr/bin/env python3
"""Disassemble the translator's blocks dumped with VMC_TCG_JIT_DUMP=PATH.

usage: jit-dump.py PATH [ADDR...]

Each ADDR (hex) is a guest pc or an offset in the code buffer (as perf
report shows addresses in memfd:vmc-tcg-code); the blocks that start at
that pc or contain that offset are disassembled with objdump, at their
offsets in the buffer.  Without ADDR, every block is listed.
"""
import subprocess
import sys
import tempfile


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    blocks = []
    with open(path) as f:
        for line in f:
            vpc, n, off, ln, at = (int(v, 16) for v in line.split())
            blocks.append((vpc, n, off, ln, at))
    if len(sys.argv) == 2:
        for vpc, n, off, ln, _ in blocks:
            print(f"pc {vpc:#x} insns {n} code {off:#x}+{ln}")
        return
    data = open(path + ".bin", "rb").read()
    for a in (int(v, 16) for v in sys.argv[2:]):
        for vpc, n, off, ln, at in blocks:
            if vpc != a and not off <= a < off + ln:
                continue
            print(f"== pc {vpc:#x} insns {n} code {off:#x}+{ln}")
            with tempfile.NamedTemporaryFile() as t:
                t.write(data[at:at + ln])
                t.flush()
                out = subprocess.run(
                    ["objdump", "-D", "-b", "binary", "-m", "i386:x86-64",
                     f"--adjust-vma={off:#x}", t.name],
                    capture_output=True, text=True, check=True).stdout
            print("\n".join(out.splitlines()[7:]))


if __name__ == "__main__":
    main()
