#!/bin/sh
# The symbols the shared library exports are exactly those its symbol map
# lists, and every one of them is declared in a public header.
# usage: symbols.sh LIBRARY SYMBOL_MAP SOURCE_ROOT
set -eu
lib=$1 map=$2 root=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' |
	grep -v '^LIBVMCORE_' | sort -u > "$tmp/exported"
sed -e 's,/\*.*\*/,,' "$map" | grep -E '^[[:space:]]+vmc_[a-z0-9_]+;' |
	sed -e 's/[[:space:];]//g' | sort -u > "$tmp/mapped"
if ! diff -u "$tmp/mapped" "$tmp/exported"; then
	echo "FAIL: exports differ from $map (- map only, + exported only)"
	exit 1
fi
missing=0
while read -r sym; do
	if ! grep -rqE "(^|[^a-z0-9_])$sym\(" "$root/include/libvmcore"; then
		echo "FAIL: $sym is exported but not declared in include/libvmcore"
		missing=1
	fi
done < "$tmp/exported"
echo "ok: $(wc -l < "$tmp/exported") symbols"
exit $missing
