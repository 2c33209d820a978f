#!/usr/bin/env python3
"""Linux 6.1 guests on riscv-virt (the linux test suite).

usage: linux-test.py CASE RISCV_VIRT INITRD [FPTEST_HOST]

Boots the kernel that scripts/build-linux.sh built (and cached; the path
comes from `build-linux.sh --path`, or $LIBVMCORE_LINUX_IMAGE) with
INITRD, whose /init (tests/linux/init.c) runs the actions named by
vmc.test= on the command line and powers off.  Each CASE is one meson test:

  boot     -initrd and -append: /init runs from the initramfs, sees the
           -append text in /proc/cmdline; the guest powers off (status 0)
  blk      a virtio-blk disk: the guest reads what the host wrote and
           writes a sector the host finds in its file after the run;
           size and serial as configured
  blk-ro   readonly=on: the guest cannot write; the file is unchanged
  hvc      virtio console both ways on /dev/hvc0 through a Unix socket
           (server=on: the board waits for the test to connect)
  hvc-nowait  the same with wait=off: the board boots at once and relays
           to whichever client connects
  rng      /dev/hwrng is virtio_rng.0 and gives changing bytes
  smp      -smp 4: all four harts online
  fp       static glibc programs (double/float, fenv rounding and flags,
           setjmp/longjmp, printf("%.17g")): output equal to the host's
  net-stream  virtio-net on -netdev stream (QEMU's 4-byte big-endian
           length framing), the board a client of this script's Unix
           socket, mac=...: the guest's /init sets eth0 up with raw ioctls
           and exchanges Ethernet frames (EtherType 0x88b5) on an AF_PACKET
           socket; the guest sends first, then echoes the host's frames
           changed (see net_loop() in init.c); the guest sees the MAC
  net-stream-server  the same with the board as the server (server=on)
           and -smp 4
  net-dgram  the same over -netdev dgram, on Unix datagram sockets and
           then on UDP over 127.0.0.1
  net-tap  a TAP in a network namespace of its own (unshare -n, this
           script again as net-tap-child): the guest configures
           10.0.2.15/24 with raw ioctls and talks UDP to 10.0.2.2:5555
           there.  Skipped without CAP_NET_ADMIN or /dev/net/tun
  net-qemu  net-stream, net-stream-server and net-dgram with the same
           command lines on qemu-system-riscv64 -M virt (skipped without)
  vsock    -device vmc-vsock-device: the host connects to the device's
           socket and names guest port 1234 (CONNECT), the guest answers
           its message changed; then the guest connects to CID 2 port
           5000, which is the Unix socket PATH_5000 here; ports nobody
           listens on are refused both ways (no OK; ECONNRESET)
  CASE-iothread  (blk, hvc, rng, net-stream, net-stream-server,
           net-dgram, vsock) the same case with -object iothread,id=iot0
           and iothread=iot0 on every virtio device: QEMU's spelling on
           virtio-blk-device, a libvmcore extension on the others
  qemu     the same kernel and initrd with a disk, entropy and -smp 2 on
           qemu-system-riscv64 -M virt and on riscv-virt: the same
           results, and the boot time to /init of both (and their ratio)

Exit status 77 (skipped) when the kernel has not been built or a peer is
missing.
"""
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIOS = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.elf"
TIMEOUT = float(os.environ.get("LINUX_TEST_TIMEOUT", "150"))
SKIP = 77


def kernel_image():
    path = os.environ.get("LIBVMCORE_LINUX_IMAGE")
    if not path:
        p = subprocess.run(["sh", os.path.join(TOP, "scripts",
                                               "build-linux.sh"), "--path"],
                           capture_output=True, text=True)
        path = p.stdout.strip()
    if not path or not os.path.isfile(path):
        print(f"SKIP: no kernel at {path!r}; run scripts/build-linux.sh")
        sys.exit(SKIP)
    return path


class Run:
    """A finished boot: status, console text, seconds to /init and in all."""

    def __init__(self, status, out, t_init, t_total, cpu):
        self.status, self.out = status, out
        self.t_init, self.t_total, self.cpu = t_init, t_total, cpu

    def lines(self, prefix="VMC "):
        return [l[len(prefix):] for l in self.out.splitlines()
                if l.startswith(prefix)]

    def value(self, key):
        for l in self.lines():
            if l.startswith(key + " "):
                return l[len(key) + 1:]
            if l == key:
                return ""
        return None


def boot(argv0, kernel, initrd, actions, extra=(), append="",
         during=None, qemu=False):
    """Boot to /init with vmc.test=ACTIONS; @during(proc) runs meanwhile."""
    cmdline = f"console=ttyS0 vmc.test={actions} {append}".strip()
    argv = [argv0]
    if qemu:
        argv += ["-M", "virt", "-display", "none", "-serial", "stdio",
                 "-monitor", "none", "-nodefaults"]
    argv += ["-m", "256", "-bios", BIOS, "-kernel", kernel, "-initrd",
             initrd, "-append", cmdline] + \
        (with_iothread(list(extra)) if IOTHREAD[0] and not qemu
         else list(extra))
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = ru.ru_utime + ru.ru_stime
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.set_blocking(proc.stdout.fileno(), False)
    out, t_init = b"", None
    iot_seen = False
    if during:
        during(proc)
    while True:
        if IOTHREAD[0] and not qemu and not iot_seen:
            iot_seen = "IO iot0" in thread_names(proc.pid)
        chunk = None
        try:
            chunk = proc.stdout.read()
        except BlockingIOError:
            pass
        if chunk:
            out += chunk
            if t_init is None and b"VMC-INIT up" in out:
                t_init = time.monotonic() - start
        elif proc.poll() is not None:
            rest = proc.stdout.read() or b""
            out += rest
            if t_init is None and b"VMC-INIT up" in out:
                t_init = time.monotonic() - start
            break
        else:
            time.sleep(0.02)
        if time.monotonic() - start > TIMEOUT:
            proc.kill()
            proc.wait()
            print(out.decode(errors="replace")[-3000:])
            fail(f"{argv0}: no power-off within {TIMEOUT} s")
    err = proc.stderr.read().decode(errors="replace")
    text = out.decode(errors="replace").replace("\r", "")
    if proc.returncode != 0 or "VMC-INIT done" not in text:
        print(text[-4000:])
        print(err[-2000:])
        fail(f"{argv0}: status {proc.returncode}, "
             f"{'no' if 'VMC-INIT done' not in text else ''} VMC-INIT done")
    if IOTHREAD[0] and not qemu:
        check(iot_seen, "the board ran an I/O thread named 'IO iot0'")
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Run(proc.returncode, text, t_init, time.monotonic() - start,
               ru.ru_utime + ru.ru_stime - cpu0)


IOTHREAD = [False]  # CASE-iothread: every virtio device on an I/O thread
IOTHREAD_MODELS = ("virtio-blk-device", "virtio-net-device",
                   "virtio-serial-device", "virtio-rng-device",
                   "vmc-vsock-device")


def thread_names(pid):
    names = set()
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/comm") as f:
                names.add(f.read().strip())
    except OSError:
        pass
    return names


def with_iothread(extra):
    """@extra with -object iothread and iothread= on each virtio device."""
    out = ["-object", "iothread,id=iot0"]
    for i, a in enumerate(extra):
        if i and extra[i - 1] == "-device" and \
                a.split(",")[0] in IOTHREAD_MODELS:
            a += ",iothread=iot0"
        out.append(a)
    return out


failures = []


def check(cond, what):
    print(f"{'ok  ' if cond else 'FAIL'} {what}")
    if not cond:
        failures.append(what)


def fail(msg):
    print(f"FAIL {msg}")
    sys.exit(1)


SECTOR0 = b"libvmcore disk: sector 0 from the host\0" + bytes(range(25))


def disk(tmp, name):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(SECTOR0 + bytes(512 - len(SECTOR0)))
        f.write(b"\xaa" * 512)
        f.truncate(4 << 20)
    return path


def guest_sector1():
    s = bytearray(512)
    msg = b"written by the guest's /init\0"
    s[:len(msg)] = msg
    for i in range(64, 512):
        s[i] = i & 0xff
    return bytes(s)


def case_boot(virt, kernel, initrd, tmp):
    r = boot(virt, kernel, initrd, "cmdline,initrd",
             append="vmc.marker=from-append quiet")
    check(r.status == 0, "the guest powered off (status 0)")
    check("vmc.marker=from-append" in (r.value("cmdline") or ""),
          f"-append reached /proc/cmdline: {r.value('cmdline')!r}")
    check((r.value("initrd-root") or "").split(" ")[4:5] == ["/"],
          f"/init runs from the initramfs root: {r.value('initrd-root')!r}")
    print(f"boot to /init: {r.t_init:.2f} s, power-off after "
          f"{r.t_total:.2f} s")


def case_blk(virt, kernel, initrd, tmp):
    img = disk(tmp, "disk.img")
    r = boot(virt, kernel, initrd, "blk", append="quiet", extra=[
        "-drive", f"file={img},if=none,id=d0,format=raw",
        "-device", "virtio-blk-device,drive=d0,serial=vmc-serial-123"])
    read = (r.value("blk-read") or "").split()
    check(read == ["512", SECTOR0[:32].hex()],
          f"the guest read the host's sector 0: {read}")
    check(r.value("blk-write") == "512", "pwrite of sector 1: 512")
    check(r.value("blk-fsync") == "0", "fsync (a FLUSH): 0")
    check(r.value("blk-sectors") == str(4 << 11),
          f"capacity 8192 sectors: {r.value('blk-sectors')}")
    check(r.value("blk-serial") == "vmc-serial-123",
          f"serial: {r.value('blk-serial')!r}")
    check("/10008000.virtio_mmio/" in (r.value("blk-sysfs") or ""),
          f"the first -device sits in the last slot: {r.value('blk-sysfs')}")
    with open(img, "rb") as f:
        data = f.read(1024)
    check(data[512:1024] == guest_sector1(),
          "the host file holds the guest's sector 1")
    check(data[:512] == SECTOR0 + bytes(512 - len(SECTOR0)),
          "sector 0 unchanged")


def case_blk_ro(virt, kernel, initrd, tmp):
    img = disk(tmp, "ro.img")
    with open(img, "rb") as f:
        before = f.read()
    r = boot(virt, kernel, initrd, "blkro", append="quiet", extra=[
        "-drive", f"file={img},if=none,id=d0,format=raw,readonly=on",
        "-device", "virtio-blk-device,drive=d0"])
    opened = r.value("blkro-open")
    wrote = r.value("blkro-write")
    print(f"open(O_RDWR) {opened}, pwrite {wrote}, "
          f"fsync {r.value('blkro-fsync')}")
    check(opened is not None and (int(opened) < 0 or
                                  (wrote is not None and int(wrote) < 0)),
          "opening for writing or writing fails")
    if int(opened or 0) < 0:
        check((r.value("blkro-read") or "").split() ==
              ["512", SECTOR0[:32].hex()], "reading still works")
    with open(img, "rb") as f:
        check(f.read() == before, "the host file is unchanged")


def case_hvc(virt, kernel, initrd, tmp, wait="on"):
    path = os.path.join(tmp, "hvc.sock")
    got = {}

    def talk(proc):
        deadline = time.monotonic() + 30
        while not os.path.exists(path):
            if time.monotonic() > deadline or proc.poll() is not None:
                fail("the board never listened on the console socket")
            time.sleep(0.02)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.settimeout(TIMEOUT)
        buf = b""
        while b"hello from the guest on hvc0" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        got["hello"] = buf
        s.sendall(b"ping from the host\n")
        while b"echo: ping from the host" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        got["all"] = buf
        s.close()

    r = boot(virt, kernel, initrd, "hvc", append="quiet", during=talk, extra=[
        "-chardev", f"socket,id=con0,path={path},server=on,wait={wait}",
        "-device", "virtio-serial-device",
        "-device", "virtconsole,chardev=con0"])
    check(b"hello from the guest on hvc0" in got.get("hello", b""),
          "guest -> host on hvc0")
    check(r.value("hvc-got") == "ping from the host",
          f"host -> guest on hvc0: {r.value('hvc-got')!r}")
    check(b"echo: ping from the host" in got.get("all", b""),
          "the guest's echo came back")


def case_rng(virt, kernel, initrd, tmp):
    r = boot(virt, kernel, initrd, "rng", append="quiet",
             extra=["-device", "virtio-rng-device"])
    f = (r.value("rng") or "").split()
    check(len(f) == 5, f"rng line: {f}")
    if len(f) == 5:
        check(f[0] == "32" and f[1] == "32", "two reads of 32 bytes")
        check(f[2] != f[3] and f[2] != "00" * 32,
              "different, non-zero bytes")
        check(f[4] == "virtio_rng.0", f"current hw_random: {f[4]}")


def case_smp(virt, kernel, initrd, tmp):
    r = boot(virt, kernel, initrd, "smp", append="quiet",
             extra=["-smp", "4"])
    check(r.value("cpus") == "0-3", f"online harts: {r.value('cpus')!r}")
    print(f"-smp 4 boot to /init: {r.t_init:.2f} s")


def case_fp(virt, kernel, initrd, tmp, host_prog):
    want = subprocess.run([host_prog], capture_output=True, text=True,
                          check=True).stdout.splitlines()
    r = boot(virt, kernel, initrd, "run:fptest", append="quiet")
    out = r.out.splitlines()
    try:
        got = out[out.index("fptest start"):out.index("fptest end") + 1]
    except ValueError:
        got = []
    check(r.value("run fptest status") == "0",
          f"fptest exit status: {r.value('run fptest status')!r}")
    diff = [(i, w, g) for i, (w, g) in enumerate(zip(want, got)) if w != g]
    for i, w, g in diff[:10]:
        print(f"  line {i}: host  {w!r}\n           guest {g!r}")
    check(len(got) == len(want) and not diff,
          f"guest output equals the host's ({len(want)} lines, "
          f"{len(got)} from the guest, {len(diff)} differ)")


ETH_P_VMC = b"\x88\xb5"
HOST_MAC = bytes.fromhex("020000000001")
GUEST_MAC = "52:54:00:ab:cd:ef"
TAG = 16
BURST = 500


def tagged(tag, data):
    return tag.encode().ljust(TAG) + data


def csum(data):
    s = 0
    for b in data:
        s = (s * 31 + b) & 0xffffffff
    return s


def hello_data():
    return bytes((i * 7 + 3) & 0xff for i in range(1000 - TAG))


class Peer(threading.Thread):
    """The host end of the guest's net_loop(): @link has send(bytes) and
    recv() -> bytes (raising socket.timeout); @hdr says whether payloads
    are Ethernet frames (14-byte header) or UDP datagrams."""

    def __init__(self, link, hdr=True):
        super().__init__(daemon=True)
        self.link, self.hdr = link, hdr
        self.hello = None
        self.reply = None
        self.echoes = []  # (sent frame, answer)
        self.burst_bad = []  # indices of burst frames echoed wrong
        self.burst_done = 0
        self.burst_rate = 0.0
        self.error = None

    def frame(self, tag, data, dst):
        p = tagged(tag, data)
        return dst + HOST_MAC + ETH_P_VMC + p if self.hdr else p

    def payload(self, f):
        return f[14:] if self.hdr else f

    def wait_for(self, tag):
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            f = self.link.recv()
            if self.hdr and f[12:14] != ETH_P_VMC:
                continue
            if self.payload(f)[:TAG] == tag.encode().ljust(TAG):
                return f
        raise TimeoutError(f"no {tag!r} from the guest")

    def echo_of(self, f, src):
        p = self.payload(f)
        e = tagged("vmc-guest-echo", bytes(b ^ 0xa5 for b in p[TAG:]))
        return HOST_MAC + src + ETH_P_VMC + e if self.hdr else e

    def burst(self, src, count=BURST, window=16):
        """@count frames of changing sizes, @window of them in flight:
        the rings wrap many times, the guest's receive queue fills."""
        sent = []
        start = time.monotonic()
        for i in range(count):
            n = 1 + (i * 37) % (1400 - TAG)
            sent.append(self.frame("vmc-host-ping",
                                   i.to_bytes(4, "big") + os.urandom(n),
                                   src))
        nxt = 0
        for i in range(count):
            while nxt < count and nxt < i + window:
                self.link.send(sent[nxt])
                nxt += 1
            if self.wait_for("vmc-guest-echo") != self.echo_of(sent[i],
                                                               src):
                self.burst_bad.append(i)
            self.burst_done += 1
        self.burst_rate = count / (time.monotonic() - start)

    def run(self):
        try:
            self.hello = self.wait_for("vmc-guest-hello")
            src = self.hello[6:12] if self.hdr else b""
            data = os.urandom(700)
            self.link.send(self.frame("vmc-host-reply", data, src))
            self.reply = data
            for n in (60 - 14 - TAG, 600, 1514 - 14 - TAG):
                f = self.frame("vmc-host-ping", os.urandom(n), src)
                self.link.send(f)
                self.echoes.append((f, self.wait_for("vmc-guest-echo")))
            self.burst(src)
            self.link.send(self.frame("vmc-host-end", b"", src))
        except Exception as e:  # reported by check_peer()
            self.error = repr(e)


def check_peer(peer, r, how, mac=GUEST_MAC):
    peer.join(5)
    check(peer.error is None, f"{how}: host peer: {peer.error}")
    want_mac = bytes.fromhex(mac.replace(":", ""))
    check((r.value("net-mac") or "").split() == [mac, "0"],
          f"{how}: the guest sees eth0's MAC {r.value('net-mac')!r}")
    check(r.value("net-up") == "0", f"{how}: SIOCSIFFLAGS IFF_UP: "
          f"{r.value('net-up')}")
    flags = int(r.value("net-flags") or "0")
    check(flags & 0x41 == 0x41, f"{how}: eth0 UP and RUNNING "
          f"(flags {flags:#x})")
    check(r.value("net-carrier") == "1", f"{how}: carrier "
          f"{r.value('net-carrier')!r}")
    h = peer.hello or b""
    if peer.hdr:
        check(h[:12] == b"\xff" * 6 + want_mac and
              h[12:14] == ETH_P_VMC,
              f"{how}: guest -> host: broadcast frame from the guest's MAC "
              f"({h[:14].hex()})")
    check(peer.payload(h) == tagged("vmc-guest-hello", hello_data()),
          f"{how}: guest -> host: the guest's {len(h)}-byte hello arrived "
          f"intact")
    want = f"{TAG + len(peer.reply)} {csum(peer.reply)}" if peer.reply \
        else "?"
    check(r.value("net-reply") == want,
          f"{how}: host -> guest: the reply arrived intact "
          f"({r.value('net-reply')!r}, want {want!r})")
    check(len(peer.echoes) == 3, f"{how}: three host frames echoed")
    for f, e in peer.echoes:
        p = peer.payload(f)
        good = tagged("vmc-guest-echo", bytes(b ^ 0xa5 for b in p[TAG:]))
        if peer.hdr:
            good = HOST_MAC + want_mac + ETH_P_VMC + good
        check(e == good, f"{how}: {len(f)}-byte message echoed changed "
              f"({len(e)} bytes back)")
    check(peer.burst_done == BURST and not peer.burst_bad,
          f"{how}: a burst of {BURST} frames (16 in flight) echoed in "
          f"order: {peer.burst_done} back, wrong: {peer.burst_bad[:10]} "
          f"({peer.burst_rate:.0f} round trips/s)")
    check((r.value("net-done") or "").split() == [str(3 + BURST), "1"],
          f"{how}: the guest's count: {r.value('net-done')!r}")
    print(f"{how}: boot to /init {r.t_init:.2f} s, power-off after "
          f"{r.t_total:.2f} s")


class StreamLink:
    def __init__(self, sock):
        self.s = sock
        self.s.settimeout(40)

    def send(self, f):
        self.s.sendall(len(f).to_bytes(4, "big") + f)

    def recv(self):
        n = int.from_bytes(self.read(4), "big")
        return self.read(n)

    def read(self, n):
        got = b""
        while len(got) < n:
            c = self.s.recv(n - len(got))
            if not c:
                raise EOFError("the board closed the stream")
            got += c
        return got


class DgramLink:
    def __init__(self, sock, to):
        self.s, self.to = sock, to
        self.s.settimeout(40)

    def send(self, f):
        self.s.sendto(f, self.to)

    def recv(self):
        return self.s.recvfrom(65536)[0]


ON_QEMU = [False]  # net-qemu: the same cases on qemu-system-riscv64


def nic(netdev):
    return ["-netdev", netdev, "-device",
            f"virtio-net-device,netdev=n0,mac={GUEST_MAC}"]


def case_net_stream(virt, kernel, initrd, tmp):
    path = os.path.join(tmp, "net.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(40)
    peers = []

    def start(proc):
        def run():
            try:
                c, _ = srv.accept()
            except OSError as e:
                peers[0].error = f"accept: {e!r}"
                return
            peers[0].link = StreamLink(c)
            Peer.run(peers[0])
        peers.append(Peer(None))
        peers[0].run = run
        peers[0].start()

    r = boot(virt, kernel, initrd, "net", append="quiet", during=start,
             qemu=ON_QEMU[0],
             extra=nic("stream,id=n0,server=off,addr.type=unix,"
                       f"addr.path={path}"))
    check_peer(peers[0], r, "stream (board client)")
    srv.close()


def case_net_stream_server(virt, kernel, initrd, tmp):
    path = os.path.join(tmp, "net.sock")
    peers = []

    def start(proc):
        p = Peer(None)
        peers.append(p)

        def run():
            deadline = time.monotonic() + 30
            while True:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(path)
                    break
                except OSError as e:
                    s.close()
                    if time.monotonic() > deadline or \
                            proc.poll() is not None:
                        p.error = f"connect: {e!r}"
                        return
                    time.sleep(0.02)
            p.link = StreamLink(s)
            Peer.run(p)
        p.run = run
        p.start()

    r = boot(virt, kernel, initrd, "net,smp", append="quiet", during=start,
             qemu=ON_QEMU[0],
             extra=["-smp", "4"] + nic("stream,id=n0,server=on,"
                                       f"addr.type=unix,addr.path={path}"))
    check_peer(peers[0], r, "stream (board server, -smp 4)")
    check(r.value("cpus") == "0-3", f"online harts: {r.value('cpus')!r}")


def case_net_dgram(virt, kernel, initrd, tmp):
    # Unix datagram sockets.
    mine = os.path.join(tmp, "peer.sock")
    board = os.path.join(tmp, "board.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(mine)
    peer = Peer(DgramLink(s, board))
    r = boot(virt, kernel, initrd, "net", append="quiet", qemu=ON_QEMU[0],
             during=lambda proc: peer.start(),
             extra=nic(f"dgram,id=n0,local.type=unix,local.path={board},"
                       f"remote.type=unix,remote.path={mine}"))
    check_peer(peer, r, "dgram unix")
    s.close()
    # UDP on 127.0.0.1: the board's port is found free first.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.bind(("127.0.0.1", 0))
    bport = t.getsockname()[1]
    t.close()
    peer = Peer(DgramLink(s, ("127.0.0.1", bport)))
    r = boot(virt, kernel, initrd, "net", append="quiet", qemu=ON_QEMU[0],
             during=lambda proc: peer.start(),
             extra=nic("dgram,id=n0,local.type=inet,local.host=127.0.0.1,"
                       f"local.port={bport},remote.type=inet,"
                       f"remote.host=127.0.0.1,"
                       f"remote.port={s.getsockname()[1]}"))
    check_peer(peer, r, "dgram udp")
    s.close()


def case_net_tap(virt, kernel, initrd, tmp):
    if not os.path.exists("/dev/net/tun") or not shutil.which("ip") or \
            subprocess.run(["unshare", "-n", "true"],
                           capture_output=True).returncode != 0:
        print("SKIP: no /dev/net/tun or ip, or no unshare -n here")
        sys.exit(SKIP)
    p = subprocess.run(["unshare", "-n", sys.executable,
                        os.path.abspath(__file__), "net-tap-child", virt,
                        initrd])
    sys.exit(p.returncode)


def case_net_tap_child(virt, kernel, initrd, tmp):
    """Inside the new network namespace."""
    name = "vmctap0"

    def ip(*a):
        return subprocess.run(["ip"] + list(a),
                              capture_output=True).returncode == 0
    if not ip("tuntap", "add", "dev", name, "mode", "tap"):
        print("SKIP: cannot create a TAP here")
        sys.exit(SKIP)
    ip("link", "set", "lo", "up")
    check(ip("addr", "add", "10.0.2.2/24", "dev", name) and
          ip("link", "set", name, "up"), "host side 10.0.2.2/24 up")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.0.2.2", 5555))

    class Link(DgramLink):
        def recv(self):
            d, self.to = self.s.recvfrom(65536)
            return d
    peer = Peer(Link(s, None), hdr=False)
    r = boot(virt, kernel, initrd, "nettap", append="quiet",
             during=lambda proc: peer.start(),
             extra=nic(f"tap,id=n0,ifname={name},script=no,downscript=no"))
    check(r.value("net-ifaddr") == "0" and r.value("net-netmask") == "0",
          f"SIOCSIFADDR {r.value('net-ifaddr')}, SIOCSIFNETMASK "
          f"{r.value('net-netmask')}")
    check(r.value("net-bind") == "0", "the guest bound UDP port 7777")
    check_peer(peer, r, "tap udp")
    check(peer.link.to == ("10.0.2.15", 7777),
          f"the guest's address: {peer.link.to}")


def case_net_qemu(virt, kernel, initrd, tmp):
    """The stream and dgram cases, command lines unchanged, on QEMU: the
    guest program and this peer agree with the reference machine."""
    qemu = shutil.which("qemu-system-riscv64")
    if not qemu:
        print("SKIP: no qemu-system-riscv64")
        sys.exit(SKIP)
    ON_QEMU[0] = True
    for fn in (case_net_stream, case_net_stream_server, case_net_dgram):
        fn(qemu, kernel, initrd, tmp)


def case_vsock(virt, kernel, initrd, tmp):
    path = os.path.join(tmp, "v.sock")
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(path + "_5000")
    lst.listen(1)
    lst.settimeout(40)
    res = {}
    msg = os.urandom(150000)

    def host(proc):
        deadline = time.monotonic() + 30
        while True:  # until the guest listens on port 1234
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            try:
                s.connect(path)
                s.sendall(b"CONNECT 1234\n")
                line = b""
                while not line.endswith(b"\n"):
                    c = s.recv(1)
                    if not c:
                        raise EOFError("closed before OK")
                    line += c
                res["ok"] = line
                break
            except (OSError, EOFError) as e:
                s.close()
                if time.monotonic() > deadline or proc.poll() is not None:
                    res["error"] = f"CONNECT 1234: {e!r}"
                    return
                time.sleep(0.05)
        s.sendall(len(msg).to_bytes(4, "big") + msg)
        back = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            back += c
        res["back"] = back
        s.close()
        # A port nobody listens on: closed without "OK".
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(path)
        s.sendall(b"CONNECT 4321\n")
        try:
            res["nolistener"] = s.recv(100)
        except OSError as e:
            res["nolistener"] = repr(e)
        s.close()
        c, _ = lst.accept()
        c.settimeout(30)
        got = b""
        while len(got) < 200004:
            d = c.recv(65536)
            if not d:
                break
            got += d
        res["got"] = got
        c.sendall(f"host got {len(got)} bytes, csum {csum(got[4:])}\n"
                  .encode())
        c.close()

    def start(proc):
        t = threading.Thread(target=host, args=(proc,), daemon=True)
        res["thread"] = t
        t.start()

    r = boot(virt, kernel, initrd, "vsock", append="quiet", during=start,
             extra=["-device",
                    f"vmc-vsock-device,guest-cid=3,uds-path={path}"])
    res["thread"].join(5)
    check("error" not in res, f"host side: {res.get('error')}")
    ok = res.get("ok", b"")
    check(ok.startswith(b"OK ") and ok[3:-1].isdigit(),
          f"CONNECT 1234 answered {ok!r}")
    check(r.value("vsock-listen") == "0", "the guest listens on port 1234")
    check(r.value("vsock-in") == f"{len(msg)} {csum(msg)}",
          f"host -> guest: {len(msg)} bytes arrived intact "
          f"({r.value('vsock-in')!r})")
    want = len(msg).to_bytes(4, "big") + bytes(b ^ 0x5a for b in msg)
    back = res.get("back", b"")
    check(back == want, f"guest -> host on the host's connection: "
          f"{len(back)} bytes, changed as expected")
    got = res.get("got", b"")
    pattern = (200000).to_bytes(4, "big") + bytes(
        (i * 13 + 1) & 0xff for i in range(200000))
    check(got == pattern, f"guest -> host on PATH_5000: {len(got)} bytes "
          "intact")
    check(res.get("nolistener") == b"",
          f"CONNECT to a port the guest does not listen on: closed "
          f"({res.get('nolistener')!r})")
    check(r.value("vsock-refused") in ("-104", "-111"),
          f"the guest's connect to a host port nobody listens on fails: "
          f"{r.value('vsock-refused')} (ECONNRESET or ECONNREFUSED)")
    check(r.value("vsock-connect") == "0", "the guest's connect to CID 2")
    check(r.value("vsock-out") ==
          f"200004 host got 200004 bytes, csum {csum(pattern[4:])}",
          f"host -> guest on the guest's connection: "
          f"{r.value('vsock-out')!r}")
    print(f"vsock: boot to /init {r.t_init:.2f} s, power-off after "
          f"{r.t_total:.2f} s")
    lst.close()


def case_qemu(virt, kernel, initrd, tmp):
    qemu = shutil.which("qemu-system-riscv64")
    if not qemu:
        print("SKIP: no qemu-system-riscv64")
        sys.exit(SKIP)
    runs = {}
    for name, prog, q in (("riscv-virt", virt, False), ("qemu", qemu, True)):
        img = disk(tmp, f"{name}.img")
        runs[name] = boot(prog, kernel, initrd, "smp,blk,rng",
                          append="quiet", qemu=q, extra=[
                              "-smp", "2",
                              "-drive", f"file={img},if=none,id=d0,"
                              "format=raw",
                              "-device", "virtio-blk-device,drive=d0",
                              "-device", "virtio-rng-device"])
        with open(img, "rb") as f:
            check(f.read(1024)[512:] == guest_sector1(),
                  f"{name}: the guest's write reached the file")

    def results(r):
        return [l for l in r.lines() if not l.startswith("rng ")]

    a, b = runs["riscv-virt"], runs["qemu"]
    check(results(a) == results(b),
          f"same results: {results(a)} / {results(b)}")
    check((a.value("rng") or "").endswith("virtio_rng.0") and
          (b.value("rng") or "").endswith("virtio_rng.0"), "both have rng")
    print(f"boot to /init (-smp 2, 256 MiB, disk+rng): riscv-virt "
          f"{a.t_init:.2f} s, qemu-system-riscv64 {b.t_init:.2f} s, "
          f"ratio {a.t_init / b.t_init:.2f}")
    print(f"to power-off: riscv-virt {a.t_total:.2f} s, qemu "
          f"{b.t_total:.2f} s, ratio {a.t_total / b.t_total:.2f}")
    print(f"CPU time (user+sys) to power-off: riscv-virt {a.cpu:.2f} s, "
          f"qemu {b.cpu:.2f} s, ratio {a.cpu / b.cpu:.2f}")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    case, virt, initrd = sys.argv[1:4]
    kernel = kernel_image()
    tmp = tempfile.mkdtemp(prefix="vmc-linux-")
    iot_cases = ("blk", "hvc", "rng", "net-stream", "net-stream-server",
                 "net-dgram", "vsock")
    if case.endswith("-iothread") and case[:-len("-iothread")] in iot_cases:
        IOTHREAD[0] = True
        case = case[:-len("-iothread")]
    try:
        fn = {"boot": case_boot, "blk": case_blk, "blk-ro": case_blk_ro,
              "hvc": case_hvc, "rng": case_rng,
              "hvc-nowait": lambda *a: case_hvc(*a, wait="off"), "smp": case_smp,
              "qemu": case_qemu, "net-stream": case_net_stream,
              "net-stream-server": case_net_stream_server,
              "net-dgram": case_net_dgram, "net-tap": case_net_tap,
              "net-qemu": case_net_qemu,
              "net-tap-child": case_net_tap_child,
              "vsock": case_vsock}.get(case)
        if case == "fp":
            if len(sys.argv) < 5:
                print("SKIP: no static glibc for the guest")
                sys.exit(SKIP)
            case_fp(virt, kernel, initrd, tmp, sys.argv[4])
        elif fn:
            fn(virt, kernel, initrd, tmp)
        else:
            sys.exit(f"unknown case {case}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failed: {failures}")
        sys.exit(1)


if __name__ == "__main__":
    main()
