//! Cluster mode, both halves of a tunnelled socket (docs/cluster.md):
//! - on a gateway, [`TunnelSession`] is the session of a real socket: it sends what the client
//!   says to the coordinator, and the coordinator's frames arrive in the socket's outbox;
//! - on the coordinator, [`run`] runs the real session (chatter or console) for a gateway's
//!   socket, exactly as for a socket of its own, and sends its outbox down the tunnel.

use tokio::time::Instant;

use super::{chatter::Client, conn::Session, console::ConsoleSession};
use crate::{
    abuse::ClientKey,
    cluster::{Hosted, Opened, Opening, Tunnel},
    hub::{
        outbox::{Frame, Inbox, Outbox},
        LoginId,
    },
    protocol::Version,
    state::AppState,
};

/// A gateway's socket whose session runs on the coordinator.
pub struct TunnelSession {
    pub tunnel: Tunnel,
}

impl Session for TunnelSession {
    fn on_text(&mut self, text: &str, _outbox: &Outbox) {
        self.tunnel.text(text);
    }

    fn on_closed(&mut self) {
        self.tunnel.closed();
    }

    fn on_stalled(&mut self, stalled: bool) {
        self.tunnel.stalled(stalled);
    }
}

/// Runs a gateway's socket's session here, on the coordinator, until the socket is gone.
pub async fn run(state: AppState, opened: Opened) {
    let Opened { opening, hosted } = opened;
    let (outbox, inbox) = Outbox::new(state.config.limits.outbound_queue_frames);
    match opening {
        Opening::Chatter { client } => {
            let client = client.map(|key| Client {
                key: ClientKey::from_bytes(key),
                protection: state.protection.clone(),
                metrics: state.metrics.clone(),
            });
            let session = super::new_chatter_session(&state, client, &outbox);
            pump(session, outbox, inbox, hosted).await;
        }
        Opening::Console {
            staff,
            login,
            version,
        } => {
            let version = Version::parse(version).unwrap_or_default();
            let outbox = outbox.speaking(version);
            let staff_id = staff.id;
            let me = state.hub.advocate_connect(staff, LoginId(login), &outbox);
            let session =
                ConsoleSession::new(state.hub.clone(), me).audited(state.auth.clone(), staff_id);
            pump(session, outbox, inbox, hosted).await;
        }
    }
}

/// The session's side of a tunnelled socket: what comes up goes to the session, what the hub
/// queues goes down, and the session's own deadlines (no `hello` in time) are kept here.
async fn pump(mut session: impl Session, outbox: Outbox, mut inbox: Inbox, mut hosted: Hosted) {
    use crate::cluster::HostedEvent as Event;
    loop {
        let deadline = session.deadline();
        let sleep = tokio::time::sleep_until(deadline.unwrap_or_else(far_future));
        tokio::select! {
            event = hosted.next() => match event {
                Event::Text(text) => session.on_text(&text, &outbox),
                Event::Stalled(on) => session.on_stalled(on),
                Event::Closed => break,
            },
            frame = inbox.rx.recv() => {
                if let Some(frame) = frame {
                    hosted.send(frame).await;
                }
            }
            _ = inbox.latest.changed.notified() => {
                for text in inbox.latest.take() {
                    hosted.send(Frame::Text(text)).await;
                }
            }
            _ = inbox.kill.cancelled() => {
                hosted.kill().await;
                break;
            }
            _ = sleep, if deadline.is_some() => {
                if let Some((code, reason)) = session.on_deadline() {
                    outbox.close(code, reason);
                }
            }
        }
    }
    session.on_closed();
}

fn far_future() -> Instant {
    Instant::now() + std::time::Duration::from_secs(86_400)
}
