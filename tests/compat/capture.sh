#!/usr/bin/env bash
# Captures the real HAProxy 2.6's `-c` answer for golden configs into
# NAME.expect (run from the golden directory, so file names print relative).
# Usage: capture.sh [NAME.cfg ...]   (default: every *.cfg); ORACLE overrides the binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
oracle="${ORACLE:-/usr/sbin/haproxy}"
cd "$here/../../cfg-parser/tests/golden"
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(*.cfg)
for f in "${files[@]}"; do
    name=${f%.cfg}
    out=$(mktemp) err=$(mktemp)
    set +e
    env -i PATH=/usr/bin:/bin HOME=/root MULTI='x y' FOO=bar "$oracle" -c -f "$f" >"$out" 2>"$err"
    code=$?
    set -e
    {
        echo "exit: $code"
        echo "--- stdout"
        bash "$here/normalize.sh" <"$out"
        echo "--- stderr"
        bash "$here/normalize.sh" <"$err"
    } >"$name.expect"
    rm -f "$out" "$err"
done
