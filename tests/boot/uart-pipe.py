#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The riscv-virt board with a console output that stalls or closes.

usage: uart-pipe.py BOARD SPEW_ELF

The guest prints a hex counter for ever, waiting for THRE before each byte.
1. `BOARD ... | head -1`: the board ends promptly, exit status 0, with one
   line on stderr saying why.
2. stdout a pipe nobody reads: a gdb `?` is answered at once (the vCPU is
   not stuck in write() with the VM lock held), and once the pipe is read
   the counter comes without a gap.
"""
import os
import socket
import subprocess
import sys
import time


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def connect_tcp(port):
    for _ in range(200):
        try:
            return socket.create_connection(("127.0.0.1", port))
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("stub not listening")


def head(board, elf):
    t0 = time.monotonic()
    # The pipeline by hand, to see the board's own status and stderr.
    rd, wr = os.pipe()
    vm = subprocess.Popen([board, "-bios", "none", "-kernel", elf],
                          stdin=subprocess.DEVNULL, stdout=wr,
                          stderr=subprocess.PIPE)
    os.close(wr)
    hd = subprocess.Popen(["head", "-1"], stdin=rd, stdout=subprocess.PIPE)
    os.close(rd)
    first = hd.communicate(timeout=30)[0]
    check(first == b"0000000000000000\n", "head printed the first line")
    try:
        err = vm.communicate(timeout=10)[1].decode()
    except subprocess.TimeoutExpired:
        vm.kill()
        vm.wait()
        check(False, "board ends once head has gone (still running)")
    dt = time.monotonic() - t0
    check(vm.returncode == 0,
          "board ends with status 0 (got %d) in %.2f s" % (vm.returncode, dt))
    lines = [l for l in err.splitlines() if l.strip()]
    check(len(lines) == 1 and "output closed" in lines[0],
          "one line on stderr: %r" % err)


def stall(board, elf):
    port = free_port()
    rd, wr = os.pipe()
    vm = subprocess.Popen([board, "-bios", "none", "-kernel", elf,
                           "-gdb", "tcp::%d" % port],
                          stdin=subprocess.DEVNULL, stdout=wr)
    os.close(wr)
    try:
        # The guest fills the pipe and the UART's buffer; then gdb comes,
        # which stops the VM: every vCPU must leave guest code.
        time.sleep(1.5)
        t0 = time.monotonic()
        s = connect_tcp(port)
        s.settimeout(5)
        s.sendall(b"$?#3f")
        reply = b""
        try:
            while b"#" not in reply or len(reply.split(b"#", 1)[1]) < 2:
                d = s.recv(4096)
                if not d:
                    break
                reply += d
        except socket.timeout:
            check(False, "gdb `?` answered within 5 s with stdout stalled")
        s.settimeout(30)
        dt = time.monotonic() - t0
        check(b"$" in reply, "stop reply %r" % reply)
        check(dt < 2.0, "gdb attached and `?` answered in %.3f s with stdout "
              "stalled" % dt)
        # gdb stopped the VM; let it run on, then read what it printed.
        s.sendall(b"+$c#63")
        data = b""
        deadline = time.monotonic() + 30
        while data.count(b"\n") < 20000 and time.monotonic() < deadline:
            data += os.read(rd, 65536)
        lines = data.split(b"\n")[:-1]
        check(len(lines) >= 20000, "%d lines read" % len(lines))
        bad = [i for i, l in enumerate(lines) if l != b"%016x" % i]
        check(not bad, "the counter has no gap (first bad line: %s)" %
              (bad[:1] and lines[bad[0]]))
        s.close()
    finally:
        vm.kill()
        vm.wait()
        os.close(rd)


def main():
    board, elf = sys.argv[1:3]
    head(board, elf)
    stall(board, elf)


if __name__ == "__main__":
    main()
