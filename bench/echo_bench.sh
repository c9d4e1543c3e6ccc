#!/usr/bin/env bash
# echo_bench: TCP echo throughput of weft's examples/echo_server against the floor, a minimal
# raw-liburing C server (bench/echo_floor_server.c), both driven by the same load client
# (examples/echo_client) in one run. 64-byte messages, one in flight per connection.
#
# Sweep: connections 1, 10, 50; placement "other CPU" (server on CPU 0, client on CPU 1) and
# "same CPU" (both on CPU 0). Each case runs ROUNDS rounds (default 5); in each round the floor
# and weft run back to back, the order alternating between rounds. Prints every run, then per
# case the median round trips/s of each server, the median of the per-round ratios weft/floor
# (target >= 0.9) and the median p50 latencies. Builds nothing.
#
# Run: bench/echo_bench.sh BUILD/examples/echo_server BUILD/examples/echo_client \
#          BUILD/bench/echo_floor_server [ROUNDS]
# Passing the floor server as SERVER too runs floor against floor: the spread of that A/A run's
# ratios is this machine's noise band for the real run.
# Round trips per run: each connection makes ECHO_BENCH_ROUNDTRIPS_PER_CONN (default 400), raised
# so that the run makes at least ECHO_BENCH_MIN_ROUNDTRIPS in all (default 5000).
set -euo pipefail

if [[ $# -lt 3 ]]; then
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
    exit 2
fi
weft_server=$1
client=$2
floor_server=$3
rounds=${4:-5}
per_conn=${ECHO_BENCH_ROUNDTRIPS_PER_CONN:-400}
min_roundtrips=${ECHO_BENCH_MIN_ROUNDTRIPS:-5000}
host=127.0.0.1

for program in "$weft_server" "$client" "$floor_server"; do
    if [[ ! -x $program ]]; then
        echo "echo_bench: $program is not an executable" >&2
        exit 2
    fi
done
if [[ $(nproc) -lt 2 ]]; then
    echo "echo_bench: needs two CPUs for the 'other CPU' placement" >&2
    exit 2
fi

tmp=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill -INT "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# run_one SERVER_KIND SERVER_CPU CLIENT_CPU CONNS: sets rps, p50 and p99 (no subshell, so that
# server_pid stays in this shell). Each server picks a free port (--port 0) and prints it.
run_one() {
    local kind=$1 server_cpu=$2 client_cpu=$3 conns=$4
    local log=$tmp/server.log
    : >"$log"
    if [[ $kind == floor || $weft_server -ef $floor_server ]]; then
        taskset -c "$server_cpu" "$floor_server" 0 "$host" >"$log" 2>&1 &
    else
        taskset -c "$server_cpu" "$weft_server" --port 0 --host "$host" >"$log" 2>&1 &
    fi
    server_pid=$!
    local waited=0
    until grep -q "listening on" "$log"; do
        sleep 0.02
        waited=$((waited + 1))
        if ((waited > 250)) || ! kill -0 "$server_pid" 2>/dev/null; then
            echo "echo_bench: $kind server did not start:" >&2
            cat "$log" >&2
            exit 1
        fi
    done
    # echo_client's --roundtrips counts per connection.
    local port
    port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
    local roundtrips=$per_conn
    if ((roundtrips * conns < min_roundtrips)); then
        roundtrips=$(((min_roundtrips + conns - 1) / conns))
    fi
    local line
    line=$(taskset -c "$client_cpu" "$client" --host "$host" --port "$port" --conns "$conns" \
        --roundtrips "$roundtrips" --size 64)
    kill -INT "$server_pid"
    wait "$server_pid" || echo "echo_bench: $kind server exited with status $? on SIGINT" >&2
    server_pid=
    rps=$(sed -n 's/.*roundtrips_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
    p50=$(sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p' <<<"$line")
    p99=$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' <<<"$line")
    if [[ -z $rps ]]; then
        echo "echo_bench: unexpected client output: $line" >&2
        exit 1
    fi
}

median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{v[NR]=$1} END {
    if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }

echo "echo_bench: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, ${rounds} rounds," \
    "64-byte messages, round trips per run = conns x max($per_conn, $min_roundtrips / conns)"
printf '%-10s %-6s %-5s %-6s %12s %10s %10s\n' placement conns round server rps p50_us p99_us
summary=()
for placement in other same; do
    if [[ $placement == other ]]; then client_cpu=1; else client_cpu=0; fi
    for conns in 1 10 50; do
        floor_rps=() weft_rps=() ratios=() floor_p50=() weft_p50=()
        for ((round = 1; round <= rounds; round++)); do
            if ((round % 2 == 1)); then order="floor weft"; else order="weft floor"; fi
            for kind in $order; do
                run_one "$kind" 0 "$client_cpu" "$conns"
                printf '%-10s %-6s %-5s %-6s %12.0f %10s %10s\n' "$placement" "$conns" "$round" \
                    "$kind" "$rps" "$p50" "$p99"
                if [[ $kind == floor ]]; then
                    f=$rps
                    floor_p50+=("$p50")
                else
                    w=$rps
                    weft_p50+=("$p50")
                fi
            done
            floor_rps+=("$f")
            weft_rps+=("$w")
            ratios+=("$(awk -v w="$w" -v f="$f" 'BEGIN {printf "%.4f", w / f}')")
        done
        fm=$(echo "${floor_rps[*]}" | median)
        wm=$(echo "${weft_rps[*]}" | median)
        rm_=$(echo "${ratios[*]}" | median)
        fp=$(echo "${floor_p50[*]}" | median)
        wp=$(echo "${weft_p50[*]}" | median)
        summary+=("$placement CPU|$conns|$fm|$wm|$rm_|$fp|$wp")
    done
done

echo
printf '%-10s %6s %12s %12s %11s %-8s %13s %13s\n' case conns "floor rps" "weft rps" \
    weft/floor ">= 0.9" "floor p50 us" "weft p50 us"
for row in "${summary[@]}"; do
    IFS='|' read -r name conns fm wm ratio fp wp <<<"$row"
    verdict=$(awk -v r="$ratio" 'BEGIN {print (r >= 0.9) ? "met" : "MISSED"}')
    printf '%-10s %6s %12.0f %12.0f %11.2f %-8s %13.1f %13.1f\n' "$name" "$conns" "$fm" "$wm" \
        "$ratio" "$verdict" "$fp" "$wp"
done
