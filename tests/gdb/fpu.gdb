# The fpu feature: gdb sees f0-f31, fflags, frm and fcsr, and changes them.
set pagination off
target remote :@PORT@
break hart_main
continue
#expect Breakpoint 1, hart_main \(hartid=0\)
info registers float
#expect ^ft0\s+\{float = 0, double = 0\}
#expect ^fcsr\s+0x0\s+.*
set $fa0.double = 1.5
print $fa0.double
#expect ^\$\d+ = 1.5$
print/x $fa0.double
set $fcsr = 0x41
print/x $frm
#expect ^\$\d+ = 0x2$
print/x $fflags
#expect ^\$\d+ = 0x1$
info all-registers
#expect ^ft11\s+
delete
kill
#expect \[Inferior 1 \(Remote target\) killed\]
