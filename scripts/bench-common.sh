# shellcheck shell=bash
# Sourced by the bench scripts: the release binaries, a work directory that goes away, a free
# loopback port, a throw-away Haven started and stopped, and the bare relay Haven is compared
# with (examples/relay.rs). Only binds to 127.0.0.1.

# Builds the release binary and the given examples, unless BENCH_NO_BUILD is set; sets HAVEN
# (HAVEN_BIN overrides it) and RELAY, the bare relay's example binary (RELAY_BIN overrides it).
bench_build() {
    if [[ -z ${BENCH_NO_BUILD:-} ]]; then
        echo "== building (release)" >&2
        local args=(--bin haven)
        local example
        for example in "$@"; do args+=(--example "$example"); done
        cargo build --release --quiet "${args[@]}"
    fi
    HAVEN=${HAVEN_BIN:-target/release/haven}
    RELAY=${RELAY_BIN:-target/release/examples/relay}
    # Haven reads every HAVEN_* variable as configuration: do not pass this one on.
    unset HAVEN_BIN
}

# A work directory (WORK), removed on exit together with the server and the relay, if they run.
bench_work() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/haven-$1.XXXXXX")
    SERVER_PID=""
    RELAY_PID=""
    trap bench_cleanup EXIT
}

bench_cleanup() {
    [[ -z $SERVER_PID ]] || bench_stop_server
    [[ -z $RELAY_PID ]] || bench_stop_relay
    rm -rf "$WORK"
}

# A free loopback port: ask the kernel for one, then hand it to Haven. Sets PORT and URL.
bench_free_port() {
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    URL="http://127.0.0.1:$PORT"
}

# Starts Haven on the config file $1 (its output appended to $WORK/server.log) and waits until
# /healthz answers; sets SERVER_PID.
bench_start_server() {
    "$HAVEN" --config "$1" serve >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -fsS "$URL/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "Haven did not come up; its log:" >&2
    tail -n 30 "$WORK/server.log" >&2
    exit 1
}

# SIGTERM, up to 10 s for a graceful shutdown, then SIGKILL.
bench_stop_server() {
    bench_stop_pid "$SERVER_PID" Haven
    SERVER_PID=""
}

# Stops the process $1 (named $2 in messages) that this script started: SIGTERM, up to 10 s,
# then SIGKILL.
bench_stop_pid() {
    local pid=$1 name=$2
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "$name ignored SIGTERM for 10 s; killing it" >&2
        kill -KILL "$pid"
    fi
    wait "$pid" 2>/dev/null || true
}

# Starts the bare relay ($RELAY, built by `bench_build relay`) with the options given, on a port
# it picks itself (it prints the address it bound as its first line); sets RELAY_PID and
# RELAY_URL.
bench_start_relay() {
    : >"$WORK/relay.addr"
    "$RELAY" --listen 127.0.0.1:0 "$@" >"$WORK/relay.addr" 2>>"$WORK/relay.log" &
    RELAY_PID=$!
    for _ in $(seq 1 100); do
        if [[ $(wc -l <"$WORK/relay.addr") -ge 1 ]]; then
            RELAY_URL="http://$(head -n 1 "$WORK/relay.addr")"
            return 0
        fi
        kill -0 "$RELAY_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "the relay did not come up; its log:" >&2
    tail -n 30 "$WORK/relay.log" >&2
    exit 1
}

bench_stop_relay() {
    bench_stop_pid "$RELAY_PID" "the relay"
    RELAY_PID=""
}

# Adds advocates $2..$3 named "$1N" with the password in $PASSWORD, on Haven's stdin only.
bench_add_advocates() {
    local prefix=$1 from=$2 to=$3 i
    for ((i = from; i <= to; i++)); do
        printf '%s\n' "$PASSWORD" |
            "$HAVEN" --config "$CONFIG" staff add "$prefix$i" --role advocate --display-name "Load $i" \
                >/dev/null 2>>"$WORK/staff.log" ||
            { echo "staff add $prefix$i failed:" >&2; cat "$WORK/staff.log" >&2; exit 1; }
    done
}
