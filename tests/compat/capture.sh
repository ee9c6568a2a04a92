#!/usr/bin/env bash
# Captures the real HAProxy 2.6's `-c` answer for the golden corpus.
#   golden/NAME.cfg        -> golden/NAME.expect   (runs `-c -f NAME.cfg` from golden/)
#   golden-multi/CASE/cmd  -> golden-multi/CASE/expect (runs `haproxy $(cat cmd)` from CASE/)
# Usage: capture.sh [NAME[.cfg] | CASE ...]
#   no argument: every golden/*.cfg and every golden-multi/CASE.
# ORACLE overrides the binary (default /usr/sbin/haproxy). The environment is
# always `env -i PATH=/usr/bin:/bin HOME=/root MULTI='x y' FOO=bar`, and the
# output goes through normalize.sh (pids, banner values).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
oracle="${ORACLE:-/usr/sbin/haproxy}"
golden="$here/../../cfg-parser/tests/golden"
multi="$here/../../cfg-parser/tests/golden-multi"

# answer DIR ARGS...: the golden answer format for one run of the oracle.
answer() {
    bash "$here/answer.sh" "$oracle" "$@"
}

capture_cfg() {
    local name=${1##*/}
    name=${name%.cfg}
    [ -f "$golden/$name.cfg" ] || { echo "no such config: $golden/$name.cfg" >&2; return 1; }
    answer "$golden" -c -f "$name.cfg" >"$golden/$name.expect"
    echo "captured golden/$name.expect ($(head -n 1 "$golden/$name.expect"))"
}

capture_case() {
    local case=${1%/}
    case=${case##*/}
    local dir="$multi/$case" args
    [ -f "$dir/cmd" ] || { echo "no such case: $dir/cmd" >&2; return 1; }
    read -r -a args <"$dir/cmd"
    answer "$dir" "${args[@]}" >"$dir/expect"
    echo "captured golden-multi/$case/expect ($(head -n 1 "$dir/expect"))"
}

if [ $# -eq 0 ]; then
    for f in "$golden"/*.cfg; do capture_cfg "$f"; done
    for d in "$multi"/*/; do [ -f "$d/cmd" ] && capture_case "$d"; done
    exit 0
fi
for n in "$@"; do
    base=${n%/}
    base=${base##*/}
    if [ -f "$multi/$base/cmd" ] && [ ! -f "$golden/${base%.cfg}.cfg" ]; then
        capture_case "$base"
    else
        capture_cfg "$base"
    fi
done
