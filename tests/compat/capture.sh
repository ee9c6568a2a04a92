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
    bash "$here/answer.sh" "$oracle" "$f" >"${f%.cfg}.expect"
done
