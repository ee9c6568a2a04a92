#!/usr/bin/env bash
# Differential suite: every corpus config (cfg-parser/tests/golden/*.cfg and
# examples/*.cfg) goes through our binary and the real HAProxy 2.6 with
# `-c -f`; verdicts (exit codes) and the file:line of every ALERT must agree.
# A config listed in known-differences.txt (name, then the reason) is
# expected to differ, and is reported if it no longer does: that list only
# shrinks.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
ours="${CARGO_TARGET_DIR:-$top/target}/debug/haproxy"
oracle="${ORACLE:-/usr/sbin/haproxy}"
known="$top/tests/compat/known-differences.txt"

oracle_version=$("$oracle" -v 2>/dev/null | head -n 1)
if [[ "$oracle_version" != "HAProxy version 2.6"* || "$oracle_version" == *haproxy-rs* ]]; then
    echo "SKIP ********************************************************************"
    echo "SKIP compat: the real HAProxy 2.6 is not installed at $oracle"
    echo "SKIP (apt-get install -y haproxy gives it); the differential suite did not run."
    echo "SKIP ********************************************************************"
    [ "${REQUIRE_ALL:-0}" = 1 ] && { echo "REQUIRE_ALL=1: a skip is a failure"; exit 1; }
    exit 0
fi
[ -x "$ours" ] || { echo "build first: $ours is missing"; exit 1; }

# Verdict and alert locations of one run: "exit=N" then one "ALERT f:l" per line.
summary() {
    local bin=$1 dir=$2
    shift 2
    (cd "$dir" && env -i PATH=/usr/bin:/bin HOME=/root MULTI='x y' FOO=bar "$bin" "$@" 2>&1 >/dev/null; echo "exit=$?") |
        sed -nE 's/^\[ALERT\].*\[([^]]+:[0-9]+)\].*/ALERT \1/p; s/^(exit=[0-9]+)$/\1/p'
}

pass=0 fail=0 fixed=0
# check DIR NAME ARGS...: one configuration, both binaries.
check() {
    local dir=$1 name=$2
    shift 2
    local a b
    a=$(summary "$oracle" "$dir" "$@")
    b=$(summary "$ours" "$dir" "$@")
    local is_known=0
    grep -q "^$name[[:space:]]" "$known" 2>/dev/null && is_known=1
    if [ "$a" == "$b" ]; then
        if [ $is_known = 1 ]; then
            echo "FIXED $name: now agrees with HAProxy; remove it from known-differences.txt"
            fixed=$((fixed + 1)); fail=$((fail + 1))
        else
            pass=$((pass + 1))
        fi
    elif [ $is_known = 1 ]; then
        pass=$((pass + 1))
    else
        echo "DIFF $name"
        diff <(echo "$a") <(echo "$b") | sed 's/^</  haproxy:/; s/^>/  ours:   /' | grep -v '^---' | grep -v '^[0-9]'
        fail=$((fail + 1))
    fi
}

for f in "$top"/cfg-parser/tests/golden/*.cfg; do
    [ -e "$f" ] || continue
    check "$(dirname "$f")" "$(basename "$f")" -c -f "$(basename "$f")"
done
for f in "$top"/examples/*.cfg; do
    check "$top" "examples/$(basename "$f")" -c -f "examples/$(basename "$f")"
done
for d in "$top"/cfg-parser/tests/golden-multi/*/; do
    [ -f "$d/cmd" ] || continue
    # shellcheck disable=SC2046
    check "$d" "golden-multi/$(basename "$d")" $(cat "$d/cmd")
done
echo "compat: $pass passed, $fail failed"
[ "$fail" = 0 ]
