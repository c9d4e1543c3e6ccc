#!/usr/bin/env bash
# echo_smoke: the echo pair end to end. Starts echo_server on a free port (--port 0), drives it
# with echo_client, checks the client's one-line report, sends SIGINT and requires the server to
# exit 0 within 5 seconds, then checks that the client fails (non-zero) with no server.
#
#   examples/echo_smoke.sh BUILD/examples/echo_server BUILD/examples/echo_client
# prints what it checked; exits 0 when everything held, 1 otherwise.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 ECHO_SERVER ECHO_CLIENT" >&2
    exit 2
fi
server_bin=$1
client_bin=$2

log=$(mktemp)
server=
cleanup() {
    if [[ -n $server ]] && kill -0 "$server" 2>/dev/null; then
        kill -KILL "$server" 2>/dev/null || true
    fi
    rm -f "$log"
}
trap cleanup EXIT

fail() {
    echo "echo_smoke: FAIL: $*" >&2
    echo "--- server output ---" >&2
    cat "$log" >&2
    exit 1
}

"$server_bin" --host 127.0.0.1 --port 0 >"$log" 2>&1 &
server=$!

port=
for _ in $(seq 250); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$log")
    [[ -n $port ]] && break
    kill -0 "$server" 2>/dev/null || fail "the server exited before listening"
    sleep 0.02
done
[[ -n $port ]] || fail "the server did not print 'listening on 127.0.0.1:PORT' within 5 s"
echo "echo_smoke: server listening on port $port"

output=$("$client_bin" --host 127.0.0.1 --port "$port" --conns 8 --roundtrips 50 --size 100) ||
    fail "echo_client exited with status $?"
lines=$(printf '%s\n' "$output" | wc -l)
[[ $lines -eq 1 ]] || fail "echo_client printed $lines lines, expected one: $output"
[[ $output =~ ^roundtrips_per_s=[0-9]+\ p50_us=[0-9]+(\.[0-9]+)?\ p99_us=[0-9]+(\.[0-9]+)?$ ]] ||
    fail "unexpected echo_client output: $output"
echo "echo_smoke: client reported: $output"

kill -INT "$server"
for _ in $(seq 50); do
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$server" 2>/dev/null && fail "the server still runs 5 s after SIGINT"
status=0
wait "$server" || status=$?
server=
[[ $status -eq 0 ]] || fail "the server exited with status $status after SIGINT"
grep -q '^stopping on SIGINT$' "$log" || fail "the server did not report stopping on SIGINT"
echo "echo_smoke: server exited 0 after SIGINT"

if "$client_bin" --host 127.0.0.1 --port "$port" --conns 1 --roundtrips 1 --size 8 \
    >/dev/null 2>&1; then
    fail "echo_client succeeded with no server listening"
fi
echo "echo_smoke: client fails with no server, as it should"
echo "echo_smoke: PASS"
