#!/usr/bin/env python3
"""Board runs that must be refused with a clear message (issue 17).

usage: board-args.py RISCV_VIRT GUEST_ELF [PC_LITE]

Each case runs a board with stdin on /dev/null and a timeout, and checks
its exit status, a piece of its stderr, and (for the loader cases) that
nothing reached the console:

- item 4: ELF kernels with a segment over the UART and over the SiFive
  test finisher (values 0x5555, pass, and 0x7777, reset: the old loader
  shut the VM down, or reset it forever at 100% CPU);
- item 8: a device tree that would land on the kernel (-m 2, and a small
  -m with a long -append);
- item 9: -m, -smp and image arguments that are not what they seem
  (wrapping sizes, trailing garbage, huge CPU counts, /dev/null, a FIFO,
  a directory), and sizes QEMU accepts.
- issue 12: -initrd placed as QEMU places it (checked in the device tree,
  against qemu-system-riscv64 when it is installed), refused when it does
  not fit or overlaps the device tree; -initrd and -append need -kernel;
  -drive, -device virtio-blk-device/virtio-serial-device/virtconsole and
  -chardev refused with QEMU's messages, and accepted in QEMU's spelling.

- networking: -netdev and -device virtio-net-device spellings that are
  refused (unsupported types and options, unknown or shared netdevs, bad
  MACs, TAP scripts), and stream and datagram backends the guest runs
  with.

GUEST_ELF is a guest that runs to completion (exit status 0) from
-bios none -kernel.  PC_LITE, when given, gets the argument cases that fail
before it needs /dev/kvm.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

TIMEOUT = int(os.environ.get("BOARD_TIMEOUT", "20"))
failures = []


def elf(segments, entry=0x80000000):
    """An ELF64 RISC-V executable; segments: [(paddr, data, memsz)]."""
    ehsize, phsize = 64, 56
    off = ehsize + phsize * len(segments)
    phdrs, body = b"", b""
    for paddr, data, memsz in segments:
        offset = off + len(body)
        phdrs += struct.pack("<IIQQQQQQ", 1, 7, offset, paddr, paddr,
                             len(data), memsz, 8)
        body += data + b"\0" * (-len(data) % 8)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    eh = ident + struct.pack("<HHIQQQIHHHHHH", 2, 243, 1, entry, ehsize, 0,
                             0, ehsize, phsize, len(segments), 64, 0, 0)
    return eh + phdrs + body


LOOP = struct.pack("<I", 0x0000006F)  # j .


def run(argv, status, err_part, name, out_forbidden=None):
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        failures.append(f"{name}: still running after {TIMEOUT} s")
        print(f"FAIL {name}: timeout")
        return
    err = p.stderr.decode(errors="replace")
    out = p.stdout
    ok = p.returncode == status and (err_part is None or err_part in err)
    if out_forbidden is not None and out_forbidden in out:
        ok = False
    print(f"{'ok  ' if ok else 'FAIL'} {name}: status {p.returncode}, "
          f"stderr {err.strip()[-200:]!r}")
    if not ok:
        failures.append(f"{name}: status {p.returncode} (want {status}), "
                        f"stderr {err!r} (want {err_part!r}), "
                        f"stdout {out[-200:]!r}")


def net_cases(virt, guest, tmp):
    """-netdev and -device virtio-net-device (issue 12)."""
    base = [virt, "-bios", "none", "-kernel", guest]
    nic = ["-device", "virtio-net-device,netdev=n0"]
    bad = [
        (["-netdev", "user,id=n0"], "type 'user' is not supported"),
        (["-netdev", "stream,id=n0,reconnect=1,addr.type=unix,"
          "addr.path=/x"], "Invalid parameter 'reconnect'"),
        (["-netdev", "stream,addr.type=unix,addr.path=/x"],
         "Parameter 'id' is missing"),
        (["-netdev", "dgram,id=n0,local.type=udp"],
         "local.type 'udp' is not inet, unix or fd"),
        (["-netdev", "dgram,id=n0", "-netdev", "dgram,id=n0"],
         "Duplicate ID 'n0' for netdev"),
        (nic, "can't find value 'n0'"),
        (["-device", "virtio-net-device"], "netdev= is required"),
        (["-netdev", "tap,id=n0,script=/etc/qemu-ifup"] + nic,
         "scripts are not run"),
        (["-netdev", "dgram,id=n0,local.type=inet,local.host=127.0.0.1,"
          "local.port=0", "-device",
          "virtio-net-device,netdev=n0,mac=01:00:5e:00:00:01"],
         "doesn't take value '01:00:5e:00:00:01'"),
        (["-netdev", "dgram,id=n0,local.type=inet,local.host=127.0.0.1,"
          "local.port=0"] + nic + nic, "it's in use"),
        (["-netdev", "stream,id=n0,server=off,addr.type=unix,"
          "addr.path=" + os.path.join(tmp, "nobody")] + nic,
         "No such file or directory"),
        (["-netdev", "dgram,id=n0,remote.type=inet,remote.host=224.0.0.1,"
          "remote.port=1234"] + nic, "Operation not supported"),
    ]
    for args, msg in bad:
        run(base + args, 2, msg, "net " + " ".join(args)[:70])
    sock = os.path.join(tmp, "net.sock")
    good = [
        ["-netdev", "stream,id=n0,server=on,addr.type=unix,addr.path="
         + sock] + nic,
        ["-netdev", "dgram,id=n0,local.type=inet,local.host=127.0.0.1,"
         "local.port=0,remote.type=inet,remote.host=127.0.0.1,"
         "remote.port=9"] + nic,
        ["-netdev", "dgram,id=n0,local.type=unix,local.path="
         + os.path.join(tmp, "dg.sock")] + nic
        + ["-device", "virtio-rng-device"],
    ]
    for args in good:
        run(base + args, 0, None, "net " + " ".join(args)[:70] +
            " (accepted)")
    if os.path.exists(sock):
        failures.append("the stream server's socket file outlived the board")
    net_qmp_case(base, tmp)


def net_qmp_case(base, tmp):
    """QMP's set_link by NIC id and by netdev id; unknown names refused."""
    import json
    import socket
    import time
    qmp = os.path.join(tmp, "qmp.sock")
    p = subprocess.Popen(base + [
        "-S", "-qmp", "unix:" + qmp + ",server=on,wait=off",
        "-netdev", "dgram,id=n0,local.type=inet,local.host=127.0.0.1,"
        "local.port=0", "-device", "virtio-net-device,netdev=n0,id=nic0"],
        stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            if os.path.exists(qmp):
                break
            time.sleep(0.05)
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(TIMEOUT)
        s.connect(qmp)
        f = s.makefile("rwb")

        def cmd(c, args=None):
            m = {"execute": c}
            if args is not None:
                m["arguments"] = args
            f.write(json.dumps(m).encode() + b"\r\n")
            f.flush()
            while True:
                r = json.loads(f.readline())
                if "event" not in r:
                    return r

        json.loads(f.readline())  # greeting
        cmd("qmp_capabilities")
        got = [cmd("set_link", {"name": "nic0", "up": False}),
               cmd("set_link", {"name": "n0", "up": True}),
               cmd("set_link", {"name": "eth9", "up": True}),
               cmd("set_link", {"name": "nic0"})]
        want = [{"return": {}}, {"return": {}},
                ("DeviceNotFound", "Device 'eth9' not found"),
                ("GenericError", "Parameter 'up' is missing")]
        for g, w in zip(got, want):
            ok = g == w if isinstance(w, dict) else (
                g.get("error", {}).get("class") == w[0] and
                g["error"].get("desc") == w[1])
            print(f"{'ok  ' if ok else 'FAIL'} net qmp set_link: {g}")
            if not ok:
                failures.append(f"set_link: {g}, want {w}")
        cmd("quit")
        p.wait(TIMEOUT)
    except Exception as e:  # noqa: BLE001 - any failure is the test's
        failures.append(f"net qmp set_link: {e!r}")
        p.kill()
        p.wait()


def dtb_props(blob):
    """{node path: {property: bytes}} of a flattened device tree."""
    magic, _, off_struct, off_strings = struct.unpack(">IIII", blob[:16])
    assert magic == 0xd00dfeed
    props, path, pos = {}, [], off_struct
    while True:
        tok, = struct.unpack(">I", blob[pos:pos + 4])
        pos += 4
        if tok == 1:
            end = blob.index(b"\0", pos)
            path.append(blob[pos:end].decode())
            pos = (end + 4) & ~3
            props.setdefault("/" + "/".join(p for p in path if p), {})
        elif tok == 2:
            path.pop()
        elif tok == 3:
            ln, nameoff = struct.unpack(">II", blob[pos:pos + 8])
            pos += 8
            nend = blob.index(b"\0", off_strings + nameoff)
            name = blob[off_strings + nameoff:nend].decode()
            node = "/" + "/".join(p for p in path if p)
            props[node][name] = blob[pos:pos + ln]
            pos = (pos + ln + 3) & ~3
        elif tok == 9:
            return props


def initrd_range(prog, args, dtb):
    """linux,initrd-start/end from PROG -M virt,dumpdtb=DTB ARGS."""
    p = subprocess.run([prog, "-M", f"virt,dumpdtb={dtb}"] + args,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=TIMEOUT)
    if p.returncode != 0 or not os.path.exists(dtb):
        return f"status {p.returncode}: {p.stderr.decode()[-200:]}"
    with open(dtb, "rb") as f:
        chosen = dtb_props(f.read()).get("/chosen", {})
    os.unlink(dtb)
    # QEMU 7 writes one cell, later versions two: compare the numbers.
    return tuple(int.from_bytes(chosen[k], "big") if k in chosen else None
                 for k in ("linux,initrd-start", "linux,initrd-end"))


def devices_and_initrd(virt, guest, tmp, write):
    """Issue 12: -initrd, -append, -drive, -device, -chardev."""
    raw = write("rawk.bin", LOOP * 16)
    rd = write("initrd.img", os.urandom(1000))
    qemu = shutil.which("qemu-system-riscv64")
    dtb = os.path.join(tmp, "x.dtb")
    for mem, kernel, bios, want in (
            ("256", raw, [], 0x80200000 + (128 << 20)),
            ("64", raw, [], 0x80200000 + (32 << 20)),
            ("1G", raw, [], 0x80200000 + (128 << 20)),
            ("64", guest, ["-bios", "none"], 0x80000000 + (32 << 20))):
        args = ["-m", mem] + bios + ["-kernel", kernel, "-initrd", rd]
        got = initrd_range(virt, args, dtb)
        name = f"-initrd with -m {mem} {' '.join(bios)} " \
               f"{'raw' if kernel == raw else 'ELF'} kernel"
        ok = got == (want, want + 1000)
        if ok and qemu and kernel == raw:
            theirs = initrd_range(qemu, args + ["-display", "none"], dtb)
            ok = theirs == got
            name += f" (QEMU: {theirs})"
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {got}")
        if not ok:
            failures.append(f"{name}: {got}, want {(want, want + 1000)}")
    big = write("big-initrd.img", b"\0" * (40 << 20))
    run([virt, "-m", "64", "-kernel", raw, "-initrd", big], 2,
        f"could not load ramdisk '{big}'", "-initrd past the end of RAM")
    over = write("over-initrd.img", b"\0" * (5 << 20))
    run([virt, "-m", "16", "-kernel", raw, "-initrd", over], 2,
        "overlaps the initrd", "-initrd under the device tree")
    run([virt, "-m", "64", "-kernel", raw, "-initrd",
         os.path.join(tmp, "missing")], 2, "could not load ramdisk",
        "-initrd missing file")
    run([virt, "-initrd", rd], 2, "-initrd only allowed with -kernel option",
        "-initrd without -kernel")
    run([virt, "-append", "x"], 2, "-append only allowed with -kernel option",
        "-append without -kernel")

    img = write("disk.img", b"\0" * 65536)
    drv = f"file={img},if=none,id=d0,format=raw"
    blk = ["-drive", drv, "-device", "virtio-blk-device,drive=d0"]
    bad = [
        (["-drive", drv + ",foo=bar"],
         "Block format 'raw' does not support the option 'foo'"),
        (["-drive", f"file={tmp}/nope.img,if=none,id=d0,format=raw"],
         "nope.img': No such file or directory"),
        (["-drive", "if=none,id=d0,format=raw"],
         'A block device must be specified for "file"'),
        (["-drive", drv.replace("raw", "qcow2")], "not supported"),
        (["-drive", drv + ",cache=bogus"], "invalid cache option"),
        (["-drive", drv + ",readonly=maybe"],
         "Parameter 'read-only' expects 'on' or 'off'"),
        (["-drive", drv.replace("if=none", "if=scsi")], "if=scsi"),
        (["-drive", drv, "-drive", drv], "Duplicate ID 'd0' for drive"),
        (["-device", "virtio-blk-device,drive=d1"],
         "Property 'virtio-blk-device.drive' can't find value 'd1'"),
        (["-device", "virtio-blk-device"], "drive property not set"),
        (blk[:2] + ["-device", "virtio-blk-device,drive=d0,foo=1"],
         "Property 'virtio-blk-device.foo' not found"),
        (blk + ["-device", "virtio-blk-device,drive=d0"],
         "Drive 'd0' is already in use by another device"),
        (["-device", "foo-device"],
         "'foo-device' is not a valid device model name"),
        (["-device", "virtconsole,chardev=c"],
         "No 'virtio-serial-bus' bus found for device 'virtconsole'"),
        (["-device", "virtio-serial-device", "-device",
          "virtconsole,chardev=c"],
         "Property 'virtconsole.chardev' can't find value 'c'"),
        (["-chardev", "null,id=c", "-device", "virtio-serial-device",
          "-device", "virtio-serial-device", "-device",
          "virtconsole,chardev=c", "-device", "virtconsole,chardev=c"],
         "Property 'virtconsole.chardev' can't take value 'c': Device 'c' "
         "is in use"),
        (["-chardev", "foo,id=c"], "'foo' is not a valid char driver name"),
        (["-chardev", "null,id=c", "-chardev", "null,id=c"],
         "Duplicate ID 'c' for chardev"),
        (["-chardev", "null,id=c,foo=1"], "Invalid parameter 'foo'"),
        (["-chardev", f"pipe,id=c,path={tmp}/nonexist", "-device",
          "virtio-serial-device", "-device", "virtconsole,chardev=c"],
         "nonexist': No such file or directory"),
        (["-chardev", f"socket,id=c,path={tmp}/nobody.sock", "-device",
          "virtio-serial-device", "-device", "virtconsole,chardev=c"],
         "Failed to connect to"),
        (["-device", "virtio-rng-device"] * 9,
         "No 'virtio-bus' bus found for device 'virtio-rng-device'"),
    ]
    for args, msg in bad:
        run([virt, "-bios", "none", "-kernel", guest] + args, 2, msg,
            "riscv-virt " + " ".join(args)[-70:])
    out = os.path.join(tmp, "console.out")
    for args in (
            blk + ["-device", "virtio-rng-device"],
            ["-drive", drv + ",readonly=on,cache=writethrough", "-device",
             "virtio-blk-device,drive=d0,serial=0123456789abcdefghijXYZ,"
             "num-queues=2,queue-size=128"],
            ["-drive", drv + ",cache=unsafe,aio=threads", "-device",
             "virtio-blk-device,id=disk,drive=d0"],
            ["-chardev", f"file,id=c,path={out}", "-device",
             "virtio-serial-device,id=ser", "-device",
             "virtconsole,chardev=c,bus=ser.0,name=org.test.0"],
            ["-chardev", "null,id=c", "-device", "virtio-serial-device",
             "-device", "virtconsole,chardev=c"],
            ["-chardev", f"socket,id=c,path={tmp}/con.sock,server=on,"
             "wait=off", "-device", "virtio-serial-device", "-device",
             "virtconsole,chardev=c"],
            ["-device", "virtio-serial-device"]):
        run([virt, "-bios", "none", "-kernel", guest] + args, 0, None,
            "riscv-virt " + " ".join(args)[-70:] + " (accepted)")


def main():
    virt, guest = sys.argv[1], sys.argv[2]
    pc_lite = sys.argv[3] if len(sys.argv) > 3 else None
    tmp = tempfile.mkdtemp()

    def write(name, data):
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    # Item 4: segments over devices.
    uart = write("uart.elf", elf([(0x80000000, LOOP, 4),
                                  (0x10000000, b"XYZ!", 4)]))
    run([virt, "-bios", "none", "-kernel", uart], 2,
        "0x10000000-0x10000003 is not all writable RAM or ROM",
        "segment over the UART", out_forbidden=b"X")
    for value, what in ((0x5555, "pass"), (0x3333, "fail"),
                        (0x7777, "reset")):
        fin = write(f"fin{value:x}.elf",
                    elf([(0x80000000, LOOP, 4),
                         (0x100000, struct.pack("<I", value), 4)]))
        run([virt, "-bios", "none", "-kernel", fin], 2,
            "cannot load the kernel image: Bad address",
            f"segment over the test finisher ({what}, 0x{value:x})")

    # Item 8: the device tree over the kernel.
    run([virt, "-m", "2", "-bios", "none", "-kernel", guest], 2,
        "the device tree (0x80000000-", "-m 2: device tree on the kernel")
    run([virt, "-m", "2056K", "-bios", "none", "-kernel", guest], 0, None,
        "-m 2056K, short -append: fits")
    run([virt, "-m", "2056K", "-append", "x" * 100000, "-bios", "none",
         "-kernel", guest], 2, "overlaps the kernel (0x80000000-",
        "-m 2056K, long -append: device tree on the kernel")
    big = write("big.elf", elf([(0x80000000, LOOP, 0x210000)]))
    run([virt, "-m", "4", "-bios", "none", "-kernel", big], 2,
        "the device tree (0x80200000-", "kernel bss under the device tree")
    raw = write("raw.bin", LOOP * 1024)
    run([virt, "-m", "2", "-bios", raw, "-kernel", raw], 2,
        "the kernel (0x80200000-0x80200fff) does not fit in memory",
        "raw kernel past the end of RAM")

    # Item 9: arguments.
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    bad = [
        (["-m", "17179869186G"], "is out of range for parameter 'size'"),
        (["-m", "64Mjunk"], "Parameter 'size' expects"),
        (["-m", "-64"], "Parameter 'size' expects"),
        (["-m", " 64"], "Parameter 'size' expects"),
        (["-m", ""], "missing 'size' option value"),
        (["-m", "1.5"], "Parameter 'size' expects"),
        (["-m", "0x1.8G"], "Parameter 'size' expects"),
        (["-m", "18446744073709551616"], "out of range"),
        (["-m", "17592186044416"], "too large 'size' option value"),
        (["-m", "1"], "out of range (2 MiB to 64 GiB)"),
        (["-m", "64,slots=2"], "only the size of RAM"),
        (["-smp", "4294967297"], "Invalid SMP CPUs 4294967297"),
        (["-smp", "18446744073709551617"], "expects a number"),
        (["-smp", "2x"], "expects a number"),
        (["-smp", "-1"], "expects a number"),
        (["-smp", "0"], "Invalid SMP CPUs 0"),
        (["-smp", "cpus=2,sockets=2"], "no topology"),
        (["-kernel", "/dev/null"], "/dev/null: not a regular file"),
        (["-kernel", fifo], "fifo: not a regular file"),
        (["-kernel", tmp], ": not a regular file"),
        (["-kernel", write("empty", b"")], "empty file"),
        (["-kernel", os.path.join(tmp, "missing")],
         "cannot open: No such file or directory"),
        (["-bios", "/dev/null", "-kernel", guest],
         "firmware image /dev/null: not a regular file"),
    ]
    for args, msg in bad:
        argv = [virt] + (["-bios", "none"] if "-bios" not in args else [])
        argv += args
        if "-kernel" not in args:
            argv += ["-kernel", guest]
        run(argv, 2, msg, "riscv-virt " + " ".join(args)[:60])
    good = [["-m", "64M"], ["-m", "65536K"], ["-m", "0.0625G"],
            ["-m", "size=64"], ["-m", "0x40"], ["-smp", "cpus=2"],
            ["-smp", "0x2"]]
    for args in good:
        run([virt, "-bios", "none", "-kernel", guest] + args, 0, None,
            "riscv-virt " + " ".join(args) + " (accepted)")

    net_cases(virt, guest, tmp)


    devices_and_initrd(virt, guest, tmp, write)

    if pc_lite:
        for args, msg in bad:
            if "-kernel" in args or "-bios" in args:
                continue
            msg = msg.replace("(2 MiB to", "(1 MiB to")
            if args == ["-m", "1"]:
                args, msg = ["-m", "0"], "out of range (1 MiB to 64 GiB)"
            run([pc_lite] + args + ["-bios", raw], 2, msg,
                "pc-lite " + " ".join(args)[:60])
        for path, msg in (("/dev/null", "not a regular file"),
                          (fifo, "not a regular file"),
                          (tmp, "not a regular file"),
                          (raw, "multiple of 64 KiB")):
            run([pc_lite, "-bios", path], 2, msg, "pc-lite -bios " + path)

    shutil.rmtree(tmp)
    if failures:
        print(f"{len(failures)} failed:")
        for f in failures:
            print("  " + f)
        sys.exit(1)


if __name__ == "__main__":
    main()
