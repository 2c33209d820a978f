# Change guest memory and registers; the guest acts on the new value.
set pagination off
target remote :@PORT@
break bump
continue
#expect Breakpoint 1, bump
x/wx &verdict
#expect 0x[0-9a-f]+ <verdict>:\s+0x00000007
set var verdict = 0
print verdict
#expect ^\$1 = 0
set var $a1 = 5
print $a1
#expect ^\$2 = 5
delete
continue
#expect exited normally
