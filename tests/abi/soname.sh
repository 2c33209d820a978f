#!/bin/sh
# usage: soname.sh LIBRARY EXPECTED_SONAME
set -eu
got=$(readelf -d "$1" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$got" != "$2" ]; then
	echo "FAIL: SONAME is '$got', expected '$2'"
	exit 1
fi
echo "ok: SONAME $got"
