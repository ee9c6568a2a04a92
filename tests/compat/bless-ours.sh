#!/usr/bin/env bash
# Records OUR answer for a golden config where we differ from HAProxy 2.6 on
# purpose: writes NAME.ours (first line "# reason: ..."), in NAME.expect's format.
# Usage: bless-ours.sh NAME "reason"   (review the result before committing)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=${1%.cfg} reason=$2
cd "$here/../../cfg-parser/tests/golden"
{
    echo "# reason: $reason"
    bash "$here/answer.sh" "$here/../../target/debug/haproxy" . -c -f "$name.cfg"
} >"$name.ours"
