//! Haven load generator: N chatter/advocate pairs against a running Haven on loopback.
//!
//! Each advocate logs in over HTTP (`POST /api/staff/login`), opens `/ws/console` with the
//! `haven_session` cookie, goes available and claims "its" chatter: chatter `i` sends `hello` with
//! the intake `{"loadgen_pair": i}` and advocate `i` claims the queue entry carrying that tag. With
//! `chat.auto_assign = true` on the server, advocates simply take what they are assigned. Then, for
//! a bounded time (and optionally a bounded count), every chatter sends messages and its advocate
//! echoes each one back; the chatter measures the round trip
//! chatter -> server -> advocate -> server -> chatter, and the time to the server's `ack`.
//!
//! Open loop (`--rate R`, default 2 per pair): messages are scheduled every 1/R s and latency is
//! measured from the *scheduled* send time, so a stalled server cannot hide its stall
//! (no coordinated omission). Closed loop (`--rate 0`): each chatter sends the next message as
//! soon as the previous echo came back; this measures the server's throughput ceiling.
//!
//! The server's memory comes from `/proc/<pid>/status` (`--server-pid`): RSS before the clients
//! connect, once every pair is connected and claimed, the peak seen while sampling every 50 ms,
//! `VmHWM`, and RSS after every client closed. Its CPU time comes from `/proc/<pid>/stat`.
//!
//! ```text
//! cargo run --release --example loadgen -- --pairs 50 --seconds 10 --rate 2 --server-pid PID
//! ```
//!
//! The accounts `{users_prefix}1 ..= {users_prefix}N` must exist with role `advocate` and the
//! password given by `--password` / `LOADGEN_PASSWORD` (see `scripts/bench.sh`). The server's
//! per-connection rate limit (`limits.rate_burst`, `limits.rate_per_sec`) must allow the chosen rate.
//! Only loopback addresses are accepted.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep, sleep_until, timeout, Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::MaybeTlsStream;

#[path = "shared/frames.rs"]
mod frames;
use frames::{send, session_cookie, Ws};

/// How long one expected frame may take during setup.
const FRAME_WAIT: Duration = Duration::from_secs(20);
/// How long chatters wait for the echoes still in flight after the last send.
const DRAIN: Duration = Duration::from_secs(3);
/// Default logins in flight at once (the server hashes passwords with Argon2).
const LOGIN_CONCURRENCY: usize = 4;
/// RSS sampling period.
const SAMPLE_EVERY: Duration = Duration::from_millis(50);

#[derive(Parser, Debug, Clone)]
#[command(about = "Load generator for Haven: N chatter/advocate pairs echoing messages")]
struct Args {
    /// Base URL of the running Haven (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
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
    /// PID of the Haven server, to read its RSS and CPU time from /proc.
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

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Attack {
    Silent,
    Pings,
    Hellos,
    Idle,
}

/// The attacker's source address: loopback, but not the pairs' 127.0.0.1.
const ATTACKER: &str = "127.0.0.2";

/// When the load phase happens, sent to every chatter once every pair is ready.
#[derive(Clone, Copy, Debug)]
struct Plan {
    start: Instant,
    measure_from: Instant,
    send_until: Instant,
}

#[derive(Default, Debug)]
struct PairStats {
    /// Round trips (microseconds) of messages scheduled inside the measured window.
    rtt_us: Vec<u32>,
    /// Chatter message -> `ack` (microseconds), measured window only.
    ack_us: Vec<u32>,
    sent: u64,
    echoed: u64,
    measured_sent: u64,
    lost: u64,
    errors: BTreeMap<String, u64>,
}

#[derive(Default, Debug)]
struct AdvocateStats {
    echoed: u64,
    errors: BTreeMap<String, u64>,
    snapshot_frames: u64,
    frames_in: u64,
    bytes_in: u64,
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
    let seconds_ok = args.seconds > 0.0 && args.seconds <= 600.0;
    if !seconds_ok || !(0.0..=60.0).contains(&args.warmup) {
        bail!("--seconds must be in (0, 600] and --warmup in [0, 60]");
    }
    let base = loopback_base(&args.url)?;
    let report = run(&args, &base).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_human(&report);
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
        read_rss_kib(pid).with_context(|| format!("cannot read /proc/{pid}/status"))?;
    }
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?;
    let health = http.get(format!("http://{base}/healthz")).send().await;
    match health {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => bail!("GET /healthz answered {}", r.status()),
        Err(e) => bail!("Haven is not reachable at http://{base}: {e}"),
    }

    let rss_before = pid.and_then(read_rss_kib);
    let peak = Arc::new(AtomicU64::new(rss_before.unwrap_or(0)));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = pid.map(|pid| {
        let peak = peak.clone();
        let sampling = sampling.clone();
        tokio::spawn(async move {
            // Bounded by `sampling` and by a hard cap of 30 minutes.
            let cap = Instant::now() + Duration::from_secs(1800);
            while sampling.load(Ordering::Relaxed) && Instant::now() < cap {
                if let Some(kib) = read_rss_kib(pid) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                sleep(SAMPLE_EVERY).await;
            }
        })
    });

    let setup_started = Instant::now();
    let setup_deadline = setup_started + Duration::from_secs(args.setup_timeout);

    // 1. Log every advocate in over HTTP. Measured on its own: the server's password hashing
    //    costs memory that has nothing to do with chat connections.
    let login_slots = Arc::new(tokio::sync::Semaphore::new(args.login_concurrency.max(1)));
    let mut logins = Vec::with_capacity(args.pairs);
    for i in 1..=args.pairs {
        let (http, slots, base) = (http.clone(), login_slots.clone(), base.to_string());
        let username = format!("{}{}", args.users_prefix, i);
        let password = args.password.clone();
        logins.push(tokio::spawn(async move {
            let _slot = slots.acquire_owned().await?;
            login(&http, &base, &username, &password).await
        }));
    }
    let mut cookies = Vec::with_capacity(args.pairs);
    for handle in logins {
        let left = setup_deadline.saturating_duration_since(Instant::now());
        let cookie = timeout(left, handle)
            .await
            .map_err(|_| anyhow!("setup timed out while logging in (raise --setup-timeout?)"))??;
        cookies.push(cookie?);
    }
    let logins_done = setup_started.elapsed();
    let rss_logged_in = pid.and_then(read_rss_kib);

    // 2. Consoles: connect, go available. Advocates first: a chatter saying hello with nobody
    //    available would get `offline`.
    let (plan_tx, plan_rx) = watch::channel::<Option<Plan>>(None);
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, mut ready_rx) = mpsc::channel::<Result<usize>>(args.pairs);
    let mut advocates = Vec::with_capacity(args.pairs);
    for (i, cookie) in (1..=args.pairs).zip(cookies) {
        advocates.push(tokio::spawn(advocate(
            i,
            cookie,
            base.to_string(),
            ready_tx.clone(),
            stop_rx.clone(),
        )));
    }
    wait_ready(
        &mut ready_rx,
        args.pairs,
        setup_deadline,
        "advocates available",
    )
    .await?;
    let advocates_ready = setup_started.elapsed();

    // 3. Chatters: hello with their pair's tag, wait to be joined.
    let mut chatters = Vec::with_capacity(args.pairs);
    for i in 1..=args.pairs {
        chatters.push(tokio::spawn(chatter(
            i,
            args.clone(),
            base.to_string(),
            ready_tx.clone(),
            plan_rx.clone(),
        )));
    }
    drop(ready_tx);
    wait_ready(&mut ready_rx, args.pairs, setup_deadline, "chatters joined").await?;
    let setup = setup_started.elapsed();

    // Let the queue/advocate snapshot storm settle before measuring "connected" memory.
    sleep(Duration::from_millis(500)).await;
    let rss_connected = pid.and_then(read_rss_kib);

    let attack_stop = Arc::new(AtomicBool::new(false));
    let attack_made = Arc::new(AtomicU64::new(0));
    let attackers: Vec<_> = match args.attack {
        Some(kind) => (0..args.attack_connections)
            .map(|_| {
                tokio::spawn(attacker(
                    kind,
                    base.to_string(),
                    attack_stop.clone(),
                    attack_made.clone(),
                ))
            })
            .collect(),
        None => Vec::new(),
    };

    let start = Instant::now() + Duration::from_millis(100);
    let plan = Plan {
        start,
        measure_from: start + Duration::from_secs_f64(args.warmup),
        send_until: start + Duration::from_secs_f64(args.warmup + args.seconds),
    };
    plan_tx.send_replace(Some(plan));
    sleep_until(plan.measure_from).await;
    let cpu_from = pid.and_then(read_cpu_ticks);
    let cpu_window_start = Instant::now();
    sleep_until(plan.send_until).await;
    let cpu_to = pid.and_then(read_cpu_ticks);
    let cpu_window = cpu_window_start.elapsed();
    let rss_under_attack = pid.and_then(read_rss_kib);
    attack_stop.store(true, Ordering::Relaxed);
    for handle in attackers {
        handle.abort();
    }

    let mut stats = Vec::with_capacity(args.pairs);
    for handle in chatters {
        let finished = timeout(DRAIN + Duration::from_secs(10), handle)
            .await
            .map_err(|_| anyhow!("a chatter did not finish in time"))??;
        stats.push(finished?);
    }
    stop_tx.send_replace(true);
    let mut advocate_stats = Vec::with_capacity(args.pairs);
    for handle in advocates {
        let finished = timeout(Duration::from_secs(10), handle)
            .await
            .map_err(|_| anyhow!("an advocate did not finish in time"))??;
        advocate_stats.push(finished?);
    }
    // Give the server a moment to drop the closed connections.
    sleep(Duration::from_secs(1)).await;
    let rss_after = pid.and_then(read_rss_kib);
    sampling.store(false, Ordering::Relaxed);
    if let Some(s) = sampler {
        let _ = s.await;
    }
    let vm_hwm = pid.and_then(|p| read_status_kib(p, "VmHWM:"));

    let mut rtt: Vec<u32> = stats
        .iter()
        .flat_map(|s| s.rtt_us.iter().copied())
        .collect();
    let mut ack: Vec<u32> = stats
        .iter()
        .flat_map(|s| s.ack_us.iter().copied())
        .collect();
    rtt.sort_unstable();
    ack.sort_unstable();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for s in &stats {
        for (code, n) in &s.errors {
            *errors.entry(format!("chatter:{code}")).or_default() += n;
        }
    }
    for s in &advocate_stats {
        for (code, n) in &s.errors {
            *errors.entry(format!("advocate:{code}")).or_default() += n;
        }
    }
    let sent: u64 = stats.iter().map(|s| s.sent).sum();
    let echoed: u64 = stats.iter().map(|s| s.echoed).sum();
    let measured_sent: u64 = stats.iter().map(|s| s.measured_sent).sum();
    let lost: u64 = stats.iter().map(|s| s.lost).sum();
    let advocate_frames: u64 = advocate_stats.iter().map(|s| s.frames_in).sum();
    let advocate_bytes: u64 = advocate_stats.iter().map(|s| s.bytes_in).sum();
    let queue_frames: u64 = advocate_stats.iter().map(|s| s.snapshot_frames).sum();
    let measured_secs = args.seconds;
    let round_trips_per_sec = rtt.len() as f64 / measured_secs;
    let server_cpu_pct = match (cpu_from, cpu_to) {
        (Some(a), Some(b)) => {
            let hz = clock_ticks_per_sec();
            Some(100.0 * (b.saturating_sub(a)) as f64 / hz / cpu_window.as_secs_f64())
        }
        _ => None,
    };
    let pct = |v: &[u32], p: f64| percentile(v, p).map(|us| us as f64 / 1000.0);
    let per_pair_kib = match (rss_logged_in, rss_connected) {
        (Some(a), Some(b)) => Some((b as f64 - a as f64) / args.pairs as f64),
        _ => None,
    };

    Ok(json!({
        "pairs": args.pairs,
        "rate_per_pair": args.rate,
        "mode": if args.rate == 0.0 { "closed_loop" } else { "open_loop" },
        "seconds": args.seconds,
        "warmup_seconds": args.warmup,
        "text_bytes": args.text_bytes,
        "setup_secs": setup.as_secs_f64(),
        "logins_secs": logins_done.as_secs_f64(),
        "advocates_ready_secs": advocates_ready.as_secs_f64(),
        "sent": sent,
        "echoed": echoed,
        "measured_sent": measured_sent,
        "round_trips": rtt.len(),
        "round_trips_per_sec": round_trips_per_sec,
        // Every round trip is two transcript messages (the chatter's and the advocate's echo).
        "chat_messages_per_sec": 2.0 * round_trips_per_sec,
        "lost": lost,
        "errors": errors,
        "rtt_ms": {
            "p50": pct(&rtt, 50.0), "p90": pct(&rtt, 90.0), "p99": pct(&rtt, 99.0),
            "max": rtt.last().map(|us| *us as f64 / 1000.0),
        },
        "ack_ms": {
            "p50": pct(&ack, 50.0), "p90": pct(&ack, 90.0), "p99": pct(&ack, 99.0),
            "max": ack.last().map(|us| *us as f64 / 1000.0),
        },
        "advocate_frames_in": advocate_frames,
        "advocate_bytes_in": advocate_bytes,
        "advocate_snapshot_frames_in": queue_frames,
        "attack": args.attack.map(|kind| json!({
            "kind": format!("{kind:?}").to_lowercase(),
            "connections": args.attack_connections,
            "connections_made": attack_made.load(Ordering::Relaxed),
            "rss_at_end_of_load_kib": rss_under_attack,
        })),
        "server": {
            "pid": pid,
            "rss_before_kib": rss_before,
            "rss_logged_in_kib": rss_logged_in,
            "rss_connected_kib": rss_connected,
            "rss_per_pair_kib": per_pair_kib,
            "rss_peak_sampled_kib": pid.map(|_| peak.load(Ordering::Relaxed)),
            "vm_hwm_kib": vm_hwm,
            "rss_after_kib": rss_after,
            "cpu_pct_of_one_core": server_cpu_pct,
        },
    }))
}

/// `connections` attackers of `kind` for `secs`; how many connections they made.
async fn attack_for(kind: Attack, base: &str, connections: usize, secs: f64) -> u64 {
    let stop = Arc::new(AtomicBool::new(false));
    let made = Arc::new(AtomicU64::new(0));
    let attackers: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(attacker(kind, base.to_string(), stop.clone(), made.clone())))
        .collect();
    sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for handle in attackers {
        handle.abort();
    }
    made.load(Ordering::Relaxed)
}

/// One attacking connection, reopened whenever Haven closes it, until `stop`.
async fn attacker(kind: Attack, base: String, stop: Arc<AtomicBool>, made: Arc<AtomicU64>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(tcp) = attacker_tcp(&base).await else {
            sleep(Duration::from_millis(50)).await;
            continue;
        };
        made.fetch_add(1, Ordering::Relaxed);
        if kind == Attack::Silent {
            // Says nothing; Haven's header-read timeout closes it.
            let mut tcp = tcp;
            let mut buf = [0u8; 64];
            let _ = tokio::io::AsyncReadExt::read(&mut tcp, &mut buf).await;
            continue;
        }
        let Ok((mut ws, _)) = tokio_tungstenite::client_async(
            format!("ws://{base}/ws/chat"),
            MaybeTlsStream::Plain(tcp),
        )
        .await
        else {
            sleep(Duration::from_millis(50)).await;
            continue;
        };
        match kind {
            Attack::Pings => while ws.send(Message::Ping(vec![0; 8].into())).await.is_ok() {},
            Attack::Hellos => {
                let _ = ws.send(Message::text(r#"{"type":"hello"}"#)).await;
                let _ = timeout(Duration::from_secs(2), ws.next()).await;
            }
            Attack::Idle => while let Some(Ok(_)) = ws.next().await {},
            Attack::Silent => {}
        }
    }
}

async fn attacker_tcp(base: &str) -> std::io::Result<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(format!("{ATTACKER}:0").parse().expect("an address"))?;
    let addr = tokio::net::lookup_host(base)
        .await?
        .find(|a| a.is_ipv4())
        .ok_or_else(|| std::io::Error::other("no IPv4 address"))?;
    socket.connect(addr).await
}

async fn wait_ready(
    rx: &mut mpsc::Receiver<Result<usize>>,
    want: usize,
    deadline: Instant,
    what: &str,
) -> Result<()> {
    let mut got = 0;
    while got < want {
        match timeout(
            deadline.saturating_duration_since(Instant::now()),
            rx.recv(),
        )
        .await
        {
            Ok(Some(Ok(_))) => got += 1,
            Ok(Some(Err(e))) => {
                return Err(e.context(format!("setup failed ({got}/{want} {what})")))
            }
            Ok(None) => bail!("setup tasks ended early ({got}/{want} {what})"),
            Err(_) => bail!("setup timed out: {got}/{want} {what} (raise --setup-timeout?)"),
        }
    }
    Ok(())
}

/// One advocate: open the console with its session cookie, go available, claim chatter `i`,
/// echo every chatter message until stopped.
async fn advocate(
    i: usize,
    cookie: String,
    base: String,
    ready: mpsc::Sender<Result<usize>>,
    mut stop: watch::Receiver<bool>,
) -> Result<AdvocateStats> {
    let setup = async {
        let mut request = format!("ws://{base}/ws/console").into_client_request()?;
        request
            .headers_mut()
            .insert("cookie", HeaderValue::from_str(&cookie)?);
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
            .await
            .with_context(|| format!("console upgrade for advocate {i}"))?;
        frames::next_of_type(&mut ws, "welcome", FRAME_WAIT).await?;
        send(&mut ws, json!({"type": "status", "available": true})).await?;
        loop {
            let frame = frames::next_frame(&mut ws, FRAME_WAIT).await?;
            if frame["type"] == "status" && frame["available"] == true {
                break;
            }
            if frame["type"] == "error" {
                bail!("advocate {i}: status refused: {frame}");
            }
        }
        anyhow::Ok(ws)
    };
    let mut ws = match setup.await {
        Ok(ws) => ws,
        Err(e) => {
            let _ = ready.send(Err(anyhow!("advocate {i}: {e:#}"))).await;
            return Err(e);
        }
    };
    let _ = ready.send(Ok(i)).await;

    let mut stats = AdvocateStats::default();
    let mut chats: Vec<String> = Vec::new();
    let mut pending_claim: Option<String> = None;
    let mut next_id: u64 = 0;
    loop {
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
            message = ws.next() => {
                let Some(message) = message else { break };
                let text = match message {
                    Ok(Message::Text(t)) => t,
                    Ok(Message::Close(_)) | Err(_) => break,
                    Ok(_) => continue,
                };
                stats.frames_in += 1;
                stats.bytes_in += text.len() as u64;
                let frame: Value = match serde_json::from_str(text.as_str()) {
                    Ok(v) => v,
                    Err(_) => continue,
                };
                match frame["type"].as_str().unwrap_or("") {
                    "message" if frame["from"] == "chatter" => {
                        let chat_id = frame["chat_id"].clone();
                        next_id += 1;
                        let echo = json!({
                            "type": "message",
                            "chat_id": chat_id,
                            "id": format!("a{next_id}"),
                            "text": frame["text"],
                        });
                        if send(&mut ws, echo).await.is_err() {
                            break;
                        }
                        stats.echoed += 1;
                    }
                    "queue" => {
                        stats.snapshot_frames += 1;
                        if chats.is_empty() && pending_claim.is_none() {
                            if let Some(chat_id) = pick_entry(&frame, i) {
                                send(&mut ws, json!({"type": "claim", "chat_id": chat_id})).await?;
                                pending_claim = Some(chat_id);
                            }
                        }
                    }
                    "advocates" | "overview" => stats.snapshot_frames += 1,
                    "assigned" => {
                        if let Some(id) = frame["chat_id"].as_str() {
                            chats.push(id.to_string());
                        }
                        pending_claim = None;
                    }
                    "error" => {
                        let code = frame["code"].as_str().unwrap_or("?").to_string();
                        if code == "already_claimed" || code == "chat_not_found" {
                            // Someone else got it (only without tags): try again on the next snapshot.
                            pending_claim = None;
                        }
                        *stats.errors.entry(code).or_default() += 1;
                    }
                    _ => {}
                }
            }
        }
    }
    let _ = timeout(Duration::from_secs(2), ws.close(None)).await;
    Ok(stats)
}

/// The queue entry advocate `i` should claim: the one tagged `loadgen_pair = i`; when the server
/// does not echo intake, fall back to the `i`-th entry (claims may then collide and retry).
fn pick_entry(frame: &Value, i: usize) -> Option<String> {
    let entries = frame["entries"].as_array()?;
    if entries.is_empty() {
        return None;
    }
    let tagged = entries
        .iter()
        .find(|e| e["intake"]["loadgen_pair"].as_u64() == Some(i as u64));
    if let Some(e) = tagged {
        return e["chat_id"].as_str().map(str::to_string);
    }
    let any_tagged = entries.iter().any(|e| e["intake"]["loadgen_pair"].is_u64());
    if any_tagged {
        return None; // ours has not arrived yet
    }
    entries[i % entries.len()]["chat_id"]
        .as_str()
        .map(str::to_string)
}

/// One chatter: hello, wait to be joined, then send on schedule and time the echoes.
async fn chatter(
    i: usize,
    args: Args,
    base: String,
    ready: mpsc::Sender<Result<usize>>,
    mut plan_rx: watch::Receiver<Option<Plan>>,
) -> Result<PairStats> {
    let setup = async {
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(
            format!("ws://{base}/ws/chat"),
            None,
            true,
        )
        .await
        .context("chat upgrade")?;
        send(
            &mut ws,
            json!({"type": "hello", "v": 1, "queue": args.queue, "intake": {"loadgen_pair": i}}),
        )
        .await?;
        loop {
            let frame = frames::next_frame(&mut ws, FRAME_WAIT).await?;
            match frame["type"].as_str().unwrap_or("") {
                "joined" => break,
                "offline" => bail!("chatter {i} got offline: {}", frame["reason"]),
                "error" => bail!("chatter {i} got {frame}"),
                _ => {}
            }
        }
        anyhow::Ok(ws)
    };
    let mut ws = match setup.await {
        Ok(ws) => ws,
        Err(e) => {
            let _ = ready.send(Err(anyhow!("chatter {i}: {e:#}"))).await;
            return Err(e);
        }
    };
    let _ = ready.send(Ok(i)).await;
    drop(ready);

    let plan = loop {
        if let Some(plan) = *plan_rx.borrow_and_update() {
            break plan;
        }
        // Keep reading so pings are answered while we wait; bounded by the setup of the others.
        tokio::select! {
            changed = plan_rx.changed() => {
                if changed.is_err() {
                    bail!("load generator stopped before the load phase");
                }
            }
            message = timeout(Duration::from_secs(600), ws.next()) => {
                match message {
                    Ok(Some(Ok(_))) => {}
                    _ => bail!("chatter {i}: socket closed while waiting for the start"),
                }
            }
        }
    };

    let mut stats = PairStats::default();
    let closed_loop = args.rate == 0.0;
    let period = if closed_loop {
        Duration::from_secs(3600)
    } else {
        Duration::from_secs_f64(1.0 / args.rate)
    };
    // Spread the pairs' schedules over one period so they do not all fire on the same tick.
    let offset = if closed_loop {
        Duration::ZERO
    } else {
        period.mul_f64((i % args.pairs.max(1)) as f64 / args.pairs as f64)
    };
    let mut ticker = tokio::time::interval_at(plan.start + offset, period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let padding = "x".repeat(args.text_bytes);
    let limit = args.messages.unwrap_or(u64::MAX);
    // Sequence number -> scheduled send time.
    let mut in_flight: HashMap<u64, Instant> = HashMap::new();
    let mut next_seq: u64 = 0;
    let mut sending = true;
    let drain_until = plan.send_until + DRAIN;

    if closed_loop {
        sleep_until(plan.start).await;
        send_message(
            &mut ws,
            &mut next_seq,
            &mut in_flight,
            Instant::now(),
            &padding,
            &args,
        )
        .await?;
        stats.sent += 1;
    }
    loop {
        if !sending && in_flight.is_empty() {
            break;
        }
        tokio::select! {
            scheduled = ticker.tick(), if sending && !closed_loop => {
                if scheduled >= plan.send_until || stats.sent >= limit {
                    sending = false;
                    continue;
                }
                if send_message(&mut ws, &mut next_seq, &mut in_flight, scheduled, &padding, &args).await.is_err() {
                    break;
                }
                stats.sent += 1;
                if scheduled >= plan.measure_from {
                    stats.measured_sent += 1;
                }
            }
            _ = sleep_until(drain_until) => break,
            message = ws.next() => {
                let Some(Ok(message)) = message else { break };
                let Message::Text(text) = message else { continue };
                let now = Instant::now();
                let frame: Value = match serde_json::from_str(text.as_str()) {
                    Ok(v) => v,
                    Err(_) => continue,
                };
                match frame["type"].as_str().unwrap_or("") {
                    "message" if frame["from"] == "advocate" => {
                        let Some(seq) = parse_seq(frame["text"].as_str().unwrap_or("")) else { continue };
                        let Some(sent_at) = in_flight.remove(&seq) else { continue };
                        stats.echoed += 1;
                        if sent_at >= plan.measure_from && sent_at < plan.send_until {
                            stats.rtt_us.push(micros(now - sent_at));
                        }
                        if closed_loop && sending {
                            if now >= plan.send_until || stats.sent >= limit {
                                sending = false;
                            } else {
                                send_message(&mut ws, &mut next_seq, &mut in_flight, now, &padding, &args).await?;
                                stats.sent += 1;
                                if now >= plan.measure_from {
                                    stats.measured_sent += 1;
                                }
                            }
                        }
                    }
                    "ack" => {
                        let seq = frame["id"].as_str().and_then(|id| id.strip_prefix('c')).and_then(|s| s.parse::<u64>().ok());
                        if let Some(sent_at) = seq.and_then(|s| in_flight.get(&s)) {
                            if *sent_at >= plan.measure_from && *sent_at < plan.send_until {
                                stats.ack_us.push(micros(now - *sent_at));
                            }
                        }
                    }
                    "error" => {
                        let code = frame["code"].as_str().unwrap_or("?").to_string();
                        *stats.errors.entry(code).or_default() += 1;
                    }
                    "ended" => break,
                    _ => {}
                }
            }
        }
    }
    stats.lost = in_flight.len() as u64;
    let _ = timeout(
        Duration::from_secs(2),
        send(&mut ws, json!({"type": "leave"})),
    )
    .await;
    let _ = timeout(Duration::from_secs(2), ws.close(None)).await;
    Ok(stats)
}

async fn send_message(
    ws: &mut Ws,
    next_seq: &mut u64,
    in_flight: &mut HashMap<u64, Instant>,
    at: Instant,
    padding: &str,
    args: &Args,
) -> Result<()> {
    *next_seq += 1;
    let seq = *next_seq;
    let mut text = format!("{seq} ");
    let fill = args.text_bytes.saturating_sub(text.len());
    text.push_str(&padding[..fill.min(padding.len())]);
    in_flight.insert(seq, at);
    send(
        ws,
        json!({"type": "message", "id": format!("c{seq}"), "text": text}),
    )
    .await
}

fn parse_seq(text: &str) -> Option<u64> {
    text.split(' ').next()?.parse().ok()
}

fn micros(d: Duration) -> u32 {
    d.as_micros().min(u32::MAX as u128) as u32
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u32], p: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

async fn login(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> Result<String> {
    let response = http
        .post(format!("http://{base}/api/staff/login"))
        // As a browser on Haven's own page would: state-changing requests need the Origin.
        .header("origin", format!("http://{base}"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .with_context(|| format!("login request for {username}"))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        bail!("login of {username} answered {status}: {body} (did scripts/bench.sh create the accounts?)");
    }
    session_cookie(&response)
}

fn read_status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn read_rss_kib(pid: u32) -> Option<u64> {
    read_status_kib(pid, "VmRSS:")
}

/// utime + stime of the process, in clock ticks.
fn read_cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the state (field 3).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn clock_ticks_per_sec() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn print_human(r: &Value) {
    let f = |v: &Value| {
        v.as_f64()
            .map(|x| format!("{x:.2}"))
            .unwrap_or_else(|| "-".into())
    };
    let k = |v: &Value| {
        v.as_u64()
            .map(|x| format!("{x} KiB"))
            .unwrap_or_else(|| "-".into())
    };
    let mode = if r["mode"] == "closed_loop" {
        "closed loop".to_string()
    } else {
        format!("{}/s per pair", r["rate_per_pair"])
    };
    println!(
        "Haven loadgen: {} pairs, {mode}, {}s measured after {}s warm-up, {}-byte messages",
        r["pairs"], r["seconds"], r["warmup_seconds"], r["text_bytes"]
    );
    println!(
        "setup:        {} s in all: logins {} s, every advocate available at {} s",
        f(&r["setup_secs"]),
        f(&r["logins_secs"]),
        f(&r["advocates_ready_secs"])
    );
    println!(
        "throughput:   {} round trips/s = {} chat messages/s ({} round trips measured, {} sent in all, {} lost)",
        f(&r["round_trips_per_sec"]),
        f(&r["chat_messages_per_sec"]),
        r["round_trips"],
        r["sent"],
        r["lost"]
    );
    let l = &r["rtt_ms"];
    println!(
        "round trip:   p50 {} ms  p90 {} ms  p99 {} ms  max {} ms",
        f(&l["p50"]),
        f(&l["p90"]),
        f(&l["p99"]),
        f(&l["max"])
    );
    let a = &r["ack_ms"];
    println!(
        "ack:          p50 {} ms  p90 {} ms  p99 {} ms  max {} ms",
        f(&a["p50"]),
        f(&a["p90"]),
        f(&a["p99"]),
        f(&a["max"])
    );
    let errors = r["errors"].as_object().map(|m| m.len()).unwrap_or(0);
    println!(
        "errors:       {}",
        if errors == 0 {
            "none".to_string()
        } else {
            r["errors"].to_string()
        }
    );
    println!(
        "advocates:    {} frames / {} bytes received in all, {} of them queue/advocates snapshots",
        r["advocate_frames_in"], r["advocate_bytes_in"], r["advocate_snapshot_frames_in"]
    );
    let s = &r["server"];
    if s["pid"].is_null() {
        println!("server:       (no --server-pid: memory and CPU not measured)");
    } else {
        println!(
            "server RSS:   before {}, after logins {}, connected {} ({} KiB per pair), peak {} (VmHWM {}), after {}",
            k(&s["rss_before_kib"]),
            k(&s["rss_logged_in_kib"]),
            k(&s["rss_connected_kib"]),
            f(&s["rss_per_pair_kib"]),
            k(&s["rss_peak_sampled_kib"]),
            k(&s["vm_hwm_kib"]),
            k(&s["rss_after_kib"])
        );
        println!(
            "server CPU:   {} % of one core during the measured window",
            f(&s["cpu_pct_of_one_core"])
        );
    }
}
