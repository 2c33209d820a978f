#!/bin/sh
# Every public header compiles on its own as C99, C11 and C++, pedantic and
# warning-free.
# usage: headers.sh CC CXX SRC_INCLUDE BUILD_INCLUDE HEADER...
set -eu
cc=$1 cxx=$2 srcinc=$3 buildinc=$4
shift 4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for h in "$@"; do
	name=$(basename "$h")
	printf '#include <libvmcore/%s>\nint vmc_header_test_dummy;\n' "$name" > "$tmp/t.c"
	cp "$tmp/t.c" "$tmp/t.cc"
	# <uv.h> itself needs POSIX declarations that strict ISO C hides.
	extra=
	[ "$name" = vmc-uv.h ] && extra=-D_GNU_SOURCE
	for std in c99 c11; do
		if ! "$cc" -std=$std -pedantic -Wall -Wextra -Werror -fsyntax-only $extra \
			-I"$srcinc" -I"$buildinc" "$tmp/t.c"; then
			echo "FAIL: $name as $std"; fail=1
		fi
	done
	if [ -n "$cxx" ]; then
		if ! "$cxx" -std=c++11 -pedantic -Wall -Wextra -Werror -fsyntax-only \
			-I"$srcinc" -I"$buildinc" "$tmp/t.cc"; then
			echo "FAIL: $name as C++"; fail=1
		fi
	fi
	echo "ok: $name"
done
exit $fail
