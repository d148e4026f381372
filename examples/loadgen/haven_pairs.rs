//! Pairs over Haven's real protocol (`docs/protocol.md`): advocates log in over HTTP, open the
//! console and go available; chatter `i` says `hello` with the intake `{"loadgen_pair": i}` and
//! advocate `i` claims that queue entry, then echoes every chatter message as its own `message`.
//!
//! `--protocol 2` says `"v":2` in `hello` and opens `/ws/console?v=2`. Nothing here relies on the
//! server sending a sender its own line back (version 1 does, version 2 only acks it): the
//! chatter counts only the advocate's lines, the advocate only the chatter's.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::exchange::{
    exchange, parse_id, parse_seq, wait_for_plan, wait_ready, EchoerStats, Heard, Load, PairStats,
    Plan, Started,
};
use crate::frames::{self, send, session_cookie};
use crate::Args;

/// How long one expected frame may take during setup.
const FRAME_WAIT: Duration = Duration::from_secs(20);

/// Logs every advocate in, makes them available, then has every chatter say hello and be
/// claimed. Returns once every pair is in a chat.
pub async fn start(
    args: &Args,
    base: &str,
    pid: Option<u32>,
    plan_rx: watch::Receiver<Option<Plan>>,
    stop_rx: watch::Receiver<bool>,
    setup_deadline: Instant,
) -> Result<Started> {
    let setup_started = Instant::now();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?;

    // 1. Log every advocate in over HTTP. Measured on its own: the server's password hashing
    //    costs memory that has nothing to do with chat connections.
    let login_slots =
        std::sync::Arc::new(tokio::sync::Semaphore::new(args.login_concurrency.max(1)));
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
    let logins_secs = setup_started.elapsed().as_secs_f64();
    let rss_logged_in = pid.and_then(crate::procfs::rss_kib);

    // 2. Consoles: connect, go available. Advocates first: a chatter saying hello with nobody
    //    available would get `offline`.
    let (ready_tx, mut ready_rx) = mpsc::channel::<Result<usize>>(args.pairs);
    let mut echoers = Vec::with_capacity(args.pairs);
    for (i, cookie) in (1..=args.pairs).zip(cookies) {
        echoers.push(tokio::spawn(advocate(
            i,
            cookie,
            base.to_string(),
            args.protocol,
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
    let echoers_ready_secs = setup_started.elapsed().as_secs_f64();

    // 3. Chatters: hello with their pair's tag, wait to be joined.
    let load = args.load();
    let mut chatters = Vec::with_capacity(args.pairs);
    for i in 1..=args.pairs {
        let hello = json!({
            "type": "hello", "v": args.protocol, "queue": args.queue,
            "intake": {"loadgen_pair": i},
        });
        chatters.push(tokio::spawn(chatter(
            i,
            hello,
            load.clone(),
            base.to_string(),
            ready_tx.clone(),
            plan_rx.clone(),
        )));
    }
    drop(ready_tx);
    wait_ready(&mut ready_rx, args.pairs, setup_deadline, "chatters joined").await?;
    Ok(Started {
        chatters,
        echoers,
        logins_secs: Some(logins_secs),
        rss_logged_in,
        echoers_ready_secs,
    })
}

/// `GET /healthz` answers.
pub async fn check_health(base: &str) -> Result<()> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?;
    match http.get(format!("http://{base}/healthz")).send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => bail!("GET /healthz answered {}", r.status()),
        Err(e) => bail!("Haven is not reachable at http://{base}: {e}"),
    }
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

/// One advocate: open the console with its session cookie, go available, claim chatter `i`,
/// echo every chatter message until stopped.
async fn advocate(
    i: usize,
    cookie: String,
    base: String,
    protocol: u8,
    ready: mpsc::Sender<Result<usize>>,
    mut stop: watch::Receiver<bool>,
) -> Result<EchoerStats> {
    let setup = async {
        let path = match protocol {
            1 => "/ws/console".to_string(),
            v => format!("/ws/console?v={v}"),
        };
        let mut request = format!("ws://{base}{path}").into_client_request()?;
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
    let mut ws = report_setup(setup.await, &ready, "advocate", i).await?;

    let mut stats = EchoerStats::default();
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
                    // Only the chatter's lines: version 1 also sends the advocate its own.
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

/// One chatter: `hello`, wait to be joined, then the measured exchange, then `leave`.
async fn chatter(
    i: usize,
    hello: Value,
    load: Load,
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
        send(&mut ws, hello).await?;
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
    let mut ws = report_setup(setup.await, &ready, "chatter", i).await?;
    drop(ready);

    let plan = wait_for_plan(&mut ws, &mut plan_rx, &format!("chatter {i}")).await?;
    let stats = exchange(&mut ws, i, &load, plan, hear).await?;
    let _ = timeout(
        Duration::from_secs(2),
        send(&mut ws, json!({"type": "leave"})),
    )
    .await;
    let _ = timeout(Duration::from_secs(2), ws.close(None)).await;
    Ok(stats)
}

/// A chatter's view of Haven's frames: the advocate's `message` is the echo (version 1 also
/// sends the chatter its own line, which is not), `ack` acknowledges one of ours.
fn hear(frame: &Value) -> Heard {
    match frame["type"].as_str().unwrap_or("") {
        "message" if frame["from"] == "advocate" => frame["text"]
            .as_str()
            .and_then(parse_seq)
            .map_or(Heard::Other, Heard::Echo),
        "ack" => frame["id"]
            .as_str()
            .and_then(parse_id)
            .map_or(Heard::Other, Heard::Ack),
        "error" => Heard::Error(frame["code"].as_str().unwrap_or("?").to_string()),
        "ended" => Heard::Ended,
        _ => Heard::Other,
    }
}

/// Tells the waiting setup how this side's set-up went (`who` `i` names it in an error) and
/// passes the socket on.
async fn report_setup<T>(
    setup: Result<T>,
    ready: &mpsc::Sender<Result<usize>>,
    who: &str,
    i: usize,
) -> Result<T> {
    match setup {
        Ok(ws) => {
            let _ = ready.send(Ok(i)).await;
            Ok(ws)
        }
        Err(e) => {
            let _ = ready.send(Err(anyhow!("{who} {i}: {e:#}"))).await;
            Err(e)
        }
    }
}
