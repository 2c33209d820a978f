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
             initrd, "-append", cmdline] + list(extra)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = ru.ru_utime + ru.ru_stime
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.set_blocking(proc.stdout.fileno(), False)
    out, t_init = b"", None
    if during:
        during(proc)
    while True:
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
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Run(proc.returncode, text, t_init, time.monotonic() - start,
               ru.ru_utime + ru.ru_stime - cpu0)


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
    try:
        fn = {"boot": case_boot, "blk": case_blk, "blk-ro": case_blk_ro,
              "hvc": case_hvc, "rng": case_rng,
              "hvc-nowait": lambda *a: case_hvc(*a, wait="off"), "smp": case_smp,
              "qemu": case_qemu}.get(case)
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
