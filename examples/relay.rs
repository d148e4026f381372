//! A bare WebSocket relay: the yardstick Haven's chat throughput is measured against (issue 10).
//! It is not part of Haven and serves nobody; it exists so that `scripts/bench.sh` can print, in
//! the same run, how Haven compares with a relay that does nothing but move frames.
//!
//! Two clients that open `ws://HOST/pair/<id>` with the same id are paired, and every data frame
//! one sends is passed to the other unchanged: no parsing, no hub, no queue, no transcript, no
//! limits, no login. Whatever Haven does on top of that is the difference the benchmark shows.
//!
//! ```text
//! cargo run --release --example relay -- --listen 127.0.0.1:0     # prints the bound address
//! cargo run --release --example loadgen -- --target relay --url http://127.0.0.1:PORT --pairs 100 --rate 0
//! ```
//!
//! Tuned the way a careful hand-written relay would be (`--tuned`, the default): `TCP_NODELAY`
//! on every accepted socket, a 4 KiB read buffer and a 4 KiB write batch per socket (what
//! Haven's console sockets use), and every frame already read from one side sent to the other
//! with a single flush. `--defaults` keeps tungstenite's defaults (128 KiB buffers) instead, to
//! show what the tuning is worth. The allocator is jemalloc, as in Haven, without Haven's
//! zeroing of freed memory: that wiping is Haven's own cost, so it counts on Haven's side.
//!
//! Bounded: an id holds two sockets at most (a third is refused with 409, or closed if it raced
//! in), a pair is forgotten as soon as either side leaves, a waiting socket may send at most
//! [`EARLY_FRAMES`] frames before its partner arrives, and it listens on loopback only. Stops on
//! Ctrl-C or SIGTERM.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Parser;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

/// The same allocator as Haven, without the zeroing wrapper (see the module doc).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

type Ws = WebSocketStream<TcpStream>;

/// Longest pair id accepted in `/pair/<id>`.
const MAX_ID_LEN: usize = 64;
/// Frames a waiting socket may send before its partner arrives (they are passed on first).
const EARLY_FRAMES: usize = 64;
/// Frames at most in one flush: a fast sender cannot keep the other side from being served.
const BATCH: usize = 64;
/// Read buffer and write batch of a socket with `--tuned`.
const TUNED_BUFFER: usize = 4096;
/// How long a closing handshake may take once a pair ends.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

#[derive(Parser, Debug)]
#[command(about = "A bare WebSocket relay: the yardstick for Haven's benchmark, not part of Haven")]
struct Args {
    /// Address to listen on (loopback only); port 0 picks a free one. The bound address is
    /// always the first line printed.
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: SocketAddr,
    /// 4 KiB read buffer and write batch per socket (the default).
    #[arg(long, conflicts_with = "defaults")]
    tuned: bool,
    /// tungstenite's default configuration (128 KiB buffers) instead of `--tuned`.
    #[arg(long)]
    defaults: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        bail!("--listen must be a loopback address (127.0.0.1, ::1)");
    }
    // A thousand pairs are four thousand sockets with the clients: take what the system allows.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let config = if args.defaults {
        WebSocketConfig::default()
    } else {
        WebSocketConfig::default()
            .read_buffer_size(TUNED_BUFFER)
            .write_buffer_size(TUNED_BUFFER)
    };
    let listener = TcpListener::bind(args.listen).await?;
    // The first line, for scripts that asked for port 0 (stdout is line-buffered).
    println!("{}", listener.local_addr()?);

    let pairs = Arc::new(Pairs::default());
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    let _ = tcp.set_nodelay(true);
                    tokio::spawn(serve(tcp, config, pairs.clone()));
                }
                // Out of file descriptors, most likely: let some connections go first.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
    Ok(())
}

/// Completes the WebSocket handshake of `/pair/<id>` and joins the pair.
async fn serve(tcp: TcpStream, config: WebSocketConfig, pairs: Arc<Pairs>) {
    let mut id = None;
    // The signature is tungstenite's handshake callback's: its error is an HTTP response.
    #[allow(clippy::result_large_err)]
    let check = |request: &Request, response: Response| match pair_id(request.uri().path()) {
        Some(found) if pairs.is_complete(found) => {
            Err(refusal(StatusCode::CONFLICT, "this pair is complete"))
        }
        Some(found) => {
            id = Some(found.to_string());
            Ok(response)
        }
        None => Err(refusal(StatusCode::NOT_FOUND, "connect to /pair/<id>")),
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async_with_config(tcp, check, Some(config)).await
    else {
        return;
    };
    if let Some(id) = id {
        pairs.join(id, ws).await;
    }
}

/// `/pair/<id>` -> `<id>`: 1 to [`MAX_ID_LEN`] bytes, no further slash.
fn pair_id(path: &str) -> Option<&str> {
    let id = path.strip_prefix("/pair/")?;
    (!id.is_empty() && id.len() <= MAX_ID_LEN && !id.contains('/')).then_some(id)
}

fn refusal(status: StatusCode, why: &str) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(why.to_string()));
    *response.status_mut() = status;
    response
}

/// Every id with a socket waiting for its partner, or with a pair relaying.
#[derive(Default)]
struct Pairs(Mutex<HashMap<String, Slot>>);

enum Slot {
    /// The first socket waits; its partner's socket is handed over through this.
    Waiting(oneshot::Sender<Ws>),
    /// Both sockets are relaying; a third one is refused.
    Complete,
}

/// What a socket that joins an id is to do.
enum Role {
    /// Wait for the partner (it arrives through this), then relay both.
    First(oneshot::Receiver<Ws>),
    /// Hand itself over to the waiting first socket.
    Second(oneshot::Sender<Ws>),
    /// The pair is complete: refused.
    Third,
}

impl Pairs {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_complete(&self, id: &str) -> bool {
        matches!(self.slots().get(id), Some(Slot::Complete))
    }

    /// The first socket of an id waits for the second and then relays both; the second hands
    /// itself over to the first and is done. A third is closed.
    async fn join(&self, id: String, ws: Ws) {
        // Decided under the lock, acted on after it (no lock is held across an await).
        let role = {
            let mut slots = self.slots();
            match slots.remove(&id) {
                None => {
                    let (tx, rx) = oneshot::channel();
                    slots.insert(id.clone(), Slot::Waiting(tx));
                    Role::First(rx)
                }
                Some(Slot::Waiting(first)) => {
                    slots.insert(id.clone(), Slot::Complete);
                    Role::Second(first)
                }
                Some(Slot::Complete) => {
                    slots.insert(id.clone(), Slot::Complete);
                    Role::Third
                }
            }
        };
        match role {
            Role::First(partner) => self.wait_and_relay(&id, ws, partner).await,
            // If the first socket left meanwhile, this one is dropped (closed) with it.
            Role::Second(first) => drop(first.send(ws)),
            Role::Third => refuse(ws).await,
        }
    }

    async fn wait_and_relay(&self, id: &str, mut first: Ws, mut partner: oneshot::Receiver<Ws>) {
        let mut early = Vec::new();
        let second = loop {
            tokio::select! {
                second = &mut partner => break second.ok(),
                frame = first.next() => match frame {
                    Some(Ok(frame @ (Message::Text(_) | Message::Binary(_)))) if early.len() < EARLY_FRAMES => {
                        early.push(frame);
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                    // Closed, broken, or too much said to nobody.
                    _ => break None,
                },
            }
        };
        if let Some(second) = second {
            relay(first, second, early).await;
        }
        // Unpair before the receiver goes: a partner that raced in is then dropped with it.
        self.slots().remove(id);
        drop(partner);
    }
}

/// Passes frames both ways until either side leaves, then closes both.
async fn relay(first: Ws, second: Ws, early: Vec<Message>) {
    let (mut first_tx, mut first_rx) = first.split();
    let (mut second_tx, mut second_rx) = second.split();
    let mut early = futures_util::stream::iter(early.into_iter().map(Ok));
    if second_tx.send_all(&mut early).await.is_ok() {
        tokio::select! {
            _ = forward(&mut first_rx, &mut second_tx) => {}
            _ = forward(&mut second_rx, &mut first_tx) => {}
        }
    }
    let _ = tokio::time::timeout(CLOSE_WAIT, first_tx.close()).await;
    let _ = tokio::time::timeout(CLOSE_WAIT, second_tx.close()).await;
}

/// Sends `from`'s data frames to `to` as they are, every frame already read with one flush.
/// Returns when `from` closes or either socket fails.
async fn forward(
    from: &mut SplitStream<Ws>,
    to: &mut SplitSink<Ws, Message>,
) -> Result<(), WsError> {
    while let Some(frame) = from.next().await {
        if !feed(frame?, to).await? {
            return Ok(());
        }
        // Whatever else has already arrived goes out in the same flush.
        for _ in 1..BATCH {
            let Some(ready) = from.next().now_or_never() else {
                break;
            };
            let Some(frame) = ready else {
                return to.flush().await;
            };
            if !feed(frame?, to).await? {
                return to.flush().await;
            }
        }
        to.flush().await?;
    }
    Ok(())
}

/// Queues a data frame on `to` without flushing; `false` when `frame` closes the socket.
/// Pings are answered by tungstenite itself.
async fn feed(frame: Message, to: &mut SplitSink<Ws, Message>) -> Result<bool, WsError> {
    match frame {
        Message::Text(_) | Message::Binary(_) => to.feed(frame).await.map(|()| true),
        Message::Close(_) => Ok(false),
        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Ok(true),
    }
}

/// A third socket on a complete pair that raced past the handshake check.
async fn refuse(mut ws: Ws) {
    let close = CloseFrame {
        code: CloseCode::Policy,
        reason: "this pair is complete".into(),
    };
    let _ = tokio::time::timeout(CLOSE_WAIT, ws.close(Some(close))).await;
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
