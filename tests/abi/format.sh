#!/bin/sh
# The C sources follow .clang-format exactly: clang-format --dry-run
# -Werror over every C file under src/ include/ examples/ tests/ bench/
# fuzz/, guest payloads (tests/guest: guest code, headers shared with
# assembly) excepted.  Skipped (77) where clang-format is missing; the
# formatter's major version is the one Debian 12 ships (14), since others
# lay code out differently.
# usage: format.sh SOURCE_ROOT
set -u
cd "$1" || exit 1
fmt=$(command -v clang-format-14 || command -v clang-format) || {
	echo "clang-format not installed: skipped"
	exit 77
}
if ! "$fmt" --version | grep -q 'version 14\.'; then
	echo "$("$fmt" --version): not version 14, skipped"
	exit 77
fi
files=$(find src include examples tests bench fuzz -name '*.[ch]' \
	-not -path 'tests/guest/*' | sort)
# shellcheck disable=SC2086
if "$fmt" --dry-run -Werror $files; then
	echo "ok: $(echo "$files" | wc -l) files formatted"
	exit 0
fi
echo "FAIL: reformat with: $fmt -i FILE..."
exit 1
