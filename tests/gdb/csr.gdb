# The csr feature: gdb shows the machine and supervisor CSRs by name and
# writes them through the stub (read back after dropping gdb's cache).
set pagination off
target remote :@PORT@
break hart_main
continue
#expect Breakpoint 1, hart_main \(hartid=0\)
info registers mstatus mhartid
#expect ^mstatus\s+0x
#expect ^mhartid\s+0x0\s+0
print/x (unsigned long)$misa >> 62
#expect ^\$\d+ = 0x2$
print/x $misa & 0x1129
#expect ^\$\d+ = 0x1129$
set $mscratch = 5
set $mepc = 0x80001235
maintenance flush register-cache
print $mscratch
#expect ^\$\d+ = 5$
print/x $mepc
#expect ^\$\d+ = 0x80001234$
set $mstatus = $mstatus | 2
maintenance flush register-cache
print/x $sstatus & 2
#expect ^\$\d+ = 0x2$
python
try:
    gdb.execute("set $mhartid = 3")
except gdb.error as e:
    print("refused:", e)
end
#expect ^refused: Could not write register "mhartid"
maintenance flush register-cache
print $mhartid
#expect ^\$\d+ = 0$
print $cycle > 0
#expect ^\$\d+ = 1$
info all-registers
#expect ^satp\s+0x0\s+0
#expect ^mhartid\s+
delete
set var verdict = 0
continue
#expect exited normally
