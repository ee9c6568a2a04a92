#!/usr/bin/env bash
# Records OUR answer for a golden config where we differ from HAProxy 2.6 on
# purpose: writes NAME.ours (first line "# reason: ..."), in NAME.expect's format.
# Usage: bless-ours.sh NAME "reason"   (review the result before committing)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=${1%.cfg} reason=$2
cd "$here/../../cfg-parser/tests/golden"
out=$(mktemp) err=$(mktemp)
set +e
env -i PATH=/usr/bin:/bin HOME=/root MULTI='x y' FOO=bar "$here/../../target/debug/haproxy" -c -f "$name.cfg" >"$out" 2>"$err"
code=$?
set -e
{
    echo "# reason: $reason"
    echo "exit: $code"
    echo "--- stdout"
    bash "$here/normalize.sh" <"$out"
    echo "--- stderr"
    bash "$here/normalize.sh" <"$err"
} >"$name.ours"
rm -f "$out" "$err"
