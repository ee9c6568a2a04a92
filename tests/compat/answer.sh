#!/usr/bin/env bash
# Prints one binary's answer in the golden format ("exit: N", "--- stdout",
# ..., "--- stderr", ...), normalised, for `BIN ARGS...` run from DIR in the
# corpus' fixed environment.
# Usage: answer.sh BIN DIR ARGS...   (e.g. answer.sh /usr/sbin/haproxy golden -c -f x.cfg)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$1 dir=$2
shift 2
out=$(mktemp) err=$(mktemp)
(cd "$dir" && env -i PATH=/usr/bin:/bin HOME=/root MULTI='x y' FOO=bar "$bin" "$@") >"$out" 2>"$err"
code=$?
echo "exit: $code"
echo "--- stdout"
bash "$here/normalize.sh" <"$out"
echo "--- stderr"
bash "$here/normalize.sh" <"$err"
rm -f "$out" "$err"
