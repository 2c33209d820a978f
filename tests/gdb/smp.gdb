# Two harts are two threads; the second hart stops in its own loop.
set pagination off
target remote :@PORT@
info threads
#expect \* 1 +Thread 1 \(CPU#0\)
#expect ^  2 +Thread 2 \(CPU#1\)
set var spin = 1
break prog.c:45
continue
#expect Thread 2 .*hit Breakpoint 1, hart_main \(hartid=1\)
info threads
#expect ^  1 +Thread 1 \(CPU#0\)
#expect ^\* 2 +Thread 2 \(CPU#1\) +hart_main \(hartid=1\)
print hartid
#expect ^\$1 = 1
thread 1
#expect Switching to thread 1
delete
set var verdict = 0
set var spin = 0
continue
#expect exited normally
