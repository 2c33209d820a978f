#!/usr/bin/env python3
"""riscv-virt's -cpu rv64,EXT=on|off and the device tree's ISA properties.

usage: cpu-opts.py RISCV_VIRT GUEST_DIR

GUEST_DIR holds the tests/guest/riscv ELFs (their finisher, UART and RAM
are where riscv-virt has them).  Checks:
- with every switchable extension off, ext-off.elf passes (each one's
  instructions trap) and without -cpu it fails at its first case;
- isa-bitmanip.elf passes under rv64 and max and fails with zbc=off,
  svpbmt.elf passes and fails with svpbmt=off, sstc.elf likewise with
  sstc=off (also with -icount);
- riscv,isa, riscv,isa-base, riscv,isa-extensions and the cache-block
  sizes (-M virt,dumpdtb=FILE) name exactly the extensions left on;
- bad -cpu arguments are refused with QEMU's wording.
"""
import os
import struct
import subprocess
import sys
import tempfile

failures = []
ALL_OFF = ("zba=off,zbb=off,zbc=off,zbs=off,zicond=off,zicbom=off,"
           "zicboz=off,sstc=off,svpbmt=off")
DEFAULT_EXTS = ["i", "m", "a", "f", "d", "c", "zicbom", "zicbop", "zicboz", "zicntr",
                "zicond", "zicsr", "zifencei", "zihintpause", "zihpm", "zba",
                "zbb", "zbc", "zbs", "sstc", "svpbmt"]


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name} {detail}")
    if not ok:
        failures.append(f"{name}: {detail}")


def run(virt, args):
    p = subprocess.run([virt] + args, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=60)
    return p.returncode, p.stderr.decode(errors="replace")


def fdt_cpu0(blob):
    """Properties of /cpus/cpu@0 of a flattened device tree blob."""
    magic, total, off_struct, off_strings = struct.unpack(">IIII", blob[:16])
    assert magic == 0xd00dfeed, hex(magic)
    pos, path, props = off_struct, [], {}
    while True:
        tok, = struct.unpack(">I", blob[pos:pos + 4])
        pos += 4
        if tok == 1:  # BEGIN_NODE
            end = blob.index(b"\0", pos)
            path.append(blob[pos:end].decode())
            pos = (end + 4) & ~3
        elif tok == 2:  # END_NODE
            path.pop()
        elif tok == 3:  # PROP
            ln, nameoff = struct.unpack(">II", blob[pos:pos + 8])
            pos += 8
            val = blob[pos:pos + ln]
            pos = (pos + ln + 3) & ~3
            nend = blob.index(b"\0", off_strings + nameoff)
            name = blob[off_strings + nameoff:nend].decode()
            if "/".join(path) == "/cpus/cpu@0":
                props[name] = val
        elif tok == 4:  # NOP
            continue
        elif tok == 9:  # END
            return props


def strings(v):
    return v.rstrip(b"\0").decode().split("\0")


def u32(v):
    return struct.unpack(">I", v)[0]


def dtb_case(virt, guest, tmp, cpu, want_exts):
    path = os.path.join(tmp, "virt.dtb")
    args = ["-M", "virt,dumpdtb=" + path, "-bios", "none", "-kernel", guest]
    if cpu:
        args += ["-cpu", cpu]
    st, err = run(virt, args)
    check(f"dumpdtb {cpu}", st == 0, err.strip())
    if st:
        return
    with open(path, "rb") as f:
        props = fdt_cpu0(f.read())
    isa = "rv64" + "".join(e for e in want_exts if len(e) == 1) + "".join(
        "_" + e for e in want_exts if len(e) > 1)
    got = strings(props.get("riscv,isa", b""))[0]
    check(f"riscv,isa {cpu}", got == isa, f"{got} (want {isa})")
    got = strings(props.get("riscv,isa-base", b""))
    check(f"riscv,isa-base {cpu}", got == ["rv64i"], str(got))
    got = strings(props.get("riscv,isa-extensions", b""))
    check(f"riscv,isa-extensions {cpu}", got == want_exts, str(got))
    for ext, prop in [("zicbom", "riscv,cbom-block-size"),
                      ("zicboz", "riscv,cboz-block-size"),
                      ("zicbop", "riscv,cbop-block-size")]:
        if ext in want_exts:
            check(f"{prop} {cpu}", u32(props.get(prop, b"\0\0\0\0")) == 64)
        else:
            check(f"no {prop} {cpu}", prop not in props)


def main():
    virt, gdir = sys.argv[1], sys.argv[2]
    ext_off = os.path.join(gdir, "ext-off.elf")
    bitmanip = os.path.join(gdir, "isa-bitmanip.elf")
    kern = ["-bios", "none", "-kernel"]

    st, err = run(virt, kern + [ext_off, "-cpu", "rv64," + ALL_OFF])
    check("ext-off with everything off", st == 0, err.strip())
    st, err = run(virt, kern + [ext_off])
    check("ext-off with everything on fails at case 1", st == 1, str(st))
    for cpu in ["rv64", "max", "rv64,zba=on,zicbop=off,zihintpause=false"]:
        st, err = run(virt, kern + [bitmanip, "-cpu", cpu])
        check(f"isa-bitmanip -cpu {cpu}", st == 0, err.strip())
    st, err = run(virt, kern + [bitmanip, "-cpu", "rv64,zbc=off"])
    check("isa-bitmanip -cpu rv64,zbc=off fails", st not in (0, 2), str(st))
    svpbmt = os.path.join(gdir, "svpbmt.elf")
    st, err = run(virt, kern + [svpbmt])
    check("svpbmt", st == 0, err.strip())
    # case 14: menvcfg.PBMTE is not set at reset
    st, err = run(virt, kern + [svpbmt, "-cpu", "rv64,svpbmt=off"])
    check("svpbmt -cpu rv64,svpbmt=off fails at case 14", st == 14, str(st))
    sstc = os.path.join(gdir, "sstc.elf")
    for args in [[], ["-icount", "shift=0"]]:
        st, err = run(virt, kern + [sstc] + args)
        check(f"sstc {args}", st == 0, err.strip())
    # case 1: stimecmp is illegal
    st, err = run(virt, kern + [sstc, "-cpu", "rv64,sstc=off"])
    check("sstc -cpu rv64,sstc=off fails at case 1", st == 1, str(st))

    with tempfile.TemporaryDirectory() as tmp:
        dtb_case(virt, ext_off, tmp, None, DEFAULT_EXTS)
        dtb_case(virt, ext_off, tmp, "rv64," + ALL_OFF,
                 [e for e in DEFAULT_EXTS if e not in
                  ("zba", "zbb", "zbc", "zbs", "zicond", "zicbom",
                   "zicboz", "sstc", "svpbmt")])
        dtb_case(virt, ext_off, tmp, "rv64,zicbop=off,zihintpause=off,"
                 "zbc=no", [e for e in DEFAULT_EXTS if e not in
                            ("zicbop", "zihintpause", "zbc")])

    for cpu, msg in [("rv64,zfoo=on", "property 'zfoo' not found"),
                     ("rv64,m=off", "'m' cannot be switched off"),
                     ("rv64,zicsr=off", "'zicsr' cannot be switched off"),
                     ("rv64,zba=maybe", "'maybe' is not on or off"),
                     ("rv64,zba", "'zba' needs =on or =off"),
                     ("rv32", "unknown CPU model")]:
        st, err = run(virt, kern + [ext_off, "-cpu", cpu])
        check(f"-cpu {cpu} refused", st == 2 and msg in err, err.strip())
    if failures:
        print("\n".join(failures))
        sys.exit(1)


main()
