# pc-lite on KVM, started with -S: gdb sees the reset vector, single-steps
# the BIOS's far jump, and lets it run to isa-debug-exit.
set pagination off
set architecture i386:x86-64
target remote :@PORT@
info registers rip cs
#expect ^rip +0xfff0 +0xfff0
#expect ^cs +0xf000 +61440
stepi
info registers rip cs
#expect ^rip +0x[0-9a-f]+
#expect ^cs +0xf000 +61440
continue
#expect exited with code 0125
