#!/bin/sh
# -icount makes a guest's timing a function of its instructions alone: the
# same guest run twice prints byte-identical output.  The guest prints how
# many loop iterations fit between timer interrupts.
# usage: icount.sh RISCV_VIRT GUEST_ELF
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for run in 1 2 3; do
	"$1" -icount shift=0 -bios none -kernel "$2" < /dev/null > "$tmp/out$run"
done
lines=$(wc -l < "$tmp/out1")
[ "$lines" -eq 20 ] || { echo "FAIL: $lines lines, want 20"; cat "$tmp/out1"; exit 1; }
cmp "$tmp/out1" "$tmp/out2" && cmp "$tmp/out1" "$tmp/out3" ||
	{ echo "FAIL: -icount runs differ"; diff "$tmp/out1" "$tmp/out2"; exit 1; }
# Without -icount the counts follow the host's speed instead.
"$1" -bios none -kernel "$2" < /dev/null > "$tmp/real"
echo "ok: 3 -icount runs identical ($(sed -n 2p "$tmp/out1") iterations per"\
" tick period); real-time run: $(sed -n 2p "$tmp/real")"
