#!/usr/bin/env bash
# Haven benchmark: builds release, starts a throw-away Haven on a free loopback port, runs the
# load generator (examples/loadgen.rs) for several scenarios and rounds, and prints the medians
# and each scenario's ratio to the first (baseline) scenario. Every scenario also runs against
# the bare relay (examples/relay.rs) in the same round, and the summary gives Haven's ratio to
# it and both per-pair fairness figures (issue 10). See docs/benchmarks.md.
#
# Usage: scripts/bench.sh
# Environment (all optional):
#   BENCH_ROUNDS=5            rounds; every round runs every scenario once, interleaved
#   BENCH_SECONDS=5           measured seconds per run (plus BENCH_WARMUP, not counted)
#   BENCH_WARMUP=1
#   BENCH_SCENARIOS="10:2 100:2 50:0"   pairs:rate per pair (rate 0 = closed loop); the first
#                                       is the baseline the others are compared with. `xN` after
#                                       a closed loop's rate keeps N messages in flight per pair
#                                       (1000:0x4 = 1000 pairs, closed loop, 4 in flight; default
#                                       1). A third field runs an attack from 127.0.0.2 during the
#                                       load (issue 8): pairs:rate:silent|pings|hellos|idle
#   BENCH_RELAY=1             also run every scenario against the bare relay (examples/relay.rs
#                             --tuned), right after Haven's run of it in each round; 0 skips it.
#                             Attack scenarios are Haven's only.
#   BENCH_PROTOCOL=1          Haven's protocol version, passed to the load generator (--protocol)
#   BENCH_AUTO_ASSIGN=0       1: Haven gives each chatter to an advocate itself (chat.auto_assign),
#                             as a program with a shared line would; 0: each advocate claims its
#                             own pair's chatter from the queue
#   BENCH_ATTACK_CONNECTIONS=200        attacking connections kept busy at once
#   BENCH_ATTACKER=process              the attacker runs as its own loadgen process
#                                       (`inprocess`: inside the timing loadgen, as before)
#   BENCH_OUT=DIR             keep every run's JSON there (default: a temp dir, deleted)
#   BENCH_NO_BUILD=1, HAVEN_BIN=…, LOADGEN_BIN=…, RELAY_BIN=…   use already built binaries
#   BENCH_SUMMARIZE=DIR       only print the summary of the JSON kept in DIR by BENCH_OUT
#                             (give the same BENCH_SCENARIOS, BENCH_ROUNDS, BENCH_SECONDS)
#
# A delivery is one chat message carried from one client to the other: a round trip is two.
#
# Needs: cargo, curl, jq. Only ever binds and connects to 127.0.0.1.
set -euo pipefail

cd "$(dirname "$0")/.."

ROUNDS=${BENCH_ROUNDS:-5}
SECS=${BENCH_SECONDS:-5}
WARMUP=${BENCH_WARMUP:-1}
SCENARIOS=${BENCH_SCENARIOS:-"10:2 100:2 50:0"}
WITH_RELAY=${BENCH_RELAY:-1}
PROTOCOL=${BENCH_PROTOCOL:-1}
AUTO_ASSIGN=${BENCH_AUTO_ASSIGN:-0}

for tool in cargo curl jq; do
    command -v "$tool" >/dev/null || { echo "bench.sh needs $tool" >&2; exit 1; }
done
[[ $WITH_RELAY == [01] ]] || { echo "BENCH_RELAY must be 0 or 1" >&2; exit 1; }
[[ $PROTOCOL == [12] ]] || { echo "BENCH_PROTOCOL must be 1 or 2" >&2; exit 1; }
[[ $AUTO_ASSIGN == [01] ]] || { echo "BENCH_AUTO_ASSIGN must be 0 or 1" >&2; exit 1; }

# Splits the scenario pairs:rate[xN][:attack] into PAIRS, RATE, IN_FLIGHT and ATTACK.
parse_scenario() {
    local rest=${1#*:} rate_field
    PAIRS=${1%%:*}
    rate_field=${rest%%:*}
    ATTACK=""
    [[ $rest == *:* ]] && ATTACK=${rest#*:}
    RATE=${rate_field%%x*}
    IN_FLIGHT=1
    [[ $rate_field == *x* ]] && IN_FLIGHT=${rate_field#*x}
    return 0
}

max_pairs=0
for s in $SCENARIOS; do
    parse_scenario "$s"
    [[ $PAIRS =~ ^[0-9]+$ && $PAIRS -ge 1 && $RATE =~ ^[0-9]+([.][0-9]+)?$ ]] ||
        { echo "bad scenario $s (want pairs:rate, pairs:0xN or pairs:rate:attack)" >&2; exit 1; }
    [[ $IN_FLIGHT =~ ^[0-9]+$ && $IN_FLIGHT -ge 1 && $IN_FLIGHT -le 64 ]] ||
        { echo "bad scenario $s: in flight must be 1 to 64" >&2; exit 1; }
    if ((IN_FLIGHT > 1)) && [[ $RATE != 0 ]]; then
        echo "bad scenario $s: xN (messages in flight) is for the closed loop, pairs:0xN" >&2
        exit 1
    fi
    ((PAIRS > max_pairs)) && max_pairs=$PAIRS
done

if [[ -n ${BENCH_SUMMARIZE:-} ]]; then
    # Only print the summary of a kept run (BENCH_OUT of an earlier run).
    OUT=$BENCH_SUMMARIZE
    trap - EXIT
else
    # shellcheck source=scripts/bench-common.sh
    source scripts/bench-common.sh
    if ((WITH_RELAY)); then bench_build loadgen relay; else bench_build loadgen; fi
    LOADGEN=${LOADGEN_BIN:-target/release/examples/loadgen}
    # A thousand pairs are thousands of sockets in the load generator and the relay.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
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
auto_assign = $( ((AUTO_ASSIGN)) && echo true || echo false)
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

    echo "== $ROUNDS rounds of: $SCENARIOS (pairs:rate), ${SECS}s measured + ${WARMUP}s warm-up each$( ((WITH_RELAY)) && echo ", each against Haven then the relay")" >&2
    # One line per run: throughput, latency, losses, fairness (a jq program, not shell).
    # shellcheck disable=SC2016
    run_line='"  round \($r) \($s) \($who): \(.round_trips_per_sec|floor) rt/s, p50 \(.rtt_ms.p50) ms, p99 \(.rtt_ms.p99) ms, lost \(.lost), errors \(.errors|tostring), fairness \(.fairness.min_over_mean // "-" | if type == "number" then (. * 100 | round) / 100 else . end)"'
    for ((round = 1; round <= ROUNDS; round++)); do
        for s in $SCENARIOS; do
            parse_scenario "$s"
            pairs=$PAIRS rate=$RATE attack=$ATTACK
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
                --in-flight "$IN_FLIGHT" --protocol "$PROTOCOL" \
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
            jq -r --arg s "$s" --arg r "$round" --arg who Haven "$run_line" \
                "$OUT/$s.round$round.json" >&2
            if ((WITH_RELAY)) && [[ -z $attack ]]; then
                # The same load against the bare relay, freshly started, in the same round.
                bench_start_relay --tuned
                if ! "$LOADGEN" --target relay --url "$RELAY_URL" --pairs "$pairs" --rate "$rate" \
                    --in-flight "$IN_FLIGHT" --seconds "$SECS" --warmup "$WARMUP" \
                    --server-pid "$RELAY_PID" --json >"$OUT/$s.relay.round$round.json" 2>"$WORK/loadgen.err"; then
                    echo "loadgen against the relay failed (round $round, $s):" >&2
                    cat "$WORK/loadgen.err" >&2
                    tail -n 30 "$WORK/relay.log" >&2
                    exit 1
                fi
                bench_stop_relay
                jq -r --arg s "$s" --arg r "$round" --arg who relay "$run_line" \
                    "$OUT/$s.relay.round$round.json" >&2
            fi
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

# "10 × 2", "50 × closed loop", "1000 × closed loop ×4", "100 × 2 +hellos".
label_of() {
    parse_scenario "$1"
    local label="$PAIRS × "
    if [[ $RATE == 0 ]]; then label+="closed loop"; else label+=$RATE; fi
    ((IN_FLIGHT > 1)) && label+=" ×$IN_FLIGHT"
    [[ -n $ATTACK ]] && label+=" +$ATTACK"
    echo "$label"
}
# A number as printf's format $2 has it, or "-" for a missing one.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
num() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "nan" || v == "") print "-"; else printf f, v }'; }
# $1 left-aligned in $2 columns: printf pads by bytes, and × and µ take two.
cell() { printf "%-$(($2 + $(grep -o -e '×' -e 'µ' <<<"$1" | wc -l)))s" "$1"; }
has_relay() { compgen -G "$OUT/$1.relay.round*.json" >/dev/null; }

echo
echo "Haven benchmark: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(rustc --version)"
echo "rounds: $ROUNDS, ${SECS}s measured after ${WARMUP}s warm-up, medians over rounds"
echo
printf '| %s | %9s | %9s | %8s | %8s | %8s | %8s | %6s | %10s | %10s | %10s | %9s | %10s | %7s |\n' \
    "$(cell "pairs × rate/s" 26)" "rt/s" "msgs/s" "p50 ms" "p90 ms" "p99 ms" "max ms" "lost" "RSS start" "RSS logins" "RSS conn." "KiB/pair" "RSS peak" "CPU %"
printf '|%s|\n' "----------------------------|-----------|-----------|----------|----------|----------|----------|--------|------------|------------|------------|-----------|------------|---------"
declare -A MED
for s in $SCENARIOS; do
    for key in round_trips_per_sec chat_messages_per_sec rtt_ms.p50 rtt_ms.p90 rtt_ms.p99 rtt_ms.max lost \
        server.rss_before_kib server.rss_logged_in_kib server.rss_connected_kib advocate_bytes_in advocate_snapshot_frames_in server.rss_per_pair_kib server.cpu_pct_of_one_core setup_secs; do
        MED[$s.$key]=$(median_of "$s" ".$key")
    done
    MED[$s.peak]=$(median_of "$s" '[.server.rss_peak_sampled_kib, .server.vm_hwm_kib] | max')
    label=$(cell "$(label_of "$s")" 26)
    printf '| %s | %9.1f | %9.1f | %8.2f | %8.2f | %8.2f | %8.2f | %6s | %6s KiB | %6s KiB | %6s KiB | %9.1f | %6s KiB | %7.1f |\n' \
        "$label" "${MED[$s.round_trips_per_sec]}" "${MED[$s.chat_messages_per_sec]}" \
        "${MED[$s.rtt_ms.p50]}" "${MED[$s.rtt_ms.p90]}" "${MED[$s.rtt_ms.p99]}" "${MED[$s.rtt_ms.max]}" \
        "${MED[$s.lost]}" "${MED[$s.server.rss_before_kib]%.*}" "${MED[$s.server.rss_logged_in_kib]%.*}" \
        "${MED[$s.server.rss_connected_kib]%.*}" \
        "${MED[$s.server.rss_per_pair_kib]}" "${MED[$s.peak]%.*}" "${MED[$s.server.cpu_pct_of_one_core]:-0}"
done

echo
echo "Haven vs the bare relay (examples/relay.rs --tuned), the same load in the same rounds, medians."
echo "A delivery is one message carried from one client to the other (2 per round trip). fair: the"
echo "least-served pair's round trips over the mean, the 10th percentile's in brackets (goal: ≥ 0.9)."
printf '| %s | %13s | %13s | %7s | %9s | %9s | %7s | %s | %s | %11s | %11s |\n' \
    "$(cell "pairs × rate/s" 26)" "Haven deliv/s" "relay deliv/s" "ratio" "Haven p99" "relay p99" "ratio" \
    "$(cell "Haven µs/d" 10)" "$(cell "relay µs/d" 10)" "fair Haven" "fair relay"
printf '|%s|\n' "----------------------------|---------------|---------------|---------|-----------|-----------|---------|------------|------------|-------------|-------------"
fair_of() { # median file prefix -> "0.97 (0.99)"
    echo "$(num "$(median_of "$1" .fairness.min_over_mean)" %.2f) ($(num "$(median_of "$1" .fairness.p10_over_mean)" %.2f))"
}
for s in $SCENARIOS; do
    MED[$s.cpu_us]=$(median_of "$s" .server.cpu_us_per_delivery)
    if has_relay "$s"; then
        r="$s.relay"
        MED[$r.chat_messages_per_sec]=$(median_of "$r" .chat_messages_per_sec)
        MED[$r.rtt_ms.p99]=$(median_of "$r" .rtt_ms.p99)
        MED[$r.cpu_us]=$(median_of "$r" .server.cpu_us_per_delivery)
        relay=("$(num "${MED[$r.chat_messages_per_sec]}" %.1f)"
            "$(ratio "${MED[$s.chat_messages_per_sec]}" "${MED[$r.chat_messages_per_sec]}")"
            "$(num "${MED[$r.rtt_ms.p99]}" %.2f)"
            "$(ratio "${MED[$s.rtt_ms.p99]}" "${MED[$r.rtt_ms.p99]}")"
            "$(num "${MED[$r.cpu_us]}" %.1f)" "$(fair_of "$r")")
    else
        relay=(- - - - - -)
    fi
    printf '| %s | %13s | %13s | %7s | %9s | %9s | %7s | %10s | %10s | %11s | %11s |\n' \
        "$(cell "$(label_of "$s")" 26)" "$(num "${MED[$s.chat_messages_per_sec]}" %.1f)" "${relay[0]}" "${relay[1]}" \
        "$(num "${MED[$s.rtt_ms.p99]}" %.2f)" "${relay[2]}" "${relay[3]}" \
        "$(num "${MED[$s.cpu_us]}" %.1f)" "${relay[4]}" "$(fair_of "$s")" "${relay[5]}"
done
echo "ratio: Haven's over the relay's. µs/d: server CPU µs per delivery. \"-\": not run (BENCH_RELAY=0, attack)."
echo
# Ratios only between scenarios of the same kind: open loop vs the first open-loop scenario
# (scaling at a fixed per-pair rate), closed loop vs the first closed-loop one; a closed-loop
# scenario is also set against the busiest open-loop one (headroom).
# The rate of pairs:rate[xN][:attack].
rate_of() { parse_scenario "$1"; echo "$RATE"; }
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
