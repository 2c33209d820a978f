# KVM (x86-64, long mode): breakpoint, registers, single step, continue.
set pagination off
target remote :@PORT@
info registers rip rdi
#expect ^rip +0x1000 +0x1000 <_start>
#expect ^rdi +0xa +10
break report
continue
#expect Breakpoint 1, 0x[0-9a-f]+ in report \(\)
print/x $rax
#expect ^\$1 = 0xd0e
print/x $rip
#expect ^\$2 = 0x[0-9a-f]+
python p0 = int(gdb.parse_and_eval("$pc")); gdb.execute("stepi"); p1 = int(gdb.parse_and_eval("$pc")); print("stepi advanced %d" % (p1 - p0))
#expect stepi advanced 1$
stepi
x/i $pc
#expect => 0x[0-9a-f]+ <report\+\d+>:\s+out\s+%eax,\(?%dx\)?
info threads
#expect \* 1 +Thread 1 \(CPU#0\)
delete
continue
#expect exited normally
