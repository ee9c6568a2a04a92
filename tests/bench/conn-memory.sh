#!/usr/bin/env bash
# Benchmark (not a test): memory per client connection, idle and holding a
# partial request head, for haproxy-rs and the real HAProxy 2.6 (nbthread 1).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
oracle="${ORACLE:-/usr/sbin/haproxy}"
n="${CONNS:-9000}"
cd "$top"
cargo build --release -q
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
port=$((20000 + RANDOM % 20000))
measure() {
    local bin=$1 label=$2
    port=$((port + 1))
    printf 'global\n nbthread 1\n maxconn 9500\ndefaults\n mode http\n timeout connect 5s\n timeout client 60s\n timeout server 60s\n timeout http-request 60s\nfrontend fe\n bind 127.0.0.1:%s\n default_backend be\nbackend be\n server s 127.0.0.1:9\n' "$port" > "$tmp/$label.cfg"
    "$bin" -db -f "$tmp/$label.cfg" >/dev/null 2>&1 &
    local pid=$!
    pids+=("$pid")
    sleep 0.5
    python3 - "$pid" "$port" "$n" "$label" <<'PY'
import socket, sys, time
pid, port, n, label = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"):
            return int(l.split()[1])
base = rss()
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port)); socks.append(s)
time.sleep(1.0)
idle = rss()
for s in socks:
    s.sendall(b"GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench\r\n")
time.sleep(1.0)
partial = rss()
print(f"{label:10s} base {base} kB, idle +{(idle-base)*1024/n:.0f} B/conn, partial-head +{(partial-base)*1024/n:.0f} B/conn ({n} conns)")
PY
    kill "$pid" 2>/dev/null || true
}
measure "$top/target/release/haproxy" haproxy-rs
if [[ "$("$oracle" -v 2>/dev/null | head -n 1)" == "HAProxy version 2.6"* ]]; then
    measure "$oracle" haproxy
fi
