# Detach: the breakpoints go away and the guest runs to its end.
set pagination off
target remote :@PORT@
break bump
continue
#expect Breakpoint 1, bump
set var verdict = 0
detach
#expect \[Inferior 1 \(Remote target\) detached\]
