//! Pairs over the bare relay (`examples/relay.rs`), the yardstick for Haven's throughput: pair
//! `i` is two sockets on `ws://HOST/pair/<i>`, no login and no `hello`. The chatter sends exactly
//! the text it would send Haven (`{"type":"message","id":"c<seq>","text":…}`) and times the round
//! trip; the echoer sends every frame straight back, unchanged.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::Message;

use crate::exchange::{
    exchange, parse_seq, wait_for_plan, wait_ready, EchoerStats, Heard, Load, PairStats, Plan,
    Started,
};
use crate::frames::Ws;
use crate::Args;

/// Handshakes in flight at once during setup: thousands at once would overflow the relay's
/// accept backlog and cost seconds of SYN retries.
const CONNECTING_AT_ONCE: usize = 64;
/// How long one handshake may take.
const CONNECT_WAIT: Duration = Duration::from_secs(20);

/// Connects every pair's chatter and echoer; returns once all are connected.
pub async fn start(
    args: &Args,
    base: &str,
    plan_rx: watch::Receiver<Option<Plan>>,
    stop_rx: watch::Receiver<bool>,
    setup_deadline: Instant,
) -> Result<Started> {
    let setup_started = Instant::now();
    let slots = Arc::new(Semaphore::new(CONNECTING_AT_ONCE));
    let (ready_tx, mut ready_rx) = mpsc::channel::<Result<usize>>(2 * args.pairs);
    let load = args.load();
    let mut chatters = Vec::with_capacity(args.pairs);
    let mut echoers = Vec::with_capacity(args.pairs);
    for i in 1..=args.pairs {
        let url = format!("ws://{base}/pair/{i}");
        echoers.push(tokio::spawn(echoer(
            i,
            url.clone(),
            slots.clone(),
            ready_tx.clone(),
            stop_rx.clone(),
        )));
        chatters.push(tokio::spawn(chatter(
            i,
            url,
            load.clone(),
            slots.clone(),
            ready_tx.clone(),
            plan_rx.clone(),
        )));
    }
    drop(ready_tx);
    wait_ready(
        &mut ready_rx,
        2 * args.pairs,
        setup_deadline,
        "relay sockets connected",
    )
    .await?;
    Ok(Started {
        chatters,
        echoers,
        logins_secs: None,
        rss_logged_in: None,
        echoers_ready_secs: setup_started.elapsed().as_secs_f64(),
    })
}

/// Opens one socket of a pair, at most [`CONNECTING_AT_ONCE`] at a time, and says so on `ready`.
async fn connect(
    who: &str,
    url: &str,
    slots: &Semaphore,
    ready: &mpsc::Sender<Result<usize>>,
    i: usize,
) -> Result<Ws> {
    let connected = async {
        let _slot = slots.acquire().await?;
        let (ws, _) = timeout(
            CONNECT_WAIT,
            tokio_tungstenite::connect_async_with_config(url, None, true),
        )
        .await
        .map_err(|_| anyhow!("no handshake within {CONNECT_WAIT:?}"))?
        .with_context(|| format!("relay upgrade at {url}"))?;
        anyhow::Ok(ws)
    }
    .await;
    match connected {
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

async fn chatter(
    i: usize,
    url: String,
    load: Load,
    slots: Arc<Semaphore>,
    ready: mpsc::Sender<Result<usize>>,
    mut plan_rx: watch::Receiver<Option<Plan>>,
) -> Result<PairStats> {
    let mut ws = connect("chatter", &url, &slots, &ready, i).await?;
    drop(ready);
    let plan = wait_for_plan(&mut ws, &mut plan_rx, &format!("chatter {i}")).await?;
    let stats = exchange(&mut ws, i, &load, plan, hear).await?;
    let _ = timeout(Duration::from_secs(2), ws.close(None)).await;
    Ok(stats)
}

/// What comes back is the chatter's own frame: its text carries the sequence number.
fn hear(frame: &Value) -> Heard {
    match frame["type"].as_str() {
        Some("message") => frame["text"]
            .as_str()
            .and_then(parse_seq)
            .map_or(Heard::Other, Heard::Echo),
        _ => Heard::Other,
    }
}

/// Sends every text frame straight back until stopped or the relay closes the socket.
async fn echoer(
    i: usize,
    url: String,
    slots: Arc<Semaphore>,
    ready: mpsc::Sender<Result<usize>>,
    mut stop: watch::Receiver<bool>,
) -> Result<EchoerStats> {
    let mut ws = connect("echoer", &url, &slots, &ready, i).await?;
    drop(ready);
    let mut stats = EchoerStats::default();
    loop {
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    stats.frames_in += 1;
                    stats.bytes_in += text.len() as u64;
                    if ws.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                    stats.echoed += 1;
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = timeout(Duration::from_secs(2), ws.close(None)).await;
    Ok(stats)
}
