#!/usr/bin/env bash
# Benchmark (not a test): TCP mode (layer 4) through haproxy-rs and the real
# HAProxy 2.6 in the same run, `nbthread 1` each. A loopback server sends
# bulk zeros; the figures that decide are each proxy's throughput (MB/s) and
# its own CPU seconds per GB (utime+stime from /proc/PID/stat), then short
# connections per second and CPU per connection. HAProxy runs twice: in its
# default TCP mode and with splice forced (option splice-request +
# splice-response). A direct transfer without proxy is the ceiling.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
oracle="${ORACLE:-/usr/sbin/haproxy}"
bytes="${BYTES:-8589934592}"   # 8 GiB per bulk run
streams="${STREAMS:-1}"
short_secs="${SHORT_SECS:-5}"
cd "$top"
cargo build --release -q
cargo build --release -q --example tcp_bulk
gen="$top/target/release/examples/tcp_bulk"
tmp=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

base=$((20000 + RANDOM % 20000))
srv=127.0.0.1:$base
"$gen" serve "$srv" &
pids+=($!)
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$base") 2>/dev/null && break; sleep 0.1; done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
clk=$(getconf CLK_TCK)

# start BIN LABEL PORT EXTRA_OPTIONS: runs one proxy; prints its pid.
start() {
    {
        echo "global"
        echo "    nbthread 1"
        echo "    maxconn 4000"
        echo "defaults"
        echo "    mode tcp"
        echo "    timeout connect 5s"
        echo "    timeout client 30s"
        echo "    timeout server 30s"
        [ -n "$4" ] && printf '    %s\n' $4 | sed 's/_/ /g'
        echo "listen l"
        echo "    bind 127.0.0.1:$3"
        echo "    server s $srv"
    } > "$tmp/$2.cfg"
    "$1" -db -f "$tmp/$2.cfg" >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$3") 2>/dev/null && break; sleep 0.1; done
    echo "$pid"
}

# measure LABEL PID PORT: bulk then short connections; prints a result line.
measure() {
    local label=$1 pid=$2 port=$3 t0 t1 out got secs conns csecs
    t0=$(cpu_ticks "$pid")
    out=$("$gen" pull "127.0.0.1:$port" "$bytes" "$streams")
    t1=$(cpu_ticks "$pid")
    got=${out% *}
    secs=${out#* }
    local mbs cpugb
    mbs=$(echo "scale=0; $got / 1000000 / $secs" | bc)
    cpugb=$(echo "scale=3; ($t1 - $t0) / $clk / ($got / 1000000000)" | bc)
    t0=$(cpu_ticks "$pid")
    out=$("$gen" short "127.0.0.1:$port" "$short_secs" 2)
    t1=$(cpu_ticks "$pid")
    conns=${out% *}
    csecs=${out#* }
    local cps cpuc rss
    cps=$(echo "scale=0; $conns / $csecs" | bc)
    cpuc=$(echo "scale=1; ($t1 - $t0) * 1000000 / $clk / $conns" | bc)
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    echo "$label $mbs $cpugb $cps $cpuc $rss"
}

out=$("$gen" pull "$srv" "$bytes" "$streams")
echo "direct (no proxy): $(echo "scale=0; ${out% *} / 1000000 / ${out#* }" | bc) MB/s"
printf '%-16s %8s %10s %9s %12s %8s\n' case MB/s cpu_s/GB conn/s cpu_us/conn rss_kB
results=()
i=0
for case in "ours $top/target/release/haproxy" "haproxy $oracle" "haproxy-splice $oracle option_splice-request option_splice-response"; do
    set -- $case
    i=$((i + 1))
    port=$((base + i))
    pid=$(start "$2" "$1" "$port" "${3:-} ${4:-}")
    pids+=("$pid")
    line=$(measure "$1" "$pid" "$port")
    kill "$pid" 2>/dev/null || true
    printf '%-16s %8s %10s %9s %12s %8s\n' $line
    results+=("$line")
done
col() { printf '%s\n' "${results[@]}" | awk -v n="$1" -v c="$2" '$1==n {print $c}'; }
echo
echo "ours / HAProxy default (goals: throughput >= 1.5, CPU per GB <= 0.35):"
echo "  throughput: $(echo "scale=2; $(col ours 2) / $(col haproxy 2)" | bc)   CPU per GB: $(echo "scale=2; $(col ours 3) / $(col haproxy 3)" | bc)"
echo "ours / HAProxy splice forced (goal: ahead on both):"
echo "  throughput: $(echo "scale=2; $(col ours 2) / $(col haproxy-splice 2)" | bc)   CPU per GB: $(echo "scale=2; $(col ours 3) / $(col haproxy-splice 3)" | bc)"
echo "short connections, CPU per connection ours / HAProxy: $(echo "scale=2; $(col ours 5) / $(col haproxy 5)" | bc)"
