#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The riscv-virt console reads its input from a pipe and from a socket,
not only from a terminal, so scripts can drive it.

usage: console-input.py BOARD ECHO_ELF

The guest echoes every byte it receives and passes through the finisher
on 'q'.
1. stdin a pipe: lines written one at a time come back in order; 'q'
   ends the board with status 0.
2. stdin a socket (one end of a socketpair): the same.
3. stdin a pipe closed after "bye\\n": the echo still comes, and the board
   stays up (a closed input is not a power-off) until 'q' cannot arrive,
   so it is ended with SIGTERM.
"""
import os
import select
import socket
import subprocess
import sys
import time

TIMEOUT = 20


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)


def read_until(fd, want):
    got = b""
    end = time.monotonic() + TIMEOUT
    while want not in got and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            got += chunk
    return got


def drive(board, elf, stdin, write, what):
    proc = subprocess.Popen([board, "-nographic", "-bios", "none",
                             "-kernel", elf],
                            stdin=stdin, stdout=subprocess.PIPE)
    try:
        out = proc.stdout.fileno()
        for line in (b"hello\n", b"second line\n"):
            write(line)
            got = read_until(out, line)
            check(got == line, f"{what}: {line!r} echoed (got {got!r})")
        write(b"q")
        rc = proc.wait(TIMEOUT)
        check(rc == 0, f"{what}: 'q' ends the board with status 0 ({rc})")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main(board, elf):
    r, w = os.pipe()
    try:
        drive(board, elf, r, lambda b: os.write(w, b), "pipe")
    finally:
        os.close(r)
        os.close(w)

    a, b = socket.socketpair()
    try:
        drive(board, elf, a.fileno(), b.sendall, "socket")
    finally:
        a.close()
        b.close()

    proc = subprocess.Popen([board, "-nographic", "-bios", "none",
                             "-kernel", elf],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        proc.stdin.write(b"bye\n")
        proc.stdin.close()
        got = read_until(proc.stdout.fileno(), b"bye\n")
        check(got == b"bye\n", f"closed pipe: input echoed ({got!r})")
        time.sleep(0.5)
        check(proc.poll() is None, "closed pipe: the board stays up")
    finally:
        proc.terminate()
        proc.wait(TIMEOUT)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
