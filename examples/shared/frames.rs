//! What the load tools (loadgen, queuefill) share: a staff login's cookie and reading JSON
//! frames from a socket with a bound on the wait.

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::{net::TcpStream, time::timeout};
use tokio_tungstenite::{tungstenite::Message, MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The `haven_session=…` pair a successful login set.
pub fn session_cookie(response: &reqwest::Response) -> Result<String> {
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("haven_session="))
        .ok_or_else(|| anyhow!("login set no haven_session cookie"))?;
    Ok(cookie.split(';').next().unwrap_or(cookie).to_string())
}

pub async fn send(ws: &mut Ws, frame: Value) -> Result<()> {
    ws.send(Message::text(frame.to_string())).await?;
    Ok(())
}

/// The next text frame as JSON, within `wait`.
pub async fn next_frame(ws: &mut Ws, wait: Duration) -> Result<Value> {
    loop {
        let message = timeout(wait, ws.next())
            .await
            .map_err(|_| anyhow!("no frame within {wait:?}"))?
            .ok_or_else(|| anyhow!("socket closed"))??;
        match message {
            Message::Text(text) => return Ok(serde_json::from_str(text.as_str())?),
            Message::Close(frame) => bail!("socket closed by the server: {frame:?}"),
            _ => continue,
        }
    }
}

/// The next frame of type `kind`; an `error` or `offline` before it ends the wait.
pub async fn next_of_type(ws: &mut Ws, kind: &str, wait: Duration) -> Result<Value> {
    // Bounded: at most 10 000 other frames before the one we want.
    for _ in 0..10_000 {
        let frame = next_frame(ws, wait).await?;
        if frame["type"] == kind {
            return Ok(frame);
        }
        if frame["type"] == "error" || frame["type"] == "offline" {
            bail!("expected {kind}, got {frame}");
        }
    }
    bail!("no {kind} frame")
}
