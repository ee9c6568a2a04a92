#!/usr/bin/env bash
# Benchmark (not a test): reloads under load, ours against the real HAProxy
# 2.6 in the same run. Each proxy runs in master-worker mode (-W) in front
# of one nginx; wrk drives keep-alive traffic, then new-connection traffic
# ("Connection: close"), while the master gets SIGUSR2 every 200 ms
# (RELOADS times). Reported: requests, wrk socket errors
# (connect/read/write/timeout) and non-2xx answers. Goal: zero errors for
# ours. Then the reload time on the generated 50,000-line configuration:
# from SIGUSR2 to the master's "Loading success.".
# Needs wrk and nginx (apt-get install -y wrk nginx-light).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
oracle="${ORACLE:-/usr/sbin/haproxy}"
reloads="${RELOADS:-50}"
for t in wrk nginx; do
    command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (apt-get install -y wrk nginx-light)"; exit 0; }
done
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
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$base; location / { return 200 "ok"; } }
}
NGX
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)

# run BIN LABEL PORT WRK_ARGS...: prints "label requests errors non2xx"
run() {
    local bin=$1 label=$2 port=$3
    shift 3
    cat > "$tmp/$label.cfg" <<CFG
global
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
frontend fe
    bind 127.0.0.1:$port
    default_backend be
backend be
    server n 127.0.0.1:$base
CFG
    "$bin" -W -f "$tmp/$label.cfg" 2>"$tmp/$label.err" &
    local master=$!
    pids+=("$master")
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
    local dur=$(( reloads / 5 + 3 ))
    wrk -t2 -c50 -d"${dur}s" "$@" "http://127.0.0.1:$port/" > "$tmp/$label.wrk" 2>&1 &
    local w=$!
    sleep 1
    for _ in $(seq "$reloads"); do kill -USR2 "$master"; sleep 0.2; done
    wait "$w" || true
    kill "$master" 2>/dev/null || true
    wait "$master" 2>/dev/null || true
    local reqs errs non2xx
    reqs=$(awk '/requests in/ {print $1}' "$tmp/$label.wrk")
    errs=$(awk -F'[ ,]+' '/Socket errors/ {print $4 + $6 + $8 + $10}' "$tmp/$label.wrk")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$tmp/$label.wrk")
    echo "$label ${reqs:-0} ${errs:-0} ${non2xx:-0} $(grep -c 'Loading success' "$tmp/$label.err")"
}

printf '%-22s %10s %8s %8s %9s\n' case requests errors non-2xx loadings
i=0
for mode in keepalive newconn; do
    args=()
    [ "$mode" = newconn ] && args=(-H "Connection: close")
    for who in ours haproxy; do
        bin="$top/target/release/haproxy"
        [ "$who" = haproxy ] && bin=$oracle
        i=$((i + 1))
        printf '%-22s %10s %8s %8s %9s\n' $(run "$bin" "$who-$mode" $((base + i)) "${args[@]}")
    done
done

# Reload time on the big configuration.
# The -c benchmark's config, minus what this build does not run yet
# (http-request/response rules, health checks) and within the FD limit.
python3 tests/bench/gen-big-config.py \
    | grep -v -e 'http-request' -e 'http-response' -e 'httpchk' \
    | sed -e 's/ check / /' -e 's/maxconn 50000/maxconn 5000/' > "$tmp/big.cfg"
reload_time() {
    local bin=$1 label=$2
    "$bin" -W -f "$tmp/big.cfg" -dr 2>"$tmp/$label-big.err" &
    local master=$!
    pids+=("$master")
    for _ in $(seq 600); do grep -q 'Loading success' "$tmp/$label-big.err" && break; sleep 0.05; done
    local t0 t1
    t0=$(date +%s.%N)
    kill -USR2 "$master"
    for _ in $(seq 1200); do [ "$(grep -c 'Loading success' "$tmp/$label-big.err")" -ge 2 ] && break; sleep 0.01; done
    t1=$(date +%s.%N)
    kill "$master" 2>/dev/null || true
    wait "$master" 2>/dev/null || true
    echo "$(echo "$t1 - $t0" | bc)"
}
echo
echo "reload time, $(wc -l < "$tmp/big.cfg")-line config (SIGUSR2 -> Loading success):"
echo "  ours:    $(reload_time "$top/target/release/haproxy" ours)s"
echo "  haproxy: $(reload_time "$oracle" haproxy)s"
