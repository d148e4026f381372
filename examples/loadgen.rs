//! Haven load generator: N chatter/advocate pairs against a running Haven on loopback, or against
//! the bare relay (`examples/relay.rs`) that Haven's throughput is compared with.
//!
//! Each advocate logs in over HTTP (`POST /api/staff/login`), opens `/ws/console` with the
//! `haven_session` cookie, goes available and claims "its" chatter: chatter `i` sends `hello` with
//! the intake `{"loadgen_pair": i}` and advocate `i` claims the queue entry carrying that tag. With
//! `chat.auto_assign = true` on the server, advocates simply take what they are assigned. Then, for
//! a bounded time (and optionally a bounded count), every chatter sends messages and its advocate
//! echoes each one back; the chatter measures the round trip
//! chatter -> server -> advocate -> server -> chatter, and the time to the server's `ack`.
//! `--protocol 2` speaks version 2 of the protocol (`"v":2`).
//!
//! With `--target relay` pair `i` is two sockets on the relay's `ws://HOST/pair/<i>`: no login, no
//! `hello`; the chatter sends the very same `message` frames and an echoer sends each one back.
//!
//! Open loop (`--rate R`, default 2 per pair): messages are scheduled every 1/R s and latency is
//! measured from the *scheduled* send time, so a stalled server cannot hide its stall
//! (no coordinated omission). Closed loop (`--rate 0`): each chatter keeps `--in-flight N`
//! messages outstanding (default 1) and sends the next as soon as an echo comes back; this
//! measures the server's throughput ceiling. Per-pair fairness: the round trips each pair
//! completed in the measured window, the least-served pair's and the 10th percentile's share of
//! the mean.
//!
//! The server's memory comes from `/proc/<pid>/status` (`--server-pid`): RSS before the clients
//! connect, once every pair is connected and claimed, the peak seen while sampling every 50 ms,
//! `VmHWM`, and RSS after every client closed. Its CPU time comes from `/proc/<pid>/stat`.
//!
//! ```text
//! cargo run --release --example loadgen -- --pairs 50 --seconds 10 --rate 2 --server-pid PID
//! cargo run --release --example loadgen -- --target relay --url http://127.0.0.1:PORT --pairs 1000 --rate 0 --in-flight 4
//! ```
//!
//! The accounts `{users_prefix}1 ..= {users_prefix}N` must exist with role `advocate` and the
//! password given by `--password` / `LOADGEN_PASSWORD` (see `scripts/bench.sh`). The server's
//! per-connection rate limit (`limits.rate_burst`, `limits.rate_per_sec`) must allow the chosen rate.
//! Only loopback addresses are accepted.
//!
//! Layout: `loadgen/haven_pairs.rs` and `loadgen/relay_pairs.rs` set the pairs up for each
//! target, `loadgen/exchange.rs` is the chatter's measured exchange both share,
//! `loadgen/fairness.rs` the per-pair shares, `loadgen/attack.rs` the attacks of issue 8,
//! `loadgen/report.rs` the JSON and the human report; `shared/` holds what other examples use too.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::time::{sleep, sleep_until, timeout, Instant};

#[path = "loadgen/attack.rs"]
mod attack;
#[path = "loadgen/exchange.rs"]
mod exchange;
#[path = "loadgen/fairness.rs"]
mod fairness;
#[path = "shared/frames.rs"]
mod frames;
#[path = "loadgen/haven_pairs.rs"]
mod haven_pairs;
#[path = "shared/percentile.rs"]
mod percentile;
#[path = "shared/procfs.rs"]
mod procfs;
#[path = "loadgen/relay_pairs.rs"]
mod relay_pairs;
#[path = "loadgen/report.rs"]
mod report;

use attack::{attack_for, Attack, Attackers};
use exchange::{Load, Plan, DRAIN};
use procfs::PeakSampler;

/// Default logins in flight at once (the server hashes passwords with Argon2).
const LOGIN_CONCURRENCY: usize = 4;
/// Most messages a pair may keep outstanding in a closed loop.
const MAX_IN_FLIGHT: usize = 64;

#[derive(Parser, Debug, Clone)]
#[command(about = "Load generator for Haven: N chatter/advocate pairs echoing messages")]
struct Args {
    /// Base URL of the running Haven, or of the relay with `--target relay` (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// What to load: `haven` (the real protocol) or `relay` (`examples/relay.rs`, the yardstick).
    #[arg(long, value_enum, default_value_t = Target::Haven)]
    target: Target,
    /// Chatter/advocate pairs.
    #[arg(long, default_value_t = 50)]
    pairs: usize,
    /// Measured seconds of load (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Seconds of load before measuring starts (not counted).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Messages per second per pair; 0 = closed loop (next message as soon as the echo is back).
    #[arg(long, default_value_t = 2.0)]
    rate: f64,
    /// Closed loop only: messages each pair keeps outstanding (the next leaves as each echo
    /// arrives). Against Haven each outstanding message can put three frames in the chatter's
    /// outbound queue (its own line in protocol 1, the `ack`, the echo): far past a third of
    /// `limits.outbound_queue_frames`, Haven drops the chatter as `slow_consumer`.
    #[arg(long, default_value_t = 1)]
    in_flight: usize,
    /// Haven's protocol version: 2 says `"v":2` in `hello` and opens `/ws/console?v=2`.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    protocol: u8,
    /// Stop each pair after this many messages (warm-up included), even before `--seconds`.
    #[arg(long)]
    messages: Option<u64>,
    /// Advocate accounts are `{prefix}1 ..= {prefix}N`.
    #[arg(long, default_value = "load")]
    users_prefix: String,
    /// Password of every advocate account.
    #[arg(
        long,
        env = "LOADGEN_PASSWORD",
        default_value = "load-password",
        hide_env_values = true
    )]
    password: String,
    /// Queue the chatters join.
    #[arg(long, default_value = "general")]
    queue: String,
    /// Bytes of text per message (at least enough for the sequence number).
    #[arg(long, default_value_t = 64)]
    text_bytes: usize,
    /// PID of the server (Haven or the relay), to read its RSS and CPU time from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Logins in flight at once during setup.
    #[arg(long, default_value_t = LOGIN_CONCURRENCY)]
    login_concurrency: usize,
    /// Seconds allowed for logging in, connecting and claiming every pair.
    #[arg(long, default_value_t = 120)]
    setup_timeout: u64,
    /// Print one JSON object instead of the human report.
    #[arg(long)]
    json: bool,
    /// An attack run from 127.0.0.2 (another client to Haven) during the measured load
    /// (issue 8): `silent` TCP connections, WebSocket `pings` floods, `hellos` that drop at once,
    /// `idle` chatter sockets that never say hello.
    #[arg(long, value_enum)]
    attack: Option<Attack>,
    /// Attacking connections kept busy at once (each reconnects when Haven closes it).
    #[arg(long, default_value_t = 200)]
    attack_connections: usize,
    /// Run only the `--attack`, for this many seconds, and print what it made: the attacker as
    /// its own process, so that its work does not starve the process that times the real chats.
    #[arg(long)]
    attack_only_secs: Option<f64>,
}

/// What the load generator talks to.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// Haven, over its real protocol.
    Haven,
    /// The bare relay of `examples/relay.rs`.
    Relay,
}

impl Args {
    fn load(&self) -> Load {
        Load {
            pairs: self.pairs,
            rate: self.rate,
            in_flight: self.in_flight,
            text_bytes: self.text_bytes,
            messages: self.messages,
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(secs) = args.attack_only_secs {
        let Some(kind) = args.attack else {
            bail!("--attack-only-secs needs --attack");
        };
        if !(secs > 0.0 && secs <= 3600.0) {
            bail!("--attack-only-secs must be in (0, 3600]");
        }
        let base = loopback_base(&args.url)?;
        let made = attack_for(kind, &base, args.attack_connections, secs).await;
        println!(
            "{}",
            json!({"attack": {
                "kind": format!("{kind:?}").to_lowercase(),
                "connections": args.attack_connections,
                "connections_made": made,
                "process": "separate",
            }})
        );
        return Ok(());
    }
    if args.pairs == 0 {
        bail!("--pairs must be at least 1");
    }
    if args.rate < 0.0 || !args.rate.is_finite() {
        bail!("--rate must be 0 (closed loop) or a positive number");
    }
    if !(1..=MAX_IN_FLIGHT).contains(&args.in_flight) {
        bail!("--in-flight must be in [1, {MAX_IN_FLIGHT}]");
    }
    if args.in_flight > 1 && args.rate != 0.0 {
        bail!("--in-flight applies to the closed loop (--rate 0) only");
    }
    if args.target == Target::Relay && args.attack.is_some() {
        bail!("--attack targets Haven's chatter socket; the relay has none");
    }
    let seconds_ok = args.seconds > 0.0 && args.seconds <= 600.0;
    if !seconds_ok || !(0.0..=60.0).contains(&args.warmup) {
        bail!("--seconds must be in (0, 600] and --warmup in [0, 60]");
    }
    // Two sockets per pair: take the file descriptors the system allows.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let base = loopback_base(&args.url)?;
    let report = run(&args, &base).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report::print_human(&report);
    }
    Ok(())
}

/// `http://127.0.0.1:8080/` -> `127.0.0.1:8080`, refusing anything that is not loopback.
fn loopback_base(url: &str) -> Result<String> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("--url {url:?} is not a URL"))?;
    if parsed.scheme() != "http" {
        bail!("--url must be http:// (the load generator only talks to a local Haven)");
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| anyhow!("--url has no host"))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare == "localhost"
        || bare
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false);
    if !loopback {
        bail!("--url host {host} is not loopback; the load generator only connects to 127.0.0.1/::1/localhost");
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    Ok(format!("{host}:{port}"))
}

async fn run(args: &Args, base: &str) -> Result<Value> {
    let pid = args.server_pid;
    if let Some(pid) = pid {
        procfs::rss_kib(pid).with_context(|| format!("cannot read /proc/{pid}/status"))?;
    }
    if args.target == Target::Haven {
        haven_pairs::check_health(base).await?;
    }
    let mut memory = report::Memory {
        before: pid.and_then(procfs::rss_kib),
        ..Default::default()
    };
    let sampler = pid.map(|pid| PeakSampler::start(pid, memory.before.unwrap_or(0)));

    // Every pair connected and ready (Haven: logged in, claimed, in a chat).
    let setup_started = Instant::now();
    let setup_deadline = setup_started + Duration::from_secs(args.setup_timeout);
    let (plan_tx, plan_rx) = watch::channel::<Option<Plan>>(None);
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = match args.target {
        Target::Haven => {
            haven_pairs::start(args, base, pid, plan_rx, stop_rx, setup_deadline).await?
        }
        Target::Relay => relay_pairs::start(args, base, plan_rx, stop_rx, setup_deadline).await?,
    };
    let setup = setup_started.elapsed();
    memory.logged_in = started.rss_logged_in;

    // Let the queue/advocate snapshot storm settle before measuring "connected" memory.
    sleep(Duration::from_millis(500)).await;
    memory.connected = pid.and_then(procfs::rss_kib);

    let attackers = args
        .attack
        .map(|kind| Attackers::start(kind, base, args.attack_connections));

    let start = Instant::now() + Duration::from_millis(100);
    let plan = Plan {
        start,
        measure_from: start + Duration::from_secs_f64(args.warmup),
        send_until: start + Duration::from_secs_f64(args.warmup + args.seconds),
    };
    plan_tx.send_replace(Some(plan));
    sleep_until(plan.measure_from).await;
    let cpu_from = pid.and_then(procfs::cpu_ticks);
    let cpu_window_start = Instant::now();
    sleep_until(plan.send_until).await;
    let cpu_to = pid.and_then(procfs::cpu_ticks);
    let cpu_window = cpu_window_start.elapsed();
    memory.under_attack = pid.and_then(procfs::rss_kib);
    let attack_made = attackers.map(Attackers::stop);

    let mut chatters = Vec::with_capacity(args.pairs);
    for handle in started.chatters {
        let finished = timeout(DRAIN + Duration::from_secs(10), handle)
            .await
            .map_err(|_| anyhow!("a chatter did not finish in time"))??;
        chatters.push(finished?);
    }
    stop_tx.send_replace(true);
    let mut echoers = Vec::with_capacity(args.pairs);
    for handle in started.echoers {
        let finished = timeout(Duration::from_secs(10), handle)
            .await
            .map_err(|_| anyhow!("an echoing side did not finish in time"))??;
        echoers.push(finished?);
    }
    // Give the server a moment to drop the closed connections.
    sleep(Duration::from_secs(1)).await;
    memory.after = pid.and_then(procfs::rss_kib);
    if let Some(sampler) = sampler {
        memory.peak_sampled = Some(sampler.stop().await);
    }
    memory.vm_hwm = pid.and_then(procfs::vm_hwm_kib);

    let cpu_secs = match (cpu_from, cpu_to) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / procfs::clock_ticks_per_sec()),
        _ => None,
    };
    let measured = report::Measured {
        chatters,
        echoers,
        setup_secs: setup.as_secs_f64(),
        logins_secs: started.logins_secs,
        echoers_ready_secs: started.echoers_ready_secs,
        cpu_secs,
        cpu_window_secs: cpu_window.as_secs_f64(),
        memory,
        attack_made,
    };
    Ok(report::to_json(args, &measured))
}
