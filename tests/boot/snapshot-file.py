#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Snapshot files on riscv-virt: QMP migrate to file:PATH, -incoming file:PATH.

usage: snapshot-file.py RISCV_VIRT SPEW_ELF [uboot]

1. -icount (tcg): the spew guest (a counter on the UART, polling LSR) is
   saved at an arbitrary moment by QMP migrate, the process quits, and a
   new process restores it with -incoming: the two outputs joined count
   on without a gap or a repeat.  Done at three different moments.  (The
   timer-interrupt guest finishes in a millisecond; test-snapshot-file
   checks it in-process, exactly.)
2. A corrupt, truncated or foreign file makes -incoming fail cleanly
   (status 2, a message, no crash).
3. With "uboot" (Debian's OpenSBI and U-Boot installed, else 77): U-Boot
   is brought to its prompt, saved by QMP migrate, restored into a new
   process with -incoming, and a command typed there runs.
"""
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time

BIOS = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
KERNEL = "/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf"


def qmp_connect(path, timeout=20):
    end = time.monotonic() + timeout
    while True:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            break
        except OSError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.02)
    f = s.makefile("rwb")
    json.loads(f.readline())
    qmp_cmd(f, "qmp_capabilities")
    return s, f


def qmp_cmd(f, name, **args):
    msg = {"execute": name}
    if args:
        msg["arguments"] = args
    f.write(json.dumps(msg).encode() + b"\r\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "event" in r:
            continue
        assert "return" in r, r
        return r["return"]


def check_counter(out, what):
    lines = out.split(b"\n")[:-1]
    for i, line in enumerate(lines):
        assert int(line, 16) == i, (what, i, line, lines[max(0, i - 3):i + 3])
    return len(lines)


def test_spew(virt, elf, tmp, delay):
    """Run the spew guest until @delay, migrate to a file, quit; then
    -incoming it in a new process: the counter goes on without a gap."""
    sock = os.path.join(tmp, "qmp.sock")
    snap = os.path.join(tmp, "spew.snap")
    base = [virt, "-icount", "shift=0", "-bios", "none", "-kernel", elf]
    p = subprocess.Popen(base + ["-qmp", f"unix:{sock},server=on,wait=off"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    s, f = qmp_connect(sock)
    time.sleep(delay)
    qmp_cmd(f, "migrate", uri=f"file:{snap}")
    st = qmp_cmd(f, "query-migrate")
    assert st.get("status") == "completed", st
    assert qmp_cmd(f, "query-status")["running"] is False
    qmp_cmd(f, "quit")
    first = p.stdout.read()
    assert p.wait(20) == 0
    s.close()
    # The bytes after the last newline are the start of the next line.
    q = subprocess.Popen(base + ["-incoming", f"file:{snap}"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    second = b""
    while second.count(b"\n") < 500:
        data = os.read(q.stdout.fileno(), 65536)
        assert data, "restored process ended"
        second += data
    q.kill()
    q.wait()
    n = check_counter(first + second, "spew")
    return first.count(b"\n"), n, snap


def test_ticks(virt, elf, tmp):
    spew = elf
    splits = []
    for delay in (0.0, 0.05, 0.2):
        before, total, snap = test_spew(virt, spew, tmp, delay)
        splits.append(before)
    print(f"ok: -icount spew saved after {splits} lines and restored in a "
          "new process: the UART output goes on without a gap or a repeat")
    return snap


def test_bad_files(virt, elf, tmp, snap):
    data = open(snap, "rb").read()
    cases = {
        "truncated": data[: len(data) // 2],
        "corrupt": data[:200] + bytes([data[200] ^ 1]) + data[201:],
        "empty": b"",
        "garbage": b"not a snapshot" * 10,
    }
    for name, blob in cases.items():
        path = os.path.join(tmp, name + ".snap")
        open(path, "wb").write(blob)
        r = subprocess.run([virt, "-icount", "shift=0", "-bios", "none",
                            "-kernel", elf, "-incoming", f"file:{path}"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=30)
        assert r.returncode == 2, (name, r.returncode, r.stderr)
        assert b"-incoming" in r.stderr and b"Bad message" in r.stderr, \
            (name, r.stderr)
    # A machine assembled differently (more RAM): a mismatch.
    r = subprocess.run([virt, "-m", "256M", "-icount", "shift=0", "-bios",
                        "none", "-kernel", elf, "-incoming", f"file:{snap}"],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=30)
    assert r.returncode == 2 and b"Invalid argument" in r.stderr, r.stderr
    print(f"ok: {len(cases)} corrupt/truncated files and a mismatched "
          "machine refused")


class Console:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""

    def expect(self, text, timeout):
        end = time.monotonic() + timeout
        want = text.encode()
        while want not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {text!r}: {self.buf[-800:]!r}")
            r, _, _ = select.select([self.p.stdout], [], [], min(left, 0.5))
            if r:
                data = os.read(self.p.stdout.fileno(), 4096)
                if not data:
                    raise EOFError(f"no {text!r}: {self.buf[-800:]!r}")
                self.buf += data
        self.buf = self.buf[self.buf.index(want) + len(want):]

    def send(self, text):
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()


def test_uboot(virt, tmp):
    if not (os.path.exists(BIOS) and os.path.exists(KERNEL)):
        print("skip: OpenSBI/U-Boot not installed")
        return 77
    sock = os.path.join(tmp, "uboot.sock")
    snap = os.path.join(tmp, "uboot.snap")
    base = [virt, "-bios", BIOS, "-kernel", KERNEL]
    c = Console(base + ["-qmp", f"unix:{sock},server=on,wait=off"])
    c.expect("Hit any key to stop autoboot", 90)
    c.send("\r")
    c.expect("=> ", 30)
    s, f = qmp_connect(sock)
    t0 = time.monotonic()
    qmp_cmd(f, "migrate", uri=f"file:{snap}")
    t_save = time.monotonic() - t0
    qmp_cmd(f, "quit")
    c.p.wait(20)
    s.close()
    size = os.path.getsize(snap)

    t0 = time.monotonic()
    d = Console(base + ["-incoming", f"file:{snap}"])
    d.send("mw.l 0x81000000 0xcafef00d 1; md.l 0x81000000 1\r")
    d.expect("81000000: cafef00d", 30)
    t_cmd = time.monotonic() - t0
    d.expect("=> ", 10)
    d.send("version\r")
    d.expect("U-Boot 20", 10)
    d.expect("=> ", 10)
    d.send("poweroff\r")
    assert d.p.wait(20) == 0
    print(f"ok: U-Boot prompt saved ({size >> 10} KiB file of 128 MiB RAM, "
          f"{t_save * 1000:.0f} ms), restored in a new process and a "
          f"command answered after {t_cmd * 1000:.0f} ms")
    return 0


def main():
    virt, elf = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        if len(sys.argv) > 3 and sys.argv[3] == "uboot":
            return test_uboot(virt, tmp)
        snap = test_ticks(virt, elf, tmp)
        test_bad_files(virt, elf, tmp, snap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
