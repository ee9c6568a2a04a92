#!/usr/bin/env bash
# run-unit.sh ROOT: does what systemd does with the haproxy.service installed
# in ROOT, using the unit's own command lines: start (ExecStartPre, then
# ExecStart with a notify socket, waiting for READY=1), one request, reload
# (ExecReload: the check, then SIGUSR2; RELOADING=1 then READY=1), one
# request, stop (SIGTERM to the main process only, as KillMode=mixed).
#
# Run by tests/rpm/rpm.sh inside `unshare --net --mount`: the daemon binds
# *:5000 of the default haproxy.cfg in a network namespace of its own where
# only the loopback exists, and /proc is mounted in ROOT for this namespace
# only. Prints "ok - ..." lines; exits non-zero on the first failure.
set -euo pipefail
R=$1
unit=$R/usr/lib/systemd/system/haproxy.service
W=$(mktemp -d)
main=0 listener=0
cleanup() {
    [ "$main" = 0 ] || kill -KILL "$main" 2>/dev/null || true
    [ "$listener" = 0 ] || kill "$listener" 2>/dev/null || true
    rm -rf "$W"
    rm -f "$R/run/notify.sock"
}
trap cleanup EXIT
fail() {
    echo "not ok - $*"
    echo "--- haproxy's output:"
    cat "$W/out" 2>/dev/null || true
    echo "--- notify messages:"
    cat "$W/notify" 2>/dev/null || true
    exit 1
}
ok() { echo "ok - $*"; }
# until_deadline SECONDS COMMAND...: polls COMMAND every 50 ms.
until_deadline() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -lt $end ] || return 1
        sleep 0.05
    done
}

ip link set lo up
mkdir -p "$R/proc" "$R/run" "$R/var"
mount -t proc proc "$R/proc"
[ -e "$R/var/run" ] || ln -s ../run "$R/var/run"

# The environment as systemd builds it: Environment=, then the files of
# EnvironmentFile= (which override it).
eval "export $(sed -n 's/^Environment=//p' "$unit")"
envfile=$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$unit")
set -a
# shellcheck disable=SC1090
. "$R$envfile"
set +a
# exec_lines KEY: the unit's KEY= command lines, one per line.
exec_lines() { sed -n "s/^$1=//p" "$unit"; }
# run_in_root LINE: runs one command line of the unit in ROOT, with
# systemd's expansion of $VARS (unquoted ones split into words).
run_in_root() {
    local -a cmd
    eval "cmd=($1)"
    chroot "$R" "${cmd[@]}"
}

# systemd's notify socket, a datagram socket that records each message.
rm -f "$R/run/notify.sock" "$R$PIDFILE"
touch "$W/notify"
python3 - "$R/run/notify.sock" "$W/notify" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as log:
    while True:
        log.write(s.recv(4096).decode(errors="replace").replace("\n", " ") + "\n")
        log.flush()
EOF
listener=$!
until_deadline 10 test -S "$R/run/notify.sock" || fail "notify listener did not start"
# count WORD: how many notify messages contain WORD.
count() { grep -c -- "$1" "$W/notify" 2>/dev/null || true; }
# notified WORD N: at least N notify messages contain WORD.
notified() { [ "$(count "$1")" -ge "$2" ]; }

while read -r line; do
    run_in_root "$line" >>"$W/out" 2>&1 || fail "ExecStartPre failed: $line"
done < <(exec_lines ExecStartPre)
ok "ExecStartPre passes on the default configuration"

start=$(exec_lines ExecStart)
eval "cmd=($start)"
NOTIFY_SOCKET=/run/notify.sock chroot "$R" "${cmd[@]}" >>"$W/out" 2>&1 &
main=$!
until_deadline 20 notified READY=1 1 || fail "no READY=1 from ExecStart: $start"
kill -0 "$main" 2>/dev/null || fail "the master left the foreground despite -Ws (config says daemon)"
[ "$(cat "$R$PIDFILE" 2>/dev/null)" = "$main" ] || fail "pid file $PIDFILE does not hold the main pid $main"
grep -q "MAINPID=$main" "$W/notify" || fail "READY=1 came without MAINPID=$main"
ok "ExecStart: READY=1 with MAINPID, pid file written, master in the foreground"
if sed '/Loading success/q' "$W/out" | grep -E '^\[(WARNING|ALERT)\]'; then
    fail "the default configuration warns at start"
fi
ok "the default configuration starts without a warning or an alert"
# The worker: the package's haproxy user, confined to /var/lib/haproxy.
worker=$(sed -n 's/.*New worker (\([0-9]*\)) forked.*/\1/p' "$W/out" | tail -n 1)
[ -n "$worker" ] || fail "no 'New worker (PID) forked' line"
uid=$(sed -n 's/^haproxy:x:\([0-9]*\):.*/\1/p' "$R/etc/passwd")
[ "$(awk '/^Uid:/ {print $2}' "/proc/$worker/status")" = "$uid" ] || fail "the worker does not run as the haproxy user (uid $uid)"
[ "$(readlink "/proc/$worker/root")" = "$(cd "$R/var/lib/haproxy" && pwd -P)" ] || fail "the worker is not chrooted in /var/lib/haproxy"
ok "the worker runs as the haproxy user, chrooted in /var/lib/haproxy"

# request: the status line of one HTTP request to the frontend.
request() {
    local status
    exec 3<>/dev/tcp/127.0.0.1/5000 || return 1
    printf 'GET / HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n' >&3
    IFS= read -r -t 30 status <&3 || true
    exec 3<&-
    echo "${status%$'\r'}"
}
status=$(request)
# The default backends (127.0.0.1:5001-5004) are not running: HAProxy's 503.
[[ "$status" == "HTTP/1.1 503"* ]] || fail "request to *:5000 answered '$status', expected the 503 of down servers"
ok "the worker serves *:5000 ($status, no backend runs)"

MAINPID=$main
while read -r line; do
    run_in_root "$line" >>"$W/out" 2>&1 || fail "ExecReload failed: $line"
done < <(exec_lines ExecReload | grep -v '/kill ')
exec_lines ExecReload | grep -q '^/bin/kill -USR2 \$MAINPID$' || fail "ExecReload does not end with kill -USR2 \$MAINPID"
kill -USR2 "$MAINPID"
until_deadline 20 notified READY=1 2 || fail "no second READY=1 after the reload"
[ "$(count RELOADING=1)" -ge 1 ] || fail "no RELOADING=1 during the reload"
status=$(request)
[[ "$status" == "HTTP/1.1 503"* ]] || fail "after the reload: '$status'"
ok "ExecReload: the check passes, SIGUSR2 gives RELOADING=1 then READY=1, still serving"

kill -TERM "$main"
code=0
wait "$main" || code=$?
main=0
case $code in 0 | 143) ;; *) fail "the master exited with $code on SIGTERM (SuccessExitStatus=143 and 0 are clean)" ;; esac
if (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null; then fail "port 5000 still accepts after the stop"; fi
ok "SIGTERM to the master stops everything (exit $code)"
