#!/bin/sh
# The layering rules of ARCHITECTURE.md section 1, checked on the sources:
# - an accelerator (src/accel-*) includes no core header but accel.h;
# - device models, the gdbstub, the device-tree helpers, the QMP server and
#   the examples include no core header at all (their build also has no
#   core folder on its include path).
# usage: layering.sh SOURCE_ROOT
set -u
cd "$1" || exit 1
core_headers=$(cd src/core && ls -- *.h)
fail=0
check() { # rule, allowed header or "", files...
	rule=$1 allowed=$2
	shift 2
	for f in "$@"; do
		[ -f "$f" ] || continue
		for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
			base=${h##*/}
			[ "$base" = "$allowed" ] && continue
			case " $(echo $core_headers) " in
			*" $base "*)
				# A header of the file's own folder may share a name.
				[ -f "$(dirname "$f")/$h" ] && continue
				echo "FAIL: $f includes core's $h ($rule)"
				fail=1 ;;
			esac
		done
	done
}
check "accelerators use accel.h only" accel.h \
	$(find src/accel-* -name '*.[ch]' 2>/dev/null)
check "built on public headers only" "" \
	$(find src/hw src/gdbstub src/fdt src/qmp examples -name '*.[ch]' 2>/dev/null)
[ $fail -eq 0 ] && echo "ok: layering holds"
exit $fail
