#!/usr/bin/env bash
# Benchmark (not a test): HTTP proxying through haproxy-rs and the real
# HAProxy 2.6 in the same run, `nbthread 1` each, one nginx backend on
# loopback answering 100-byte bodies. The figure that decides is each
# proxy's own CPU time per request (utime+stime from /proc/PID/stat over
# the run / requests); req/s and latency are printed beside it.
# Needs wrk and nginx (apt-get install -y wrk nginx-light).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
oracle="${ORACLE:-/usr/sbin/haproxy}"
dur="${DURATION:-8}"
conns="${CONNS:-50}"
for t in wrk nginx; do
    command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (apt-get install -y wrk nginx-light)"; exit 0; }
done
cd "$top"
cargo build --release -q
tmp=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

# Ports from one range this script owns for its duration.
base=$((20000 + RANDOM % 20000))
nginx_port=$base
mkdir -p "$tmp/nginx/logs"
body=$(printf 'x%.0s' $(seq 1 100))
cat > "$tmp/nginx/nginx.conf" <<NGX
worker_processes 1;
error_log $tmp/nginx/logs/error.log;
pid $tmp/nginx/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$nginx_port;
        location / { return 200 "$body"; }
    }
}
NGX
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)

# The syslog target of the httplog case: a bound UDP socket nobody reads
# (the kernel drops what does not fit), so that a receiver's own CPU use
# does not count against the proxies on this 2-core machine; what is
# measured is the proxy's cost of building and sending each line.
log_port=$((base + 100))
python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', $log_port))
time.sleep(3600)
" &
pids+=($!)

# config NAME PORT ACLS: the proxy configuration both binaries run
# (ACLS "log": no ACL, `option httplog` to the UDP receiver).
config() {
    local port=$2 acls=$3
    {
        echo "global"
        echo "    nbthread 1"
        echo "    maxconn 5000"
        if [ "$acls" = log ]; then
            echo "    log 127.0.0.1:$log_port local0"
        fi
        echo "defaults"
        echo "    mode http"
        echo "    timeout connect 5s"
        echo "    timeout client 30s"
        echo "    timeout server 30s"
        echo "frontend fe"
        echo "    bind 127.0.0.1:$port"
        if [ "$acls" = log ]; then
            echo "    log global"
            echo "    option httplog"
            acls=0
        fi
        if [ "$acls" = rules ]; then
            for i in $(seq 1 10); do echo "    http-request set-header X-Set-$i value-$i"; done
            for i in $(seq 1 10); do echo "    http-request del-header X-Absent-$i"; done
            acls=0
        fi
        for i in $(seq 1 "$acls"); do echo "    acl h$i hdr(host) -i site$i.example.com"; done
        for i in $(seq 1 "$acls"); do echo "    use_backend be if h$i"; done
        echo "    default_backend be"
        echo "backend be"
        echo "    server n 127.0.0.1:$nginx_port"
    } > "$tmp/$1.cfg"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
clk=$(getconf CLK_TCK)

# run BIN LABEL PORT ACLS EXTRA_WRK_ARGS...: prints "label reqs cpu_us_per_req req/s p50 p99 rss_kb"
run() {
    local bin=$1 label=$2 port=$3 acls=$4
    shift 4
    config "$label" "$port" "$acls"
    "$bin" -db -f "$tmp/$label.cfg" >/dev/null 2>&1 &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
    wrk -t1 -c"$conns" -d1s "$@" "http://127.0.0.1:$port/" >/dev/null 2>&1 || true
    local before after
    before=$(cpu_ticks "$pid")
    local out
    out=$(wrk -t1 -c"$conns" -d"${dur}s" --latency "$@" -H "Host: site$( [[ $acls =~ ^[0-9]+$ ]] && echo "$acls" || echo 0 ).example.com" "http://127.0.0.1:$port/")
    after=$(cpu_ticks "$pid")
    local reqs rps p50 p99 rss
    reqs=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    local us
    us=$(echo "scale=2; ($after - $before) * 1000000 / $clk / $reqs" | bc)
    echo "$label $reqs $us $rps $p50 $p99 $rss"
}

printf '%-28s %10s %12s %10s %9s %9s %8s\n' case requests cpu_us/req req/s p50 p99 rss_kB
results=()
i=0
for case in "keepalive 0" "newconn 0 -H Connection:close" "acl20 20" "httplog log" "rules20 rules"; do
    set -- $case
    name=$1 acls=$2
    shift 2
    for who in ours haproxy; do
        bin="$top/target/release/haproxy"
        [ "$who" = haproxy ] && bin=$oracle
        i=$((i + 1))
        line=$(run "$bin" "$who-$name" $((base + i)) "$acls" "$@")
        printf '%-28s %10s %12s %10s %9s %9s %8s\n' $line
        results+=("$line")
    done
done
echo
echo "CPU per request, ours / HAProxy (goal <= 0.8):"
for n in keepalive newconn acl20 httplog rules20; do
    o=$(printf '%s\n' "${results[@]}" | awk -v n="ours-$n" '$1==n {print $3}')
    h=$(printf '%s\n' "${results[@]}" | awk -v n="haproxy-$n" '$1==n {print $3}')
    echo "  $n: $(echo "scale=2; $o / $h" | bc)"
done
echo
echo "Cost against plain keep-alive (goals: httplog < 10%, 20 header rules < 15%):"
for case in httplog rules20; do
for who in ours haproxy; do
    k=$(printf '%s\n' "${results[@]}" | awk -v n="$who-keepalive" '$1==n {print $4}')
    l=$(printf '%s\n' "${results[@]}" | awk -v n="$who-$case" '$1==n {print $4}')
    kc=$(printf '%s\n' "${results[@]}" | awk -v n="$who-keepalive" '$1==n {print $3}')
    lc=$(printf '%s\n' "${results[@]}" | awk -v n="$who-$case" '$1==n {print $3}')
    echo "  $case $who: req/s $(echo "scale=1; 100 - 100 * $l / $k" | bc)% lower, CPU/req $(echo "scale=1; 100 * $lc / $kc - 100" | bc)% higher"
done
done
