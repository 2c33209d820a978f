# Breakpoint on a function, registers, a variable, the stack, continue.
set pagination off
target remote :@PORT@
break bump
continue
#expect Breakpoint 1, bump \(value=0, step=0\) at .*prog.c:\d+
info registers a0 a1 pc
#expect ^a0 +0x0\s+0
#expect ^pc +0x[0-9a-f]+\s+0x[0-9a-f]+ <bump\+\d+>
print counter
#expect ^\$1 = 0
continue
#expect Breakpoint 1, bump \(value=0, step=1\)
print $a1
#expect ^\$2 = 1
bt
#expect ^#1 .* in hart_main \(hartid=0\)
delete
set var verdict = 0
continue
#expect exited normally
