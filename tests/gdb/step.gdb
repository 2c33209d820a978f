# step, next, stepi, finish: single-stepping runs exactly one instruction.
set pagination off
target remote :@PORT@
break hart_main
continue
#expect Breakpoint 1, hart_main \(hartid=0\)
next
#expect ^\d+\s+put\("gdb-guest: start\\n"\);
next
#expect ^\d+\s+for \(int i = 0; i < 10; i\+\+\)
next
#expect ^\d+\s+counter = bump\(counter, i\);
step
#expect ^bump \(value=0, step=0\) at .*prog.c
finish
#expect Run till exit|Value returned is \$\d+ = 0
print $pc
stepi
print $pc
#expect ^\$\d+ = \(void \(\*\)\(\)\) 0x[0-9a-f]+
python p0 = int(gdb.parse_and_eval("$pc")); gdb.execute("stepi"); p1 = int(gdb.parse_and_eval("$pc")); print("stepi advanced %d" % (p1 - p0))
#expect stepi advanced (2|4)$
delete
kill
#expect \[Inferior 1 \(Remote target\) killed\]
