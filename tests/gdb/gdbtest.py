#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run a gdb-multiarch batch script against riscv-virt's gdb stub.

usage: gdbtest.py [--host|--argv] BOARD ELF SCRIPT STATUS [BOARD-ARG...]

With --host, BOARD is a test host program run as `BOARD tcp::PORT` (it
starts paused itself); exit 77 from it means skip.  With --argv, the board
is run as `BOARD BOARD-ARG...` with @PORT@ replaced in its arguments, and
ELF (may be "-") is only what gdb loads symbols from.  A leading --kvm
skips (77) unless /dev/kvm can be opened.

The board starts paused (-S) with -gdb tcp::PORT on a free port; @PORT@ in
the script is replaced.  Lines of the script starting with "#expect " are
regular expressions gdb's output must match, in order.  The board's exit
status must be STATUS.  Exit 77 (skip) without gdb-multiarch.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    args = sys.argv[1:]
    if args[0] == "--kvm":
        args = args[1:]
        try:
            os.close(os.open("/dev/kvm", os.O_RDWR))
        except OSError:
            print("SKIP: /dev/kvm is not usable")
            return 77
    host = args[0] == "--host"
    argv_mode = args[0] == "--argv"
    if host or argv_mode:
        args = args[1:]
    board, elf, script, status = args[:4]
    extra = args[4:]
    gdb = shutil.which("gdb-multiarch")
    if not gdb:
        print("gdb-multiarch not installed")
        return 77
    port = free_port()
    text = open(script).read().replace("@PORT@", str(port))
    expects = [l[len("#expect "):].rstrip("\n")
               for l in text.splitlines() if l.startswith("#expect ")]
    with tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False) as f:
        f.write(text)
        path = f.name
    if host:
        cmd = [board, "tcp::%d" % port] + extra
    elif argv_mode:
        cmd = [board] + [a.replace("@PORT@", str(port)) for a in extra]
    else:
        cmd = [board, "-bios", "none", "-kernel", elf, "-S",
               "-gdb", "tcp::%d" % port] + extra
    vm = subprocess.Popen(cmd,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    try:
        out = subprocess.run([gdb, "-nx", "-batch", "-x", path]
                             + ([elf] if elf != "-" else []),
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=120,
                             text=True).stdout
        try:
            board_out, _ = vm.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            vm.kill()
            board_out, _ = vm.communicate()
            print("board did not finish")
            print(out)
            return 1
    finally:
        os.unlink(path)
        if vm.poll() is None:
            vm.kill()
            vm.wait()
    if host and vm.returncode == 77:
        print(board_out.decode(errors="replace"))
        return 77
    print("---- gdb ----")
    print(out)
    print("---- board (exit %d) ----" % vm.returncode)
    print(board_out.decode(errors="replace"))
    pos = 0
    for e in expects:
        m = re.compile(e, re.M).search(out, pos)
        if not m:
            print("FAIL: no match for %r after offset %d" % (e, pos))
            return 1
        pos = m.end()
    if vm.returncode != int(status):
        print("FAIL: board exit status %d, expected %s"
              % (vm.returncode, status))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
