# The csr feature on a hart without Sstc: stimecmp is unavailable (sent as
# 'x' digits in 'g'), every other register still reads, and 'G'-free
# writes work.
set pagination off
target remote :@PORT@
break hart_main
continue
#expect Breakpoint 1, hart_main \(hartid=0\)
info registers stimecmp
#expect ^stimecmp\s+<unavailable>
info registers mepc satp
#expect ^mepc\s+0x
#expect ^satp\s+0x0\s+0
set $mscratch = 9
maintenance flush register-cache
print $mscratch
#expect ^\$\d+ = 9$
info all-registers
#expect ^mhartid\s+0x0\s+0
delete
set var verdict = 0
continue
#expect exited normally
