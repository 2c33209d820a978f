#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The same QMP conversation with QEMU and with riscv-virt, compared.

usage: test-qmp-qemu.py RISCV_VIRT TICKS_ELF [QEMU]

Both machines start stopped (-S) with a QMP socket; one client sends each
a script of requests (good ones, malformed ones, run-state changes) and
records the answers, normalised where the two legitimately differ
(version numbers, thread ids, timestamps, QEMU-only commands).  The two
transcripts must be equal: error classes and texts, reply shapes, ids,
and the events each state change brings, in order.  Skipped (77) without
qemu-system-riscv64.
"""
import asyncio
import json
import os
import shutil
import sys
import tempfile

TIMEOUT = 20

SCRIPT = [
    b'{"execute":"query-status","id":1}',
    b'{"execute":"qmp_capabilities","arguments":{"enable":["x"]}}',
    b'{"execute":"qmp_capabilities","id":"neg"}',
    b'{"execute":"qmp_capabilities"}',
    b'{"execute":"no-such-command","id":[1,{"a":null}]}',
    b'[1,2]',
    b'{"execute":3}',
    b'{"execute":"stop","arguments":[]}',
    b'{"execute":"stop","bogus":1}',
    b'{"exec-oob":"stop"}',
    b'{"arguments":{}}',
    b'{"execute":"stop","arguments":{"x":1}}',
    b'{"execute":"human-monitor-command"}',
    b'{"execute":"human-monitor-command","arguments":{"command-line":1}}',
    b'{"execute":"human-monitor-command","arguments":'
    b'{"command-line":"info status"}}',
    b'{"execute":"human-monitor-command","arguments":'
    b'{"command-line":"info status","cpu-index":5}}',
    b'{"execute": }',
    b'{"execute" "x"}',
    b'{"a":1 "b":2}',
    b'[1 2]',
    b'{1:2}',
    b'\x01',
    b'}',
    b'{"a":[1,]}',
    b'{"a":1,}',
    b'{"execute":"query-status","id":18446744073709551615}',
    b'{"execute":"query-name"}',
    b'{"execute":"query-kvm"}',
    b'{"execute":"query-version"}',
    b'{"execute":"query-memory-size-summary"}',
    b'{"execute":"query-cpus-fast"}',
    b'{"execute":"stop"}',
    b'{"execute":"cont","id":"c1"}',
    b'{"execute":"query-status"}',
    b'{"execute":"stop","id":"s1"}',
    b'{"execute":"query-status"}',
    b'{"execute":"system_reset","id":"r1"}',
    b'{"execute":"cont","id":"c2"}',
    b'{"execute":"stop","id":"s2"}',
    b'{"execute":"human-monitor-command","arguments":'
    b'{"command-line":"info status"}}',
    b'{"execute":"quit","id":"q"}',
]


def normalise(m):
    """Blank what legitimately differs between QEMU and libvmcore."""
    if "timestamp" in m:
        m["timestamp"] = {k: 0 for k in m["timestamp"]}
    r = m.get("return")
    if isinstance(r, dict) and "qemu" in r:
        r["qemu"] = {k: 0 for k in r["qemu"]}
        r["package"] = ""
    if isinstance(r, dict) and "base-memory" in r:
        r["base-memory"] = 0
    if isinstance(r, dict) and "present" in r:
        r["present"] = None
    if isinstance(r, list):  # query-cpus-fast
        m["return"] = [sorted(c) for c in r]
    if "QMP" in m:
        m["QMP"]["version"]["qemu"] = {
            k: 0 for k in m["QMP"]["version"]["qemu"]}
        m["QMP"]["version"]["package"] = ""
        m["QMP"]["capabilities"] = []  # QEMU offers oob; we do not
    return m


async def converse(argv, path):
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL)
    out = []
    try:
        for _ in range(TIMEOUT * 20):
            try:
                r, w = await asyncio.open_unix_connection(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("no QMP socket")

        async def read():
            try:
                line = await asyncio.wait_for(r.readline(), 2)
            except ConnectionError:
                return None
            return normalise(json.loads(line)) if line else None

        out.append(await read())
        for req in SCRIPT:
            out.append(">> " + req.decode())
            try:
                w.write(req + b"\n")
                await w.drain()
            except ConnectionError:
                out.append("connection lost")
                break
            # Everything that answers this request, events included.
            while True:
                try:
                    m = await read()
                except asyncio.TimeoutError:
                    break
                if m is None:
                    break
                out.append(m)
                if "return" in m or "error" in m:
                    break
        # After quit: nothing but the end of the connection.
        while (m := await read()) is not None:
            out.append(m)
        await asyncio.wait_for(proc.wait(), TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return out


async def main(board, elf, qemu):
    with tempfile.TemporaryDirectory() as tmp:
        qpath = os.path.join(tmp, "qemu.qmp")
        ours = os.path.join(tmp, "ours.qmp")
        ref = await converse([qemu, "-M", "virt", "-nographic", "-S",
                              "-bios", "none", "-kernel", elf,
                              "-qmp", f"unix:{qpath},server=on,wait=off"],
                             qpath)
        got = await converse([board, "-bios", "none", "-kernel", elf, "-S",
                              "-qmp", f"unix:{ours},server=on,wait=off"],
                             ours)
    # QEMU may exit before its reply to quit leaves (the SHUTDOWN event
    # does); riscv-virt always answers.  Compare without that reply.
    ref = [m for m in ref if not (isinstance(m, dict) and m.get("id") == "q")]
    got = [m for m in got if not (isinstance(m, dict) and m.get("id") == "q")]
    if os.environ.get("VERBOSE"):
        for m in ref:
            print("qemu:", m)
        for m in got:
            print("ours:", m)
    bad = 0
    for i in range(max(len(ref), len(got))):
        a = ref[i] if i < len(ref) else None
        b = got[i] if i < len(got) else None
        if a != b:
            print(f"DIFF at {i}:\n  qemu: {a}\n  ours: {b}")
            bad += 1
    print(f"{len(ref)} QEMU messages, {len(got)} ours, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    qemu = sys.argv[3] if len(sys.argv) > 3 else shutil.which(
        "qemu-system-riscv64")
    if not qemu:
        print("SKIP: no qemu-system-riscv64")
        sys.exit(77)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], qemu)))
