#!/usr/bin/env python3
"""Write an uncompressed newc cpio initramfs for the linux test suite.

usage: mkinitramfs.py OUT INIT [PROGRAM...]

The archive holds /init (INIT), /bin/<basename> for every PROGRAM, the
directories /dev, /proc, /sys and /bin, and the character device
/dev/console (5, 1), which the kernel opens for /init's stdio before any
devtmpfs exists.  Owners are root; times are 0, so the archive depends only
on its inputs.
"""
import os
import stat
import sys


def entry(name, mode, data=b"", rdev=(0, 0), ino=[0]):
    ino[0] += 1
    fields = [ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
              len(name) + 1, 0]
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = hdr + name.encode() + b"\0"
    out += b"\0" * (-len(out) % 4)
    out += data + b"\0" * (-len(data) % 4)
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out_path, init = sys.argv[1], sys.argv[2]
    arc = b""
    for d in ("dev", "proc", "sys", "bin"):
        arc += entry(d, stat.S_IFDIR | 0o755)
    arc += entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
    with open(init, "rb") as f:
        arc += entry("init", stat.S_IFREG | 0o755, f.read())
    for prog in sys.argv[3:]:
        with open(prog, "rb") as f:
            arc += entry("bin/" + os.path.basename(prog),
                         stat.S_IFREG | 0o755, f.read())
    arc += entry("TRAILER!!!", 0)
    arc += b"\0" * (-len(arc) % 512)
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(arc)
    os.replace(tmp, out_path)


if __name__ == "__main__":
    main()
