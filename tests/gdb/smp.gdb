# Two harts are two threads.
set pagination off
target remote :@PORT@
info threads
#expect \* 1 +Thread 1 \(CPU#0\)
#expect ^  2 +Thread 2 \(CPU#1\)
break bump
continue
#expect Thread 1 .*hit Breakpoint 1, bump
info threads
#expect ^  2 +Thread 2 \(CPU#1\) .*hart_main \(hartid=1\)
thread 2
#expect Switching to thread 2
print hartid
#expect ^\$1 = 1
thread 1
delete
set var verdict = 0
continue
#expect exited normally
