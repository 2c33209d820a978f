#!/bin/sh
# Install what is missing, build, and run the flagship example.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
exec build/examples/loop-demo "$@"
