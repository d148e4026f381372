#!/usr/bin/env bash
# Haven's waiting line under load (issue 10): starts a throw-away Haven on a free loopback port
# with room for a long line, then for each size in BENCH_QUEUE_SIZES fills the line over real
# sockets (examples/queuefill.rs: one loopback address per chatter, 127.0.x.y) and prints the
# server's memory per waiting chatter and its hello → welcome time with the line full. A fresh
# Haven per size, so that each starts from the same memory.
#
# Usage: scripts/bench-queue.sh
# Environment (all optional):
#   BENCH_QUEUE_SIZES="1000 10000 18000"   waiting chatters per run
#   BENCH_QUEUE_PROBES=200                 timed hellos once the line is full
#   BENCH_QUEUE_LIVE_PAIRS=100             also time live chats beside the filling line: on
#                                          the same fresh Haven, P claimed pairs at 2 messages/s
#                                          for BENCH_QUEUE_LIVE_SECS (default 20) alone, then
#                                          again while the line fills; prints both (0: off)
#   BENCH_NO_BUILD=1, HAVEN_BIN=…, QUEUEFILL_BIN=…, LOADGEN_BIN=…   use already built binaries
#
# Needs: cargo, curl, python3 (and jq with live pairs). The client and Haven each need an fd per socket: 18,000 waiting
# fit under this machine's limit of 20,000 per process. Only binds and connects to loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${BENCH_QUEUE_SIZES:-"1000 10000 18000"}
PROBES=${BENCH_QUEUE_PROBES:-200}
LIVE_PAIRS=${BENCH_QUEUE_LIVE_PAIRS:-0}
LIVE_SECS=${BENCH_QUEUE_LIVE_SECS:-20}
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
if ((LIVE_PAIRS > 0)); then bench_build queuefill loadgen; else bench_build queuefill; fi
QUEUEFILL=${QUEUEFILL_BIN:-target/release/examples/queuefill}
LOADGEN=${LOADGEN_BIN:-target/release/examples/loadgen}
bench_work bench-queue

max=0
for n in $SIZES; do ((n > max)) && max=$n; done
bench_free_port
METRICS_PORT=$PORT
bench_free_port
# Only what differs from config/default.toml: room in the line and for the sockets, no
# auto-assign (chatters must wait), quiet logs; metrics to see when the live pairs are set up.
cat >"$WORK/haven.toml" <<CONF
[server]
bind = "127.0.0.1:$PORT"
data_dir = "$WORK/data"
shutdown_grace_secs = 2

[chat]
auto_assign = false
max_waiting = $((max + PROBES + 100))

[limits]
max_chatter_connections = $((max + PROBES + LIVE_PAIRS + 100))

[protection]
metrics_bind = "127.0.0.1:$METRICS_PORT"
# The live pairs all come from 127.0.0.1 (the waiting chatters each from their own address).
max_sockets_per_client = $((2 * LIVE_PAIRS + 64))
max_connections_per_client = $((4 * LIVE_PAIRS + 256))
new_chats_per_client_per_minute = $((2 * LIVE_PAIRS + 60))

[auth]
# Every live pair's advocate logs in from 127.0.0.1: the login throttle counts them as one source.
max_failed_logins_per_minute = $((LIVE_PAIRS * 10 + 100))

[log]
level = "warn"
CONF
CONFIG=$WORK/haven.toml
PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$PASSWORD" | "$HAVEN" --config "$CONFIG" staff add load1 --role advocate >/dev/null
bench_add_advocates live 1 "$LIVE_PAIRS"

# P live pairs for LIVE_SECS, as JSON in $1.
live_chats() {
    LOADGEN_PASSWORD=$PASSWORD "$LOADGEN" --url "$URL" --pairs "$LIVE_PAIRS" --rate 2 \
        --seconds "$LIVE_SECS" --users-prefix live --server-pid "$SERVER_PID" --json \
        --login-concurrency 3 \
        >"$1" 2>>"$WORK/loadgen.log" || { tail -n 20 "$WORK/loadgen.log" >&2; return 1; }
}
# Until every live pair is claimed (the line's first page must not hide their chatters).
wait_for_live_pairs() {
    local active
    for _ in $(seq 1 600); do
        active=$(curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" |
            awk '$1 == "haven_chats_active" {print $2}')
        ((${active:-0} >= LIVE_PAIRS)) && return 0
        sleep 0.1
    done
    echo "the live pairs were not set up within 60 s" >&2
    exit 1
}
live_summary() { # label, JSON file
    jq -r --arg name "$1" '"\($name): \(.round_trips_per_sec) round trips/s, p50 \(.rtt_ms.p50) ms, p99 \(.rtt_ms.p99) ms, lost \(.lost)"' "$2"
}

for n in $SIZES; do
    bench_start_server "$CONFIG"
    echo "== $n waiting" >&2
    if ((LIVE_PAIRS > 0)); then
        live_chats "$WORK/alone.json"
        live_chats "$WORK/beside.json" &
        live=$!
        wait_for_live_pairs
    fi
    QUEUEFILL_PASSWORD=$PASSWORD "$QUEUEFILL" --url "$URL" --waiting "$n" --probes "$PROBES" \
        --server-pid "$SERVER_PID"
    if ((LIVE_PAIRS > 0)); then
        wait "$live"
        live_summary "live chats alone ($LIVE_PAIRS pairs, ${LIVE_SECS} s)" "$WORK/alone.json"
        live_summary "live chats while the line fills to $n" "$WORK/beside.json"
    fi
    bench_stop_server
done
