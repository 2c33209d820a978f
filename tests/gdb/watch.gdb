# Write, read and access watchpoints on global variables.
set pagination off
target remote :@PORT@
watch counter
continue
#expect Hardware watchpoint 1: counter\s+Old value = 0\s+New value = 1
continue
#expect Old value = 1\s+New value = 3
delete
rwatch spin
continue
#expect Hardware read watchpoint 2: spin\s+Value = 0
delete
awatch verdict
continue
#expect Hardware access \(read/write\) watchpoint 3: verdict\s+Value = 7
delete
detach
#expect Inferior 1 .* detached
