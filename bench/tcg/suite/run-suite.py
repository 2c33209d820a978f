#!/usr/bin/env python3
"""bench/tcg suite: each workload on riscv-virt and on qemu-system-riscv64.

usage: run-suite.py --riscv-virt PATH --qemu PATH [--expected FILE]
                    [--startup ELF] [--clock cpu|guest] [--baseline PATH]
                    [--reps N] [--only a,b] [--write-expected FILE] ELF...

Each ELF is a bare-metal guest (bench/tcg/suite) that times itself with
rdtime (10 MHz on both boards) and prints "<name> <checksum> <ticks>
<iters>".  Runs alternate between the machines; the best of --reps runs
(default 3, or $BENCH_REPS) counts.  --clock cpu (the default) times each
run by the CPU time the process used (user + system, from wait4), less
that of running the --startup ELF (a guest with no work), which holds
still on a machine shared with other jobs where wall time does not;
--clock guest uses the guest's rdtime ticks (wall time, start-up not
counted).  A checksum that differs from QEMU's or from the expected file
marks the workload FAILED: it gets no ratio and the script exits 1, so a
CPU that computes wrongly cannot score.

The environment passes through to riscv-virt, so VMC_TCG_JIT=0|1 selects
the engine once the translator exists.  --baseline runs a second
riscv-virt (another build) alongside, for before/after tables.  The table:
ratio = QEMU time / libvmcore time (above 1 is faster than QEMU), then the
geometric mean and the worst, over every workload except smc (a pathology
measured apart: smc keeps data in its code page, smc-far the same code
with the data in another page; their per-iteration quotient is the cost
of sharing a page).
"""
import argparse
import math
import os
import subprocess
import sys

TIMEBASE = 10_000_000


def run(cmd):
    """(name, checksum, ticks, iters, cpu seconds), or None."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    data = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    out = data.decode(errors="replace").strip().splitlines()
    fields = out[-1].split() if out else []
    if p.returncode != 0 or len(fields) != 4:
        return None
    return (fields[0], fields[1], int(fields[2]), int(fields[3]),
            ru.ru_utime + ru.ru_stime)


def startup_cost(cmd, elf, reps):
    best = None
    for _ in range(reps):
        r = run(cmd + [elf])
        if r and (best is None or r[4] < best):
            best = r[4]
    return best or 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--riscv-virt", required=True)
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--expected")
    ap.add_argument("--reps", type=int,
                    default=int(os.environ.get("BENCH_REPS", "3")))
    ap.add_argument("--only")
    ap.add_argument("--startup")
    ap.add_argument("--clock", choices=["cpu", "guest"], default="cpu")
    ap.add_argument("--baseline")
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
    machines = [("ours", [a.riscv_virt, "-bios", "none", "-nographic",
                          "-kernel"]),
                ("qemu", [a.qemu, "-M", "virt", "-bios", "none", "-display",
                          "none", "-serial", "stdio", "-monitor", "none",
                          "-kernel"])]
    if a.baseline:
        machines.append(("base", [a.baseline, "-bios", "none",
                                  "-nographic", "-kernel"]))
    if a.clock == "cpu" and not a.startup:
        ap.error("--clock cpu needs --startup")
    jit = os.environ.get("VMC_TCG_JIT")
    print(f"engine: VMC_TCG_JIT={jit if jit is not None else '(unset)'}; "
          f"best of {a.reps} runs; clock: " +
          ("process CPU time less start-up" if a.clock == "cpu"
           else "the guest's rdtime"))
    start = {}
    if a.clock == "cpu":
        for who, cmd in machines:
            start[who] = startup_cost(cmd, a.startup, a.reps)
        print("start-up CPU time: " +
              ", ".join(f"{w} {t:.3f} s" for w, t in start.items()))
    rows, failed, written = [], [], []
    for elf in a.elfs:
        base = os.path.basename(elf).removesuffix(".elf")
        if (only and base not in only) or (
                a.startup and os.path.samefile(elf, a.startup)):
            continue
        best = {who: None for who, _ in machines}
        sums = {who: set() for who, _ in machines}
        name = base
        iters = 0
        for _ in range(a.reps):
            for who, cmd in machines:
                r = run(cmd + [elf])
                if r is None:
                    sums[who].add("(no result)")
                    continue
                name, csum, ticks, iters, cpu = r
                sums[who].add(csum)
                t = (ticks / TIMEBASE if a.clock == "guest"
                     else max(cpu - start[who], 1e-3))
                if best[who] is None or t < best[who]:
                    best[who] = t
        want = expected.get((name, iters))
        ok = all(len(v) == 1 and v == sums["qemu"] for v in sums.values())
        ok = ok and (want is None or sums["ours"] == {want})
        if a.write_expected and len(sums["qemu"]) == 1:
            written.append(f"{name} {iters} {next(iter(sums['qemu']))}")
        if not ok:
            failed.append(f"{name}: " + " ".join(
                f"{w} {sorted(v)}" for w, v in sums.items()) +
                f" expected {want}")
        rows.append((name, iters, best, ok, want is not None))

    head = (f"{'workload':<10} {'iters':>6} {'libvmcore s':>11} "
            f"{'qemu s':>8} {'ratio':>6}")
    if a.baseline:
        head += f" {'base s':>8} {'vs base':>7}"
    print(head)
    ratios = []
    per_iter = {}
    for name, iters, best, ok, checked in rows:
        ours, qemu = best["ours"], best["qemu"]
        if not ok or not ours or not qemu:
            print(f"{name:<10} {iters:>6} {'FAILED':>11}")
            continue
        ratio = qemu / ours
        line = (f"{name:<10} {iters:>6} {ours:>11.3f} {qemu:>8.3f} "
                f"{ratio:>6.2f}")
        if a.baseline:
            line += f" {best['base']:>8.3f} {best['base'] / ours:>7.2f}"
        print(line + ("" if checked else "  (checksum vs QEMU only)"))
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
