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
#   BENCH_NO_BUILD=1, HAVEN_BIN=…, QUEUEFILL_BIN=…   use already built binaries
#
# Needs: cargo, curl, python3. The client and Haven each need an fd per socket: 18,000 waiting
# fit under this machine's limit of 20,000 per process. Only binds and connects to loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${BENCH_QUEUE_SIZES:-"1000 10000 18000"}
PROBES=${BENCH_QUEUE_PROBES:-200}
if [[ -z ${BENCH_NO_BUILD:-} ]]; then
    echo "== building (release)" >&2
    cargo build --release --quiet --bin haven --example queuefill
fi
HAVEN=${HAVEN_BIN:-target/release/haven}
QUEUEFILL=${QUEUEFILL_BIN:-target/release/examples/queuefill}
unset HAVEN_BIN

WORK=$(mktemp -d "${TMPDIR:-/tmp}/haven-bench-queue.XXXXXX")
SERVER_PID=""
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

max=0
for n in $SIZES; do ((n > max)) && max=$n; done
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
# Only what differs from config/default.toml: room in the line and for the sockets, no
# auto-assign (chatters must wait), quiet logs.
cat >"$WORK/haven.toml" <<CONF
[server]
bind = "127.0.0.1:$PORT"
data_dir = "$WORK/data"
shutdown_grace_secs = 2

[chat]
auto_assign = false
max_waiting = $((max + PROBES + 100))

[limits]
max_chatter_connections = $((max + PROBES + 100))

[log]
level = "warn"
CONF
PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$PASSWORD" | "$HAVEN" --config "$WORK/haven.toml" staff add load1 --role advocate >/dev/null

for n in $SIZES; do
    "$HAVEN" --config "$WORK/haven.toml" serve >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    echo "== $n waiting" >&2
    QUEUEFILL_PASSWORD=$PASSWORD "$QUEUEFILL" --url "$URL" --waiting "$n" --probes "$PROBES" \
        --server-pid "$SERVER_PID"
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
done
