#!/usr/bin/env python3
"""bench/tcg suite: each workload on riscv-virt and on qemu-system-riscv64.

usage: run-suite.py --riscv-virt PATH --qemu PATH [--expected FILE]
                    [--reps N] [--only a,b] [--write-expected FILE] ELF...

Each ELF is a bare-metal guest (bench/tcg/suite) that times itself with
rdtime (10 MHz on both boards, so start-up is not counted) and prints
"<name> <checksum> <ticks> <iters>".  Runs alternate between the two
machines; the best of --reps runs (default 3, or $BENCH_REPS) counts.  A
checksum that differs from QEMU's or from the expected file marks the
workload FAILED: it gets no ratio and the script exits 1, so a CPU that
computes wrongly cannot score.

The environment passes through to riscv-virt, so VMC_TCG_JIT=0|1 selects
the engine once the translator exists.  The table: ratio = QEMU time /
libvmcore time (above 1 is faster than QEMU), then the geometric mean and
the worst, over every workload except smc (a pathology measured apart:
smc keeps data in its code page, smc-far the same code with the data in
another page; their per-iteration quotient is the cost of sharing a page).
"""
import argparse
import math
import os
import subprocess
import sys

TIMEBASE = 10_000_000


def run(cmd):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=600)
    out = p.stdout.decode(errors="replace").strip().splitlines()
    fields = out[-1].split() if out else []
    if p.returncode != 0 or len(fields) != 4:
        return None
    return fields[0], fields[1], int(fields[2]), int(fields[3])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--riscv-virt", required=True)
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--expected")
    ap.add_argument("--reps", type=int,
                    default=int(os.environ.get("BENCH_REPS", "3")))
    ap.add_argument("--only")
    ap.add_argument("--write-expected")
    ap.add_argument("elfs", nargs="+")
    a = ap.parse_args()

    expected = {}
    if a.expected:
        with open(a.expected) as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    name, iters, csum = line.split()
                    expected[(name, int(iters))] = csum
    only = set(a.only.split(",")) if a.only else None
    ours_cmd = [a.riscv_virt, "-bios", "none", "-nographic", "-kernel"]
    qemu_cmd = [a.qemu, "-M", "virt", "-bios", "none", "-display", "none",
                "-serial", "stdio", "-monitor", "none", "-kernel"]
    jit = os.environ.get("VMC_TCG_JIT")
    print(f"engine: VMC_TCG_JIT={jit if jit is not None else '(unset)'}; "
          f"best of {a.reps} runs; times from the guest's rdtime")
    rows, failed, written = [], [], []
    for elf in a.elfs:
        base = os.path.basename(elf).removesuffix(".elf")
        if only and base not in only:
            continue
        best = {"ours": None, "qemu": None}
        sums = {"ours": set(), "qemu": set()}
        name = base
        iters = 0
        for _ in range(a.reps):
            for who, cmd in (("ours", ours_cmd), ("qemu", qemu_cmd)):
                r = run(cmd + [elf])
                if r is None:
                    sums[who].add("(no result)")
                    continue
                name, csum, ticks, iters = r
                sums[who].add(csum)
                if best[who] is None or ticks < best[who]:
                    best[who] = ticks
        want = expected.get((name, iters))
        ok = (len(sums["ours"]) == 1 and sums["ours"] == sums["qemu"] and
              (want is None or sums["ours"] == {want}))
        if a.write_expected and len(sums["qemu"]) == 1:
            written.append(f"{name} {iters} {next(iter(sums['qemu']))}")
        if not ok:
            failed.append(f"{name}: ours {sorted(sums['ours'])} qemu "
                          f"{sorted(sums['qemu'])} expected {want}")
        rows.append((name, iters, best["ours"], best["qemu"], ok,
                     want is not None))

    print(f"{'workload':<10} {'iters':>6} {'libvmcore s':>11} "
          f"{'qemu s':>8} {'ratio':>6}")
    ratios = []
    per_iter = {}
    for name, iters, ours, qemu, ok, checked in rows:
        if not ok or not ours or not qemu:
            print(f"{name:<10} {iters:>6} {'FAILED':>11}")
            continue
        ratio = qemu / ours
        note = "" if checked else "  (checksum vs QEMU only)"
        print(f"{name:<10} {iters:>6} {ours / TIMEBASE:>11.3f} "
              f"{qemu / TIMEBASE:>8.3f} {ratio:>6.2f}{note}")
        per_iter[name] = (ours / iters, qemu / iters)
        if name != "smc":
            ratios.append((ratio, name))
    if ratios:
        geo = math.exp(sum(math.log(r) for r, _ in ratios) / len(ratios))
        worst = min(ratios)
        print(f"geometric mean {geo:.2f}x QEMU over {len(ratios)} "
              f"workloads; worst {worst[0]:.2f}x ({worst[1]})")
    if "smc" in per_iter and "smc-far" in per_iter:
        o = per_iter["smc"][0] / per_iter["smc-far"][0]
        q = per_iter["smc"][1] / per_iter["smc-far"][1]
        print(f"code and data in one page (smc / smc-far per iteration): "
              f"libvmcore {o:.1f}x slower, QEMU {q:.1f}x slower")
    if a.write_expected:
        with open(a.write_expected, "w") as f:
            f.write("# name iters checksum (from qemu-system-riscv64)\n")
            f.write("\n".join(written) + "\n")
    for f in failed:
        print("FAILED " + f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
