#!/usr/bin/env bash
# Benchmark (not a test): `-c` on a generated ~50,000-line config, our
# release build against the real HAProxy 2.6 in the same run. Reports CPU
# time (user+sys) and peak memory of each, and their ratio.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
oracle="${ORACLE:-/usr/sbin/haproxy}"
runs="${RUNS:-5}"
cd "$top"
cargo build --release -q
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 tests/bench/gen-big-config.py > "$tmp/big.cfg"
echo "config: $(wc -l < "$tmp/big.cfg") lines"

# Prints "<cpu seconds> <max rss KiB>" for the best of $runs runs.
measure() {
    local best_cpu="" best_rss=""
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%U %S %M" -o "$tmp/t" "$@" >/dev/null 2>&1 || true
        read -r u s m < "$tmp/t"
        local cpu
        cpu=$(echo "$u + $s" | bc)
        if [ -z "$best_cpu" ] || [ "$(echo "$cpu < $best_cpu" | bc)" = 1 ]; then best_cpu=$cpu; best_rss=$m; fi
    done
    echo "$best_cpu $best_rss"
}

read -r ours_cpu ours_rss < <(measure "$top/target/release/haproxy" -c -f "$tmp/big.cfg")
echo "haproxy-rs : cpu ${ours_cpu}s  maxrss ${ours_rss} KiB"
if [[ "$("$oracle" -v 2>/dev/null | head -n 1)" == "HAProxy version 2.6"* ]]; then
    read -r real_cpu real_rss < <(measure "$oracle" -c -f "$tmp/big.cfg")
    echo "HAProxy 2.6: cpu ${real_cpu}s  maxrss ${real_rss} KiB"
    echo "ratio (ours/HAProxy): cpu $(echo "scale=2; $ours_cpu / ($real_cpu + 0.0001)" | bc)  memory $(echo "scale=2; $ours_rss / $real_rss" | bc)"
else
    echo "SKIP: the real HAProxy 2.6 is not installed at $oracle; no ratio"
fi
