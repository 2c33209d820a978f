#!/bin/sh
# Install what is missing, build, and run every test suite: the full suite on
# a normal build, the tcg suite again with the interpreter, then the unit,
# tcg, gdb and kvm suites under address+undefined sanitizers and the unit
# and tcg suites under the thread sanitizer.  The linux suite boots the kernel scripts/build-linux.sh
# builds (once per machine, cached outside build/).  Ends with one line:
# tests: N passed, N failed, N skipped
set -u
cd "$(dirname "$0")/.."
scripts/deps.sh || exit 1

jobs=$(nproc 2>/dev/null || echo 2)
rc=0
setup() { # dir, options...
	dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		meson configure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi || exit 1
	ninja -C "$dir" >/dev/null || { ninja -C "$dir"; exit 1; }
}
run() { # dir, meson-test options...
	dir=$1; shift
	meson test -C "$dir" --no-rebuild --print-errorlogs \
		--num-processes "$jobs" "$@" || rc=1
}

# The kernel the linux suite boots: built once, then cached.
LINUX_JOBS=$jobs sh scripts/build-linux.sh >/dev/null || rc=1
setup build -Dwerror=true
run build
# The software CPU's tests again with the interpreter instead of the
# translator (the interpreter is the fallback and the translator's oracle).
run build --setup interp --suite tcg
setup build-asan -Dwerror=true -Db_sanitize=address,undefined \
	-Db_lundef=false -Dexamples=true -Dbench=false
run build-asan --setup asan --suite unit --suite tcg --suite gdb --suite kvm
setup build-tsan -Dwerror=true -Db_sanitize=thread -Db_lundef=false \
	-Dexamples=true -Dbench=false
run build-tsan --setup tsan --suite unit --suite tcg

python3 scripts/test-summary.py build/meson-logs/testlog.json \
	build/meson-logs/testlog-interp.json \
	build-asan/meson-logs/testlog-asan.json \
	build-tsan/meson-logs/testlog-tsan.json || rc=1
exit $rc
