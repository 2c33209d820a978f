#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""QMP against the riscv-virt example board, with a client of our own
(asyncio), the way a management stack drives QEMU.

usage: test-qmp-board.py RISCV_VIRT TICKS_ELF [PC_LITE]

1. Proxmox's command line: a QMP server socket (-chardev socket,server=on,
   wait=off + -mon mode=control) and an event socket the board connects to
   (reconnect=N), started with -S.  Both monitors negotiate; query-status
   says prelaunch; query-cpus-fast gives the board's real vCPU thread; the
   event listener restarts and the board reconnects; `cont` gives RESUME
   on both; the guest's finisher gives SHUTDOWN (guest true) on both, and
   the board exits 0.
   With -name ...,debug-threads=on the vCPU thread is "CPU 0/TCG" in
   /proc/PID/task/TID/comm, QEMU's name.
2. -qmp unix:PATH,server=on,wait=off and `quit`: the reply, SHUTDOWN
   (guest false, host-qmp-quit), exit 0.
3. -no-shutdown: the finisher is SHUTDOWN (guest true) then STOP and the
   process stays up in "shutdown"; `cont` is refused there; system_reset
   gives RESET and "prelaunch" (QEMU's state after a reset out of
   shutdown), `cont` runs the guest again to a second SHUTDOWN; `quit`
   ends the process with status 0 (not the finisher's).
4. -daemonize -pidfile: the parent exits 0 only once the QMP socket
   listens (a connect right after it succeeds); the pid file holds the
   daemon's pid, in its own session; a second board with the same pid
   file fails; `quit` ends the daemon and removes the pid file.
5. SIGTERM with -qmp and -pidfile, as QEMU: SHUTDOWN (guest false,
   host-signal), "terminating on signal 15" on stderr, status 0, the pid
   file removed.
6. pc-lite (when given and /dev/kvm opens), with a BIOS that writes 0 to
   isa-debug-exit: the vCPU thread is "CPU 0/KVM"; under -no-shutdown
   the same SHUTDOWN / shutdown / system_reset / cont / quit cycle as 3;
   without it SHUTDOWN (guest true) reaches the client and the board
   exits with isa-debug-exit's status 1.
"""
import asyncio
import json
import os
import sys
import tempfile

TIMEOUT = 20


class Qmp:
    def __init__(self, reader, writer):
        self.r, self.w = reader, writer

    async def msg(self):
        line = await asyncio.wait_for(self.r.readline(), TIMEOUT)
        if not line:
            raise AssertionError("connection closed")
        assert line.endswith(b"\r\n"), line
        line.decode("ascii")  # QMP output is pure ASCII
        return json.loads(line)

    async def greeting(self):
        g = await self.msg()
        assert set(g["QMP"]) == {"version", "capabilities"}, g
        assert set(g["QMP"]["version"]["qemu"]) == {"major", "minor",
                                                    "micro"}, g
        assert g["QMP"]["capabilities"] == [], g
        await self.cmd("qmp_capabilities")

    async def cmd(self, name, args=None, id_=None):
        req = {"execute": name}
        if args is not None:
            req["arguments"] = args
        if id_ is not None:
            req["id"] = id_
        self.w.write(json.dumps(req).encode() + b"\n")
        await self.w.drain()
        while True:
            m = await self.msg()
            if "event" in m:
                self.events.append(m)
                continue
            if id_ is not None:
                assert m.get("id") == id_, m
            assert "return" in m, m
            return m["return"]

    async def event(self, name):
        while not self.events:
            self.events.append(await self.msg())
        m = self.events.pop(0)
        assert m.get("event") == name, (name, m)
        assert set(m["timestamp"]) == {"seconds", "microseconds"}, m
        return m.get("data")

    events = None


def qmp(reader, writer):
    q = Qmp(reader, writer)
    q.events = []
    return q


async def connect_unix(path):
    for _ in range(TIMEOUT * 20):
        try:
            return qmp(*await asyncio.open_unix_connection(path))
        except (FileNotFoundError, ConnectionRefusedError):
            await asyncio.sleep(0.05)
    raise AssertionError("no socket at " + path)


async def event_listener(path):
    """A qmeventd-like listener: a queue of incoming connections."""
    conns = asyncio.Queue()

    async def on_conn(r, w):
        await conns.put(qmp(r, w))

    server = await asyncio.start_unix_server(on_conn, path)
    return server, conns


async def proxmox(board, elf, tmp):
    qmp_path = os.path.join(tmp, "112.qmp")
    ev_path = os.path.join(tmp, "qmeventd.sock")
    server, conns = await event_listener(ev_path)
    proc = await asyncio.create_subprocess_exec(
        board, "-nographic", "-bios", "none", "-kernel", elf, "-S",
        "-name", "vm112,debug-threads=on",
        "-chardev", f"socket,id=qmp,path={qmp_path},server=on,wait=off",
        "-mon", "chardev=qmp,mode=control",
        "-chardev", f"socket,id=qmp-event,path={ev_path},reconnect=1",
        "-mon", "chardev=qmp-event,mode=control",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL)
    try:
        ev = await asyncio.wait_for(conns.get(), TIMEOUT)
        await ev.greeting()
        mon = await connect_unix(qmp_path)
        await mon.greeting()
        st = await mon.cmd("query-status", id_="s1")
        assert st == {"running": False, "singlestep": False,
                      "status": "prelaunch"}, st
        cpus = await mon.cmd("query-cpus-fast")
        assert len(cpus) == 1 and cpus[0]["cpu-index"] == 0, cpus
        tid = cpus[0]["thread-id"]
        assert tid != proc.pid and os.path.isdir(
            f"/proc/{proc.pid}/task/{tid}"), cpus
        with open(f"/proc/{proc.pid}/task/{tid}/comm") as f:
            comm = f.read()
        assert comm == "CPU 0/TCG\n", comm
        assert cpus[0]["target"] == "riscv64", cpus
        kvm = await mon.cmd("query-kvm")
        assert kvm["enabled"] is False and kvm["present"] in (True,
                                                              False), kvm
        assert await mon.cmd("query-name") == {"name": "vm112"}
        mem = await mon.cmd("query-memory-size-summary")
        assert mem["base-memory"] == 128 << 20, mem
        hmp = await mon.cmd("human-monitor-command",
                            {"command-line": "info status"})
        assert hmp == "VM status: paused (prelaunch)\r\n", hmp
        mtree = await mon.cmd("human-monitor-command",
                              {"command-line": "info mtree -f"})
        assert mtree.startswith("FlatView #0\r\n AS \"memory\", root: ") and \
            "  0000000080000000-0000000087ffffff (prio 0, ram): " in mtree \
            and "  0000000000001000-" in mtree and "(prio 0, rom)" in mtree \
            and "(prio 0, i/o)" in mtree, mtree
        regs = await mon.cmd("human-monitor-command",
                             {"command-line": "info registers"})
        assert regs.startswith(" pc       0000000000001000\r\n") and \
            " x2/sp    " in regs and " mhartid  " in regs, regs

        # The event listener restarts: the board comes back.
        ev.w.close()
        server.close()
        await server.wait_closed()
        os.unlink(ev_path)
        server, conns = await event_listener(ev_path)
        ev = await asyncio.wait_for(conns.get(), TIMEOUT)
        await ev.greeting()

        assert await mon.cmd("cont", id_=7) == {}
        for m in (mon, ev):
            assert await m.event("RESUME") is None
        for m in (mon, ev):
            d = await m.event("SHUTDOWN")
            assert d == {"guest": True, "reason": "guest-shutdown"}, d
        rc = await asyncio.wait_for(proc.wait(), TIMEOUT)
        assert rc == 0, rc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        server.close()


async def quit_(board, elf, tmp):
    path = os.path.join(tmp, "q.qmp")
    proc = await asyncio.create_subprocess_exec(
        board, "-bios", "none", "-kernel", elf, "-S",
        "-qmp", f"unix:{path},server=on,wait=off",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL)
    try:
        mon = await connect_unix(path)
        await mon.greeting()
        assert await mon.cmd("query-name") == {}
        assert await mon.cmd("quit") == {}
        d = await mon.event("SHUTDOWN")  # before the reply, as QEMU
        assert d == {"guest": False, "reason": "host-qmp-quit"}, d
        rc = await asyncio.wait_for(proc.wait(), TIMEOUT)
        assert rc == 0, rc
        assert not os.path.exists(path), "socket file left behind"
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def no_shutdown(board, elf, tmp, guest_args=None, accel="TCG"):
    path = os.path.join(tmp, "ns.qmp")
    if guest_args is None:
        guest_args = ["-bios", "none", "-kernel", elf]
    proc = await asyncio.create_subprocess_exec(
        board, *guest_args, "-S", "-no-shutdown",
        "-name", "ns,debug-threads=on",
        "-qmp", f"unix:{path},server=on,wait=off",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL)
    try:
        mon = await connect_unix(path)
        await mon.greeting()
        tid = (await mon.cmd("query-cpus-fast"))[0]["thread-id"]
        with open(f"/proc/{proc.pid}/task/{tid}/comm") as f:
            comm = f.read()
        assert comm == f"CPU 0/{accel}\n", comm
        for round_ in range(2):
            assert await mon.cmd("cont") == {}
            assert await mon.event("RESUME") is None
            d = await mon.event("SHUTDOWN")
            assert d == {"guest": True, "reason": "guest-shutdown"}, d
            assert await mon.event("STOP") is None
            await asyncio.sleep(0.3)
            assert proc.returncode is None, "exited under -no-shutdown"
            st = await mon.cmd("query-status")
            assert st == {"running": False, "singlestep": False,
                          "status": "shutdown"}, st
            # QEMU: "Resetting the Virtual Machine is required".
            mon.w.write(b'{"execute":"cont"}\n')
            err = await mon.msg()
            assert err["error"]["class"] == "GenericError", err
            assert await mon.cmd("system_reset") == {}
            d = await mon.event("RESET")
            assert d == {"guest": False,
                         "reason": "host-qmp-system-reset"}, d
            st = await mon.cmd("query-status")
            assert st["status"] == "prelaunch", (round_, st)
        assert await mon.cmd("quit") == {}
        d = await mon.event("SHUTDOWN")
        assert d == {"guest": False, "reason": "host-qmp-quit"}, d
        rc = await asyncio.wait_for(proc.wait(), TIMEOUT)
        assert rc == 0, rc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def daemonize(board, elf, tmp):
    path = os.path.join(tmp, "d.qmp")
    pidfile = os.path.join(tmp, "d.pid")
    argv = [board, "-bios", "none", "-kernel", elf, "-S", "-daemonize",
            "-pidfile", pidfile, "-id", "112", "-no-shutdown",
            "-qmp", f"unix:{path},server=on,wait=off"]
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert proc.returncode == 0, (proc.returncode, err)
    pid = None
    try:
        # Ready means listening: no retry.
        mon = qmp(*await asyncio.open_unix_connection(path))
        await mon.greeting()
        with open(pidfile) as f:
            text = f.read()
        assert text.endswith("\n") and text.strip().isdigit(), text
        pid = int(text)
        assert pid != proc.pid and os.path.isdir(f"/proc/{pid}"), pid
        assert os.getsid(pid) != os.getsid(0), "still in our session"
        st = await mon.cmd("query-status")
        assert st["status"] == "prelaunch", st
        # A second instance cannot take the pid file.
        argv2 = [a.replace("d.qmp", "d2.qmp") for a in argv]
        second = await asyncio.create_subprocess_exec(
            *argv2, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
        _, err2 = await asyncio.wait_for(second.communicate(), TIMEOUT)
        assert second.returncode == 1, second.returncode
        assert b"d.pid" in err2, err2
        with open(pidfile) as f:
            assert int(f.read()) == pid
        assert await mon.cmd("quit") == {}
        for _ in range(TIMEOUT * 20):
            if not os.path.exists(f"/proc/{pid}"):
                break
            await asyncio.sleep(0.05)
        assert not os.path.exists(f"/proc/{pid}"), "daemon still up"
        pid = None
        assert not os.path.exists(pidfile), "pid file left behind"
    finally:
        if pid is None and os.path.exists(pidfile):
            with open(pidfile) as f:
                pid = int(f.read() or 0) or None
        if pid is not None and os.path.exists(f"/proc/{pid}"):
            os.kill(pid, 9)


async def sigterm(board, elf, tmp):
    path = os.path.join(tmp, "t.qmp")
    pidfile = os.path.join(tmp, "t.pid")
    proc = await asyncio.create_subprocess_exec(
        board, "-bios", "none", "-kernel", elf, "-S", "-pidfile", pidfile,
        "-qmp", f"unix:{path},server=on,wait=off",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    try:
        mon = await connect_unix(path)
        await mon.greeting()
        with open(pidfile) as f:
            assert int(f.read()) == proc.pid
        proc.terminate()
        d = await mon.event("SHUTDOWN")
        assert d == {"guest": False, "reason": "host-signal"}, d
        _, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
        assert proc.returncode == 0, proc.returncode
        assert b"terminating on signal 15 from pid" in err, err
        assert not os.path.exists(pidfile), "pid file left behind"
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def pc_bios(tmp):
    """64 KiB whose reset vector writes 0 to isa-debug-exit, then halts."""
    code = bytes([0xba, 0x01, 0x05,  # mov dx, 0x501
                  0xb0, 0x00,        # mov al, 0
                  0xee,              # out dx, al
                  0xf4,              # hlt
                  0xeb, 0xfd])       # jmp hlt
    img = bytearray(64 << 10)
    img[0xfff0:0xfff0 + len(code)] = code
    path = os.path.join(tmp, "exit.bin")
    with open(path, "wb") as f:
        f.write(img)
    return path


async def pc_lite(board, tmp):
    bios = pc_bios(tmp)
    await no_shutdown(board, None, tmp, ["-bios", bios], "KVM")
    path = os.path.join(tmp, "pc.qmp")
    proc = await asyncio.create_subprocess_exec(
        board, "-bios", bios, "-S",
        "-qmp", f"unix:{path},server=on,wait=off",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL)
    try:
        mon = await connect_unix(path)
        await mon.greeting()
        assert await mon.cmd("cont") == {}
        assert await mon.event("RESUME") is None
        d = await mon.event("SHUTDOWN")
        assert d == {"guest": True, "reason": "guest-shutdown"}, d
        rc = await asyncio.wait_for(proc.wait(), TIMEOUT)
        assert rc == 1, rc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def kvm_usable():
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        return False


async def main(board, elf, pc=None):
    with tempfile.TemporaryDirectory() as tmp:
        await proxmox(board, elf, tmp)
        print("ok: Proxmox-style command line")
        await quit_(board, elf, tmp)
        print("ok: -qmp and quit")
        await no_shutdown(board, elf, tmp)
        print("ok: -no-shutdown, system_reset, cont, quit")
        await daemonize(board, elf, tmp)
        print("ok: -daemonize, -pidfile, -id")
        await sigterm(board, elf, tmp)
        print("ok: SIGTERM")
        if pc and kvm_usable():
            await pc_lite(pc, tmp)
            print("ok: pc-lite: -no-shutdown, debug-threads, SHUTDOWN")
        elif pc:
            print("skip: pc-lite: /dev/kvm is not usable")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
