//! Fills Haven's waiting line over real sockets and measures what a long line costs (issue 10):
//! server memory per waiting chatter, and the server's time from `hello` to `welcome` with the
//! line full.
//!
//! One advocate (`--username`, password in `QUEUEFILL_PASSWORD`) logs in and goes available with
//! `chat.auto_assign = false`, so that chatters wait. Then `--waiting` chatters connect, each from
//! its own loopback address (127.0.x.y, so that Haven's per-client limits see many clients, as
//! they would on the internet), say `hello` and keep their place as the page does (they answer
//! pings and send the page's keep-alive `ping`). With the line full and settled, `--probes`
//! more chatters, connected beforehand, say `hello` one after another: each time from the
//! frame's send to `welcome` is measured (loopback round trip included).
//!
//! ```text
//! cargo run --release --example queuefill -- --url http://127.0.0.1:PORT --waiting 10000 --server-pid PID
//! ```
//! `scripts/bench-queue.sh` starts a throw-away Haven configured for it and runs it.
//! The client needs one file descriptor per socket: 18,000 waiting fit under a 20,000 limit.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use futures_util::StreamExt;
use serde_json::json;
use tokio::net::TcpSocket;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::MaybeTlsStream;

#[path = "shared/frames.rs"]
mod frames;
#[path = "shared/percentile.rs"]
#[allow(dead_code)] // `micros` is the load generator's
mod percentile;
#[path = "shared/procfs.rs"]
#[allow(dead_code)] // only RSS here; the load generator uses the rest
mod procfs;
use frames::{send, session_cookie, Ws};
use percentile::percentile as pct;
use procfs::rss_kib;

const FRAME_WAIT: Duration = Duration::from_secs(30);
/// The page's keep-alive period (web/chat/chat.js).
const KEEPALIVE: Duration = Duration::from_secs(15);

#[derive(Parser, Debug)]
#[command(about = "Fill Haven's waiting line over real sockets; measure memory and hello time")]
struct Args {
    /// Base URL of the running Haven (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Chatters left waiting.
    #[arg(long, default_value_t = 1000)]
    waiting: usize,
    /// Timed `hello`s with the line full.
    #[arg(long, default_value_t = 200)]
    probes: usize,
    /// Connections being set up at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// The advocate who keeps the service open.
    #[arg(long, default_value = "load1")]
    username: String,
    #[arg(
        long,
        env = "QUEUEFILL_PASSWORD",
        default_value = "load-password",
        hide_env_values = true
    )]
    password: String,
    /// PID of the Haven server, to read its RSS from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Print one JSON object instead of the human report.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let base = args
        .url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("--url must be http://"))?
        .trim_end_matches('/')
        .to_string();
    let server: SocketAddr = base.parse().context("--url must be http://IP:PORT")?;
    if !server.ip().is_loopback() {
        bail!("queuefill only talks to loopback addresses");
    }
    if args.waiting + args.probes > 60_000 {
        bail!("at most 60,000 sockets (one address each in 127.0.0.0/8 is plenty, fds are not)");
    }

    // The advocate on duty, so that chatters queue instead of hearing `offline`.
    let cookie = login(&base, &args.username, &args.password).await?;
    let mut console = connect(server, &base, "/ws/console", Some(&cookie), 0).await?;
    send(&mut console, json!({"type": "status", "available": true})).await?;
    let console_task = tokio::spawn(async move {
        // Read everything (queue snapshots), as a console does.
        while let Some(Ok(_)) = console.next().await {}
    });

    let rss_before = args.server_pid.and_then(rss_kib);
    let started = Instant::now();
    let failed = Arc::new(AtomicUsize::new(0));
    let (keepers, fill_times) = fill(server, &base, &args, failed.clone()).await?;
    let fill_secs = started.elapsed().as_secs_f64();
    // Let the snapshots and position updates settle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_full = args.server_pid.and_then(rss_kib);

    // Timed hellos, one at a time, each on a socket opened just before (not timed). `queued`
    // follows `welcome` within the snapshot period; it is checked after the timing.
    let mut probes = Vec::with_capacity(args.probes);
    let mut hello_micros = Vec::with_capacity(args.probes);
    for i in 0..args.probes {
        let mut ws = connect(server, &base, "/ws/chat", None, args.waiting + 1 + i).await?;
        // Let the server finish setting up the socket: the upgrade is not what is measured.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let sent = Instant::now();
        send(&mut ws, json!({"type": "hello", "language": "en"})).await?;
        let welcome = frames::next_of_type(&mut ws, "welcome", FRAME_WAIT).await?;
        hello_micros.push(sent.elapsed().as_micros() as u64);
        if welcome["resumed"] != false {
            bail!("unexpected welcome: {welcome}");
        }
        probes.push(ws);
    }
    for ws in &mut probes {
        let queued = frames::next_frame(ws, FRAME_WAIT).await?;
        if queued["type"] != "queued" {
            bail!("a probe chatter was not queued: {queued} (is chat.max_waiting large enough?)");
        }
    }
    hello_micros.sort_unstable();
    let waiting_now = args.waiting + args.probes;

    let per_waiting_kib = match (rss_before, rss_full) {
        (Some(before), Some(full)) => {
            Some((full.saturating_sub(before)) as f64 / args.waiting as f64)
        }
        _ => None,
    };
    let report = json!({
        "waiting": args.waiting,
        "failed": failed.load(Ordering::Relaxed),
        "fill_seconds": fill_secs,
        "fill_hello_p50_us": pct(&fill_times, 50.0),
        "rss_before_kib": rss_before,
        "rss_full_kib": rss_full,
        "kib_per_waiting_chatter": per_waiting_kib,
        "probe_hellos": args.probes,
        "hello_to_welcome_us": {
            "p50": pct(&hello_micros, 50.0),
            "p90": pct(&hello_micros, 90.0),
            "p99": pct(&hello_micros, 99.0),
            "max": hello_micros.last(),
        },
        "waiting_at_end": waiting_now,
    });
    if args.json {
        println!("{report}");
    } else {
        println!("waiting chatters      {}", args.waiting);
        println!("failed to queue       {}", failed.load(Ordering::Relaxed));
        println!("fill time             {fill_secs:.1} s");
        if let Some(kib) = per_waiting_kib {
            println!(
                "server memory         {} → {} KiB: {kib:.2} KiB per waiting chatter",
                rss_before.unwrap_or(0),
                rss_full.unwrap_or(0)
            );
        }
        println!(
            "hello → welcome       p50 {} µs, p90 {} µs, p99 {} µs, max {} µs ({} hellos, {} waiting)",
            pct(&hello_micros, 50.0).unwrap_or(0),
            pct(&hello_micros, 90.0).unwrap_or(0),
            pct(&hello_micros, 99.0).unwrap_or(0),
            hello_micros.last().copied().unwrap_or(0),
            args.probes,
            args.waiting,
        );
    }
    drop(probes);
    drop(keepers);
    console_task.abort();
    Ok(())
}

/// Connects `args.waiting` chatters, each queued and kept alive by its own task. Returns the
/// tasks (dropping them closes the sockets) and each hello's time to `welcome` during the fill.
async fn fill(
    server: SocketAddr,
    base: &str,
    args: &Args,
    failed: Arc<AtomicUsize>,
) -> Result<(Vec<KeepAlive>, Vec<u64>)> {
    let gate = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
    let mut joins = Vec::with_capacity(args.waiting);
    for i in 0..args.waiting {
        let permit = gate.clone().acquire_owned().await?;
        let base = base.to_string();
        let failed = failed.clone();
        joins.push(tokio::spawn(async move {
            let joined = join_queue(server, &base, i + 1).await;
            drop(permit);
            match joined {
                Ok((ws, micros)) => Some((keep_alive(ws), micros)),
                Err(error) => {
                    if failed.fetch_add(1, Ordering::Relaxed) < 5 {
                        eprintln!("chatter {i}: {error:#}");
                    }
                    None
                }
            }
        }));
    }
    let mut keepers = Vec::with_capacity(args.waiting);
    let mut times = Vec::with_capacity(args.waiting);
    for join in joins {
        if let Some((keeper, micros)) = join.await? {
            keepers.push(keeper);
            times.push(micros);
        }
    }
    times.sort_unstable();
    Ok((keepers, times))
}

async fn join_queue(server: SocketAddr, base: &str, n: usize) -> Result<(Ws, u64)> {
    let mut ws = connect(server, base, "/ws/chat", None, n).await?;
    let sent = Instant::now();
    send(&mut ws, json!({"type": "hello", "language": "en"})).await?;
    frames::next_of_type(&mut ws, "welcome", FRAME_WAIT).await?;
    let micros = sent.elapsed().as_micros() as u64;
    let queued = frames::next_frame(&mut ws, FRAME_WAIT).await?;
    if queued["type"] != "queued" {
        bail!("not queued: {queued}");
    }
    // The page's own next frame: a `hello` followed by nothing loses its place.
    send(&mut ws, json!({"type": "ping"})).await?;
    Ok((ws, micros))
}

/// A waiting chatter's socket, read (pings answered, position updates taken) and pinged as the
/// page does, until dropped.
struct KeepAlive(tokio::task::JoinHandle<()>);

impl Drop for KeepAlive {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn keep_alive(mut ws: Ws) -> KeepAlive {
    KeepAlive(tokio::spawn(async move {
        let mut tick = tokio::time::interval(KEEPALIVE);
        tick.tick().await;
        loop {
            tokio::select! {
                frame = ws.next() => if !matches!(frame, Some(Ok(_))) { return },
                _ = tick.tick() => if send(&mut ws, json!({"type": "ping"})).await.is_err() { return },
            }
        }
    }))
}

/// A WebSocket from the `n`th loopback address (127.0.x.y; 0 is 127.0.0.1).
async fn connect(
    server: SocketAddr,
    base: &str,
    path: &str,
    cookie: Option<&str>,
    n: usize,
) -> Result<Ws> {
    let socket = TcpSocket::new_v4()?;
    let source = if n == 0 {
        Ipv4Addr::LOCALHOST
    } else {
        // 127.0.1.1 onwards: 250 addresses per /24 (60,000 sockets reach 127.0.241.x).
        Ipv4Addr::new(127, 0, (1 + n / 250) as u8, (1 + n % 250) as u8)
    };
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    let stream = socket.connect(server).await.context("tcp connect")?;
    stream.set_nodelay(true)?;
    let mut request = format!("ws://{base}{path}").into_client_request()?;
    request
        .headers_mut()
        .insert("origin", HeaderValue::from_str(&format!("http://{base}"))?);
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", HeaderValue::from_str(cookie)?);
    }
    let (ws, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
        .await
        .context("websocket upgrade")?;
    Ok(ws)
}

async fn login(base: &str, username: &str, password: &str) -> Result<String> {
    let response = reqwest::Client::new()
        .post(format!("http://{base}/api/staff/login"))
        .header("origin", format!("http://{base}"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .context("login request")?;
    let status = response.status();
    if !status.is_success() {
        bail!(
            "login answered {status}: {}",
            response.text().await.unwrap_or_default()
        );
    }
    session_cookie(&response)
}
