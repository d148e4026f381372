#!/usr/bin/env bash
# Issue 8: after minutes of attack, does Haven's resident memory come back once the purge has
# run? Starts the release binary and records its resident set size (RSS) when idle; real chats
# (RECOVERY_PAIRS advocate/chatter pairs at 2 messages/s each, from 127.0.0.1) then run for the
# whole attack, so advocates are on duty and attacking hellos really take waiting places; each
# attack of the load generator runs in turn from 127.0.0.2 (as its own process). RSS is then
# sampled while the chats close, the waiting grace runs out and the purge runs. One JSON line
# per sample on stdout; the real chats' report (round trips, lost, p99) last.
#
# The real chats end when their sockets close and the resume grace (120 s by default) runs out;
# closed chats are kept for chat.retention_after_close_secs (600 s by default) before the
# purge. Here the grace is 20 s and the retention 30 s, with the purge every 10 s, so that the
# run takes minutes, not a quarter of an hour: that changes when memory is freed, not how much.
#
#   RECOVERY_PAIRS=10             real chats during the attacks
#   RECOVERY_ATTACK_SECS=60       seconds of each attack
#   RECOVERY_ATTACKS="hellos pings silent idle hellos"   attacks, in order
#   RECOVERY_CONNECTIONS=200      attacking connections kept busy at once
#   RECOVERY_SETTLE_SECS=90       seconds sampled after the last attack
#   RECOVERY_ATTACKER_CPUS=1      run the attacker on these CPUs only (taskset -c), so that it
#                                 cannot starve the client that times the real chats
#   RECOVERY_DEFAULTS=1           keep the per-client allowances at their defaults (the attacker
#                                 is then throttled after 60 new chats a minute); by default
#                                 they are raised so that the attacker is not throttled, the
#                                 worst case (many addresses, or one big NAT)
#   BENCH_NO_BUILD=1, HAVEN_BIN=…, LOADGEN_BIN=…   use already built binaries
set -euo pipefail
cd "$(dirname "$0")/.."

ATTACK_SECS=${RECOVERY_ATTACK_SECS:-60}
ATTACKS=${RECOVERY_ATTACKS:-"hellos pings silent idle hellos"}
CONNECTIONS=${RECOVERY_CONNECTIONS:-200}
SETTLE=${RECOVERY_SETTLE_SECS:-90}
PAIRS=${RECOVERY_PAIRS:-10}

# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
bench_build loadgen
LOADGEN=${LOADGEN_BIN:-target/release/examples/loadgen}
bench_work recovery
bench_free_port
CONFIG=$WORK/haven.toml
{
    printf '[server]\nbind = "127.0.0.1:%s"\ndata_dir = "%s/data"\n\n' "$PORT" "$WORK"
    # Auto-assign off: the pairs' advocates each claim their own chatter, and attacking hellos
    # wait in the line (the attack that costs memory).
    printf '[chat]\nauto_assign = false\nmax_chats_per_advocate = 1\n'
    printf 'resume_grace_secs = 20\nretention_after_close_secs = 30\npurge_interval_secs = 10\n\n[log]\nlevel = "warn"\n'
    if [[ -z ${RECOVERY_DEFAULTS:-} ]]; then
        printf '\n[protection]\nmax_sockets_per_client = 100000\n'
        printf 'max_connections_per_client = 100000\nnew_chats_per_client_per_minute = 1000000\n'
    fi
} >"$CONFIG"

# A fresh random password for the throw-away accounts, on stdin and in the loadgen's
# environment only.
PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
bench_add_advocates load 1 "$PAIRS"
bench_start_server "$CONFIG"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
sample() { # phase, seconds since start
    printf '{"phase":"%s","t_secs":%s,"rss_kib":%s}\n' "$1" "$2" "$(rss_kib)"
}
START=$(date +%s)
since() { echo $(($(date +%s) - START)); }

sleep 2
sample idle "$(since)"
n_attacks=$(wc -w <<<"$ATTACKS")
LOADGEN_PASSWORD=$PASSWORD "$LOADGEN" --url "$URL" --pairs "$PAIRS" --rate 2 --warmup 1 \
    --seconds $((n_attacks * ATTACK_SECS + 5)) --server-pid "$SERVER_PID" --json \
    --login-concurrency 3 >"$WORK/load.json" 2>>"$WORK/loadgen.log" &
LOAD_PID=$!
sleep 5
sample chats "$(since)"
for attack in $ATTACKS; do
    made=$(${RECOVERY_ATTACKER_CPUS:+taskset -c "$RECOVERY_ATTACKER_CPUS"} nice -n 10 "$LOADGEN" --url "$URL" --attack "$attack" --attack-connections "$CONNECTIONS" \
        --attack-only-secs "$ATTACK_SECS" 2>>"$WORK/loadgen.log" | tail -n 1)
    sample "after-$attack" "$(since)"
    echo "   $made" >&2
    curl -fsS -m 1 "$URL/healthz" >/dev/null || echo "   /healthz did not answer within 1 s" >&2
done
wait "$LOAD_PID" || { echo "the real chats failed:" >&2; tail -n 20 "$WORK/loadgen.log" >&2; exit 1; }
sample chats-ended "$(since)"
for ((s = 0; s < SETTLE; s += 10)); do
    sleep 10
    sample settle "$(since)"
done
jq -c '{real_chats: {pairs, round_trips_per_sec, lost, errors, rtt_ms: {p50: .rtt_ms.p50, p99: .rtt_ms.p99}}}' "$WORK/load.json"
kill -0 "$SERVER_PID" || { echo "Haven exited; its log:" >&2; tail -n 30 "$WORK/server.log" >&2; exit 1; }
