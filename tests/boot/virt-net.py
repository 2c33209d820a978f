#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""riscv-virt's virtio-net end to end on tcg, with a bare-metal driver
guest (virt-net.S) and this script as the network.

usage: virt-net.py RISCV_VIRT VIRT_NET_ELF

The guest sends one frame and waits for an answer.  Checked here: the
frame arrives through the backend with the default MAC of the first NIC
(52:54:00:12:34:56) as its source, EtherType 0x88b5 and the "ping"
payload; the answer reaches the guest (which then passes, status 0).
1. -netdev stream (QEMU's 4-byte big-endian length framing) as a client
   of this script's unix socket;
2. -netdev dgram on unix datagram sockets;
3. -netdev tap,ifname=vmcnet0,script=no,downscript=no in a network
   namespace of its own (`unshare -n`, this script again with --tap): the
   interface is made persistent and up beforehand and the peer is an
   AF_PACKET socket on it.  Skipped where unshare or ip cannot do that.
"""
import os
import socket
import subprocess
import sys
import tempfile

TIMEOUT = 60
failures = []


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def check_ping(frame, how):
    check(len(frame) == 64, f"{how}: a 64-byte frame ({len(frame)})")
    check(frame[:6] == b"\xff" * 6, f"{how}: broadcast destination")
    check(frame[6:12] == bytes.fromhex("525400123456"),
          f"{how}: source is QEMU's first default MAC "
          f"({frame[6:12].hex(':')})")
    check(frame[12:14] == b"\x88\xb5", f"{how}: EtherType 0x88b5")
    check(frame[14:26] == b"vmc-net-ping", f"{how}: the ping payload")


def pong():
    return (b"\x52\x54\x00\x12\x34\x56" + b"\x02\x00\x00\x00\x00\x01" +
            b"\x88\xb5" + b"vmc-net-pong").ljust(64, b"\0")


def run_board(argv):
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(p, how):
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    check(p.returncode == 0,
          f"{how}: the guest passes (status {p.returncode}, "
          f"stderr {err.decode(errors='replace').strip()[-200:]!r})")


def read_exact(s, n):
    got = b""
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            raise EOFError("peer closed")
        got += chunk
    return got


def stream_case(virt, guest, tmp):
    path = os.path.join(tmp, "stream.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(TIMEOUT)
    p = run_board([virt, "-bios", "none", "-kernel", guest,
                   "-netdev", "stream,id=n0,server=off,addr.type=unix,"
                   "addr.path=" + path,
                   "-device", "virtio-net-device,netdev=n0"])
    try:
        c, _ = srv.accept()
        c.settimeout(TIMEOUT)
        n = int.from_bytes(read_exact(c, 4), "big")
        check_ping(read_exact(c, n), "stream")
        f = pong()
        c.sendall(len(f).to_bytes(4, "big") + f)
    except (OSError, EOFError) as e:
        check(False, f"stream: {e!r}")
        p.kill()
    finish(p, "stream")
    srv.close()


def dgram_case(virt, guest, tmp):
    mine = os.path.join(tmp, "peer.sock")
    board = os.path.join(tmp, "board.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(mine)
    s.settimeout(TIMEOUT)
    p = run_board([virt, "-bios", "none", "-kernel", guest,
                   "-netdev", "dgram,id=n0,local.type=unix,local.path="
                   + board + ",remote.type=unix,remote.path=" + mine,
                   "-device", "virtio-net-device,netdev=n0"])
    try:
        frame, _ = s.recvfrom(65536)
        check_ping(frame, "dgram")
        s.sendto(pong(), board)
    except OSError as e:
        check(False, f"dgram: {e!r}")
        p.kill()
    finish(p, "dgram")
    s.close()


def tap_child(virt, guest):
    """Inside the new namespace: exit 0 pass, 1 fail, 77 cannot."""
    name = "vmcnet0"
    if subprocess.run(["ip", "tuntap", "add", "dev", name, "mode", "tap"],
                      capture_output=True).returncode != 0:
        print("skip: cannot create a TAP here")
        sys.exit(77)
    try:
        with open(f"/proc/sys/net/ipv6/conf/{name}/disable_ipv6", "w") as f:
            f.write("1\n")  # no router solicitations in the guest's way
    except OSError:
        pass
    subprocess.run(["ip", "link", "set", name, "up"], check=True)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((name, 0))
    s.settimeout(TIMEOUT)
    p = run_board([virt, "-bios", "none", "-kernel", guest,
                   "-netdev", f"tap,id=n0,ifname={name},script=no,"
                   "downscript=no",
                   "-device", "virtio-net-device,netdev=n0"])
    try:
        while True:
            frame = s.recv(65536)
            if frame[12:14] == b"\x88\xb5":
                break
        check_ping(frame, "tap")
        # The TAP's carrier came up when the board attached, but the
        # kernel's link watch activates its queue asynchronously (up to a
        # second on a loaded host): until then a frame sent to it is
        # dropped without an error.  So the answer is repeated until the
        # guest has it; the guest takes the first and ignores the rest.
        for _ in range(int(TIMEOUT / 0.25)):
            s.send(pong())
            try:
                p.wait(timeout=0.25)
                break
            except subprocess.TimeoutExpired:
                pass
    except OSError as e:
        check(False, f"tap: {e!r}")
        p.kill()
    finish(p, "tap")
    sys.exit(1 if failures else 0)


def tap_case(virt, guest):
    r = subprocess.run(["unshare", "-n", sys.executable, __file__, "--tap",
                        virt, guest], capture_output=True, timeout=2 * TIMEOUT)
    out = r.stdout.decode(errors="replace")
    print(out, end="")
    if r.returncode == 77 or (r.returncode != 0 and not out):
        print("skip: tap: no network namespace here "
              f"({r.stderr.decode(errors='replace').strip()[-100:]})")
        return
    check(r.returncode == 0, "tap: in its own network namespace")


def main():
    if sys.argv[1] == "--tap":
        tap_child(sys.argv[2], sys.argv[3])
    virt, guest = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        stream_case(virt, guest, tmp)
        dgram_case(virt, guest, tmp)
    tap_case(virt, guest)
    if failures:
        print(f"{len(failures)} failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
