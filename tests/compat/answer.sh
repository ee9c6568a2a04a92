#!/usr/bin/env bash
# Prints one binary's `-c` answer for a config in the golden format
# ("exit: N", "--- stdout", ..., "--- stderr", ...), normalised.
# Usage: answer.sh BIN NAME.cfg   (run from the config's directory)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp) err=$(mktemp)
env -i PATH=/usr/bin:/bin HOME=/root MULTI='x y' FOO=bar "$1" -c -f "$2" >"$out" 2>"$err"
code=$?
echo "exit: $code"
echo "--- stdout"
bash "$here/normalize.sh" <"$out"
echo "--- stderr"
bash "$here/normalize.sh" <"$err"
rm -f "$out" "$err"
