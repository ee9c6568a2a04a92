#!/usr/bin/env bash
# `make run`: starts three small local backends (python3's http.server) and
# haproxy-rs on examples/basic.cfg in the foreground; Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-target/debug/haproxy}
cfg=${EXAMPLE:-examples/basic.cfg}
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for b in "8081 web1" "8082 web2" "8091 api"; do
    set -- $b
    python3 -m http.server --bind 127.0.0.1 "$1" --directory "examples/www/$2" >/dev/null 2>&1 &
    pids+=($!)
done
"$bin" -c -f "$cfg"
cat <<MSG
haproxy-rs is starting on $cfg. Try, from another terminal:
    curl http://127.0.0.1:8080/                          # web1, then web2 (roundrobin)
    curl -H 'Host: api.localhost' http://127.0.0.1:8080/  # the api backend
Ctrl-C stops it.
MSG
"$bin" -db -f "$cfg" &
pids+=($!)
wait "${pids[-1]}"
