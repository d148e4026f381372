#!/usr/bin/env bash
# Haven benchmark: builds release, starts a throw-away Haven on a free loopback port, runs the
# load generator (examples/loadgen.rs) for several scenarios and rounds, and prints the medians
# and each scenario's ratio to the first (baseline) scenario. See docs/benchmarks.md.
#
# Usage: scripts/bench.sh
# Environment (all optional):
#   BENCH_ROUNDS=5            rounds; every round runs every scenario once, interleaved
#   BENCH_SECONDS=5           measured seconds per run (plus BENCH_WARMUP, not counted)
#   BENCH_WARMUP=1
#   BENCH_SCENARIOS="10:2 100:2 50:0"   pairs:rate per pair (rate 0 = closed loop); the first
#                                       is the baseline the others are compared with. A third
#                                       field runs an attack from 127.0.0.2 during the load
#                                       (issue 8): pairs:rate:silent|pings|hellos|idle
#   BENCH_ATTACK_CONNECTIONS=200        attacking connections kept busy at once
#   BENCH_ATTACKER=process              the attacker runs as its own loadgen process
#                                       (`inprocess`: inside the timing loadgen, as before)
#   BENCH_OUT=DIR             keep every run's JSON there (default: a temp dir, deleted)
#   BENCH_NO_BUILD=1, HAVEN_BIN=…, LOADGEN_BIN=…   use already built binaries
#   BENCH_SUMMARIZE=DIR       only print the summary of the JSON kept in DIR by BENCH_OUT
#                             (give the same BENCH_SCENARIOS, BENCH_ROUNDS, BENCH_SECONDS)
#
# Needs: cargo, curl, jq. Only ever binds and connects to 127.0.0.1.
set -euo pipefail

cd "$(dirname "$0")/.."

ROUNDS=${BENCH_ROUNDS:-5}
SECS=${BENCH_SECONDS:-5}
WARMUP=${BENCH_WARMUP:-1}
SCENARIOS=${BENCH_SCENARIOS:-"10:2 100:2 50:0"}

for tool in cargo curl jq; do
    command -v "$tool" >/dev/null || { echo "bench.sh needs $tool" >&2; exit 1; }
done

max_pairs=0
for s in $SCENARIOS; do
    p=${s%%:*}
    [[ $p =~ ^[0-9]+$ && $p -ge 1 ]] || { echo "bad scenario $s (want pairs:rate)" >&2; exit 1; }
    ((p > max_pairs)) && max_pairs=$p
done

if [[ -n ${BENCH_SUMMARIZE:-} ]]; then
    # Only print the summary of a kept run (BENCH_OUT of an earlier run).
    OUT=$BENCH_SUMMARIZE
    trap - EXIT
else
    # shellcheck source=scripts/bench-common.sh
    source scripts/bench-common.sh
    bench_build loadgen
    LOADGEN=${LOADGEN_BIN:-target/release/examples/loadgen}
    bench_work bench
    # With BENCH_OUT the results are kept outside the work directory, which goes on exit.
    OUT=${BENCH_OUT:-$WORK/results}
    mkdir -p "$OUT"
    bench_free_port
    CONFIG=$WORK/haven.toml

    # Only the keys that differ from config/default.toml.
    #  - limits.rate_*: the default token bucket (20 burst, 5 frames/s per connection) would throttle
    #    the closed-loop scenario; it is raised so the benchmark measures the hub, not the limiter.
    #  - chat.max_chats_per_advocate = 1: each advocate holds exactly its own pair's chat.
    #  - chat.max_waiting / limits.max_chatter_connections: room for every pair to queue at once,
    #    never below the defaults (200, 2000), which the attack scenarios run against.
    #  - protection.*_per_client: every pair connects from 127.0.0.1, one client to Haven; the
    #    per-client allowances (issue 8) are raised so that the pairs are not refused.
    #  - auth.max_failed_logins_per_minute: every advocate logs in from 127.0.0.1, which the
    #    login throttle (issue 9) counts as attempts from one source before it checks them (and
    #    the loadgen keeps to the 3 checks in flight one source may have).
    #  - log.level = "warn": no per-connection info lines on the hot path.
    cat >"$CONFIG" <<EOF
[server]
bind = "127.0.0.1:$PORT"
data_dir = "$WORK/data"
shutdown_grace_secs = 2

[chat]
auto_assign = false
max_chats_per_advocate = 1
max_waiting = $(( max_pairs + 10 > 200 ? max_pairs + 10 : 200 ))

[limits]
rate_burst = 100000
rate_per_sec = 100000
rate_violations_before_close = 100000
max_chatter_connections = $(( max_pairs + 10 > 2000 ? max_pairs + 10 : 2000 ))

[protection]
max_sockets_per_client = $((max_pairs + 10))
max_connections_per_client = $((4 * max_pairs + 64))
new_chats_per_client_per_minute = $((max_pairs * 100 + 100))

[auth]
max_failed_logins_per_minute = $((max_pairs * 10 + 100))

[log]
level = "warn"
EOF

    # A fresh random password for the throw-away accounts: on Haven's stdin and in the loadgen's
    # environment only, never on a command line. (Not HAVEN_*: Haven reads those as configuration.)
    PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')

    echo "== creating $max_pairs advocate accounts" >&2
    bench_add_advocates load 1 "$max_pairs"

    echo "== $ROUNDS rounds of: $SCENARIOS (pairs:rate), ${SECS}s measured + ${WARMUP}s warm-up each" >&2
    for ((round = 1; round <= ROUNDS; round++)); do
        for s in $SCENARIOS; do
            pairs=${s%%:*}
            rest=${s#*:}
            rate=${rest%%:*}
            attack=""
            [[ $rest == *:* ]] && attack=${rest#*:}
            bench_start_server "$CONFIG"
            in_process_attack=""
            attacker_pid=""
            if [[ -n $attack && ${BENCH_ATTACKER:-process} == process ]]; then
                # The attacker as its own process, started first and outlasting the measured
                # window (setup allowance 10 s), so its busy tasks do not slow the timing client.
                "$LOADGEN" --url "$URL" --attack "$attack" --attack-connections "${BENCH_ATTACK_CONNECTIONS:-200}" \
                    --attack-only-secs "$(awk -v w="$WARMUP" -v s="$SECS" 'BEGIN { print 10 + w + s }')" \
                    >"$WORK/attacker.json" 2>"$WORK/attacker.err" &
                attacker_pid=$!
                sleep 1
            elif [[ -n $attack ]]; then
                in_process_attack=$attack
            fi
            if ! LOADGEN_PASSWORD=$PASSWORD "$LOADGEN" --url "$URL" --pairs "$pairs" --rate "$rate" --seconds "$SECS" \
                --warmup "$WARMUP" --server-pid "$SERVER_PID" --json --login-concurrency 3 \
                ${in_process_attack:+--attack "$in_process_attack" --attack-connections "${BENCH_ATTACK_CONNECTIONS:-200}"} \
                >"$OUT/$s.round$round.json" \
                2>"$WORK/loadgen.err"; then
                echo "loadgen failed (round $round, $s):" >&2
                cat "$WORK/loadgen.err" >&2
                echo "server log tail:" >&2
                tail -n 30 "$WORK/server.log" >&2
                exit 1
            fi
            if [[ -n $attacker_pid ]]; then
                wait "$attacker_pid"
                jq --slurpfile a "$WORK/attacker.json" '.attack = $a[0].attack' "$OUT/$s.round$round.json" \
                    >"$WORK/merged.json" && mv "$WORK/merged.json" "$OUT/$s.round$round.json"
            fi
            bench_stop_server
            jq -r --arg s "$s" --arg r "$round" \
                '"  round \($r) \($s): \(.round_trips_per_sec|floor) rt/s, p50 \(.rtt_ms.p50) ms, p99 \(.rtt_ms.p99) ms, lost \(.lost), errors \(.errors|tostring)"' \
                "$OUT/$s.round$round.json" >&2
        done
    done
fi

# Medians over the rounds (for an even count, the mean of the two middle values).
median_of() { # scenario jq-expression
    jq -rs "[.[] | ($2)] | map(select(. != null)) | sort |
        if length == 0 then \"nan\"
        elif length % 2 == 1 then .[length / 2 | floor]
        else (.[length / 2 - 1] + .[length / 2]) / 2 end" "$OUT/$1".round*.json
}

echo
echo "Haven benchmark: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(rustc --version)"
echo "rounds: $ROUNDS, ${SECS}s measured after ${WARMUP}s warm-up, medians over rounds"
echo
printf '| %-18s | %9s | %9s | %8s | %8s | %8s | %8s | %6s | %10s | %10s | %10s | %9s | %10s | %7s |\n' \
    "pairs × rate/s" "rt/s" "msgs/s" "p50 ms" "p90 ms" "p99 ms" "max ms" "lost" "RSS start" "RSS logins" "RSS conn." "KiB/pair" "RSS peak" "CPU %"
printf '|%s|\n' "--------------------|-----------|-----------|----------|----------|----------|----------|--------|------------|------------|------------|-----------|------------|---------"
declare -A MED
for s in $SCENARIOS; do
    for key in round_trips_per_sec chat_messages_per_sec rtt_ms.p50 rtt_ms.p90 rtt_ms.p99 rtt_ms.max lost \
        server.rss_before_kib server.rss_logged_in_kib server.rss_connected_kib advocate_bytes_in advocate_snapshot_frames_in server.rss_per_pair_kib server.cpu_pct_of_one_core setup_secs; do
        MED[$s.$key]=$(median_of "$s" ".$key")
    done
    MED[$s.peak]=$(median_of "$s" '[.server.rss_peak_sampled_kib, .server.vm_hwm_kib] | max')
    rest=${s#*:}
    rate=${rest%%:*}
    attack=""
    [[ $rest == *:* ]] && attack=" +${rest#*:}"
    label="${s%%:*} × $([[ $rate == 0 ]] && echo "closed loop" || echo "$rate")$attack"
    printf '| %-18s | %9.1f | %9.1f | %8.2f | %8.2f | %8.2f | %8.2f | %6s | %6s KiB | %6s KiB | %6s KiB | %9.1f | %6s KiB | %7.1f |\n' \
        "$label" "${MED[$s.round_trips_per_sec]}" "${MED[$s.chat_messages_per_sec]}" \
        "${MED[$s.rtt_ms.p50]}" "${MED[$s.rtt_ms.p90]}" "${MED[$s.rtt_ms.p99]}" "${MED[$s.rtt_ms.max]}" \
        "${MED[$s.lost]}" "${MED[$s.server.rss_before_kib]%.*}" "${MED[$s.server.rss_logged_in_kib]%.*}" \
        "${MED[$s.server.rss_connected_kib]%.*}" \
        "${MED[$s.server.rss_per_pair_kib]}" "${MED[$s.peak]%.*}" "${MED[$s.server.cpu_pct_of_one_core]:-0}"
done

echo
# Ratios only between scenarios of the same kind: open loop vs the first open-loop scenario
# (scaling at a fixed per-pair rate), closed loop vs the first closed-loop one; a closed-loop
# scenario is also set against the busiest open-loop one (headroom).
# The rate field of pairs:rate[:attack].
rate_of() { local rest=${1#*:}; echo "${rest%%:*}"; }
base_open="" base_closed="" busiest_open=""
for s in $SCENARIOS; do
    if [[ $(rate_of "$s") == 0 ]]; then
        base_closed=${base_closed:-$s}
    else
        base_open=${base_open:-$s}
        if [[ -z $busiest_open ]] || awk -v a="${MED[$s.round_trips_per_sec]}" -v b="${MED[$busiest_open.round_trips_per_sec]}" 'BEGIN { exit !(a > b) }'; then
            busiest_open=$s
        fi
    fi
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
echo "Ratios (same session, medians):"
for s in $SCENARIOS; do
    if [[ $(rate_of "$s") == 0 ]]; then base=$base_closed; else base=$base_open; fi
    if [[ $s != "$base" ]]; then
        echo "  $s vs $base: throughput ×$(ratio "${MED[$s.round_trips_per_sec]}" "${MED[$base.round_trips_per_sec]}")," \
            "p50 ×$(ratio "${MED[$s.rtt_ms.p50]}" "${MED[$base.rtt_ms.p50]}")," \
            "p99 ×$(ratio "${MED[$s.rtt_ms.p99]}" "${MED[$base.rtt_ms.p99]}")," \
            "server CPU ×$(ratio "${MED[$s.server.cpu_pct_of_one_core]}" "${MED[$base.server.cpu_pct_of_one_core]}")," \
            "RSS per pair ×$(ratio "${MED[$s.server.rss_per_pair_kib]}" "${MED[$base.server.rss_per_pair_kib]}")"
    fi
    if [[ $(rate_of "$s") == 0 && -n $busiest_open ]]; then
        echo "  $s (closed loop) vs $busiest_open (open loop): ceiling ×$(ratio "${MED[$s.round_trips_per_sec]}" "${MED[$busiest_open.round_trips_per_sec]}") the offered load"
    fi
done
echo
echo "setup (log in, connect, claim every pair) and what the advocates received in all, medians:"
for s in $SCENARIOS; do
    printf '  %s: setup %.2f s; advocates received %s frames (%s queue/advocates snapshots), %.1f MB\n' \
        "$s" "${MED[$s.setup_secs]}" "$(median_of "$s" .advocate_frames_in)" "${MED[$s.advocate_snapshot_frames_in]}" \
        "$(awk -v b="${MED[$s.advocate_bytes_in]}" 'BEGIN { print b / 1e6 }')"
done
if [[ -n ${BENCH_OUT:-} ]]; then echo "per-run JSON: $OUT"; fi
