//! Attacks run from 127.0.0.2 (another client to Haven) during the measured load (issue 8):
//! `silent` TCP connections, WebSocket `pings` floods, `hellos` that drop at once, `idle` chatter
//! sockets that never say hello. Each attacking connection is reopened whenever Haven closes it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::MaybeTlsStream;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    Silent,
    Pings,
    Hellos,
    Idle,
}

/// The attacker's source address: loopback, but not the pairs' 127.0.0.1.
const ATTACKER: &str = "127.0.0.2";

/// Attacking connections kept busy until dropped: [`Attackers::stop`] ends them.
pub struct Attackers {
    stop: Arc<AtomicBool>,
    made: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Attackers {
    /// `connections` attackers of `kind` against `base`.
    pub fn start(kind: Attack, base: &str, connections: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let made = Arc::new(AtomicU64::new(0));
        let tasks = (0..connections)
            .map(|_| tokio::spawn(attacker(kind, base.to_string(), stop.clone(), made.clone())))
            .collect();
        Self { stop, made, tasks }
    }

    /// Stops every attacker; how many connections they made.
    pub fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.abort();
        }
        self.made.load(Ordering::Relaxed)
    }
}

/// `connections` attackers of `kind` for `secs`; how many connections they made.
pub async fn attack_for(kind: Attack, base: &str, connections: usize, secs: f64) -> u64 {
    let attackers = Attackers::start(kind, base, connections);
    sleep(Duration::from_secs_f64(secs)).await;
    attackers.stop()
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
