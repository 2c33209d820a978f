#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""riscv-virt's -device vmc-vsock-device, both directions, with a
bare-metal guest driver (tests/guest/virt/vsock.S).

usage: vsock.py RISCV_VIRT VSOCK_ELF

1. Host to guest: connect to the device's Unix socket, `CONNECT 1234`,
   read `OK <port>`, send bytes, read them back (the guest echoes), close.
2. Guest to host: the guest then connects to CID 2 port 5000, which is
   the Unix socket PATH_5000 here; its message arrives, the guest closes
   and ends the machine with exit status 0.
Afterwards the device's socket is gone.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)


def read_line(s):
    data = b""
    while not data.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            break
        data += c
    return data


def main():
    board, elf = sys.argv[1], sys.argv[2]
    d = tempfile.mkdtemp(prefix="vmc-vsock-")
    path = os.path.join(d, "v.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + "_5000")
    listener.listen(1)
    p = subprocess.Popen([board, "-bios", "none", "-kernel", elf,
                          "-nographic", "-device",
                          "vmc-vsock-device,guest-cid=5,uds-path=" + path],
                         stdin=subprocess.DEVNULL)
    try:
        # The guest may not listen yet: the device then resets the
        # connection (an empty answer), and a host tries again.
        ok = b""
        deadline = time.monotonic() + 30
        while not ok and time.monotonic() < deadline:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
            except OSError:
                s.close()
                time.sleep(0.02)
                continue
            s.settimeout(20)
            s.sendall(b"CONNECT 1234\n")
            ok = read_line(s)
            if not ok:
                s.close()
                time.sleep(0.05)
        check(ok.startswith(b"OK ") and int(ok[3:]) >= 1 << 30,
              "CONNECT answered with " + repr(ok))
        msg = b"ping through vsock " * 50
        s.sendall(msg)
        back = b""
        while len(back) < len(msg):
            chunk = s.recv(4096)
            if not chunk:
                break
            back += chunk
        check(back == msg, "the guest echoed %d bytes" % len(msg))
        s.close()
        listener.settimeout(20)
        c, _ = listener.accept()
        c.settimeout(20)
        got = b""
        while True:
            chunk = c.recv(4096)
            if not chunk:
                break
            got += chunk
        check(got == b"hello from the guest\n",
              "the guest's connection to port 5000 brought " + repr(got))
        c.close()
        rc = p.wait(timeout=20)
        check(rc == 0, "the guest ended the machine (status %d)" % rc)
        check(not os.path.exists(path), "the device removed its socket")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        listener.close()
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        os.rmdir(d)


main()
