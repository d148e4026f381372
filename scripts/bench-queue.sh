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
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
bench_build queuefill
QUEUEFILL=${QUEUEFILL_BIN:-target/release/examples/queuefill}
bench_work bench-queue

max=0
for n in $SIZES; do ((n > max)) && max=$n; done
bench_free_port
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
    bench_start_server "$WORK/haven.toml"
    echo "== $n waiting" >&2
    QUEUEFILL_PASSWORD=$PASSWORD "$QUEUEFILL" --url "$URL" --waiting "$n" --probes "$PROBES" \
        --server-pid "$SERVER_PID"
    bench_stop_server
done
