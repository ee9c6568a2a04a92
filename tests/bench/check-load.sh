#!/usr/bin/env bash
# Benchmark (not a test): the cost of health checks. 1,000 servers checked
# every second (`inter 1s`), all pointing at one local nginx, with no
# traffic: the proxy's own CPU use (utime+stime from /proc/PID/stat over
# SECONDS seconds) in percent of one core, for plain TCP checks and for
# `option httpchk`, ours against the real HAProxy 2.6 in the same run.
# Goal: under 5% of one core. Needs nginx (apt-get install -y nginx-light).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
oracle="${ORACLE:-/usr/sbin/haproxy}"
servers="${SERVERS:-1000}"
seconds="${SECONDS_MEASURED:-10}"
command -v nginx >/dev/null || { echo "SKIP: nginx is not installed (apt-get install -y nginx-light)"; exit 0; }
cd "$top"
cargo build --release -q
tmp=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

base=$((20000 + RANDOM % 20000))
mkdir -p "$tmp/nginx/logs"
cat > "$tmp/nginx/nginx.conf" <<NGX
worker_processes 1;
error_log $tmp/nginx/logs/error.log;
pid $tmp/nginx/nginx.pid;
events { worker_connections 8192; }
http {
    access_log off;
    server { listen 127.0.0.1:$base backlog=4096; location / { return 200 "ok"; } }
}
NGX
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
sleep 0.5

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure BIN LABEL KIND: prints the CPU % of one core
measure() {
    local bin=$1 label=$2 kind=$3 port=$((base + 1 + RANDOM % 1000))
    {
        printf 'global\n    nbthread 1\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n'
        printf 'listen fe\n    bind 127.0.0.1:%s\n' "$port"
        [ "$kind" = http ] && printf '    option httpchk GET /health\n'
        for i in $(seq 1 "$servers"); do
            printf '    server s%s 127.0.0.1:%s check inter 1s\n' "$i" "$base"
        done
    } > "$tmp/$label.cfg"
    "$bin" -db -f "$tmp/$label.cfg" 2>"$tmp/$label.err" &
    local pid=$!
    pids+=("$pid")
    # Past the first, spread, round of checks.
    sleep 2
    local t0 t1
    t0=$(cpu_ticks "$pid")
    sleep "$seconds"
    t1=$(cpu_ticks "$pid")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if grep -q "is DOWN" "$tmp/$label.err"; then
        echo "  ($label: some servers went DOWN: $(grep -c 'is DOWN' "$tmp/$label.err"))" >&2
    fi
    awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$seconds" 'BEGIN { printf "%.1f", 100 * (b - a) / hz / s }'
}

echo "health checks: $servers servers, inter 1s, ${seconds}s measured, nbthread 1 (CPU % of one core)"
printf '%-12s %10s %10s\n' kind haproxy-rs "HAProxy 2.6"
for kind in tcp http; do
    ours=$(measure "$top/target/release/haproxy" "ours-$kind" "$kind")
    if [ -x "$oracle" ]; then
        theirs=$(measure "$oracle" "oracle-$kind" "$kind")
    else
        theirs=-
    fi
    printf '%-12s %9s%% %9s%%\n' "$kind" "$ours" "$theirs"
done
