//! What HTTP handlers ask of the hub that runs the chats: this node's own hub on a single
//! node or the coordinator, the coordinator's hub over NATS on a gateway. Tokens are hashed
//! before they leave the handler.

use std::{collections::HashMap, time::Duration};

use futures_util::StreamExt;
use uuid::Uuid;

use super::{
    wire::{Call, Reply, Slot},
    Cluster, ClusterError,
};
use crate::hub::{token_hash, FormSlot, Hub, LoginId, Presence, Ticket, TicketError};

/// How long a gateway waits for the coordinator's answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// The hub that decides, wherever it runs. Cheap to clone.
#[derive(Clone)]
pub struct Coordinator {
    hub: Hub,
    cluster: Option<Cluster>,
}

/// What the public page shows of the service right now.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    pub open_now: bool,
    pub on_duty: usize,
}

impl Coordinator {
    pub fn new(hub: Hub, cluster: Option<Cluster>) -> Coordinator {
        Coordinator { hub, cluster }
    }

    /// The coordinator to ask, or `None` when the hub here decides.
    fn remote(&self) -> Result<Option<(&Cluster, Uuid)>, ClusterError> {
        let Some(cluster) = &self.cluster else {
            return Ok(None);
        };
        if cluster.is_coordinating() {
            return Ok(None);
        }
        let coordinator = cluster.coordinator().ok_or(ClusterError::NoCoordinator)?;
        Ok(Some((cluster, coordinator)))
    }

    async fn ask(&self, call: Call) -> Result<Reply, ClusterError> {
        let Some((cluster, coordinator)) = self.remote()? else {
            return Ok(self.execute(call));
        };
        let payload = serde_json::to_vec(&call).map_err(|_| ClusterError::NoCoordinator)?;
        let subject = cluster.inner.subjects.call(coordinator);
        let request = cluster.inner.nats.request(subject, payload.into());
        let answer = tokio::time::timeout(CALL_TIMEOUT, request)
            .await
            .map_err(|_| ClusterError::NoCoordinator)?
            .map_err(|_| ClusterError::NoCoordinator)?;
        match serde_json::from_slice(&answer.payload) {
            Ok(Reply::NotCoordinator) | Err(_) => Err(ClusterError::NoCoordinator),
            Ok(reply) => Ok(reply),
        }
    }

    /// Runs a call on this node's hub.
    fn execute(&self, call: Call) -> Reply {
        let hub = &self.hub;
        match call {
            Call::TakeFormTicket {
                token_hash,
                slot,
                window_secs,
            } => match hub.take_form_ticket(
                &token_hash,
                slot.into(),
                Duration::from_secs(window_secs),
            ) {
                Ok(ticket) => Reply::Ticket {
                    queue: ticket.queue,
                    under_13: ticket.under_13,
                },
                Err(TicketError::NoChat) => Reply::NoChat,
                Err(TicketError::AlreadyTaken) => Reply::AlreadyTaken,
            },
            Call::ReturnFormTicket { token_hash, slot } => {
                hub.return_form_ticket(&token_hash, slot.into());
                Reply::Done
            }
            Call::MarkUnder13 { token_hash } => {
                hub.mark_under_13(&token_hash);
                Reply::Done
            }
            Call::Status => Reply::Status {
                open_now: hub.is_open_now(),
                on_duty: hub.on_duty(),
            },
            Call::Presence => Reply::Presence {
                presence: hub.presence(),
            },
            Call::StaffSignedOut { staff, login } => {
                hub.staff_signed_out(staff, LoginId(login));
                Reply::Done
            }
            Call::StaffSessionLapsed { staff, login } => {
                hub.staff_session_lapsed(staff, LoginId(login));
                Reply::Done
            }
        }
    }

    pub async fn take_form_ticket(
        &self,
        token: &str,
        slot: FormSlot,
        window: Duration,
    ) -> Result<Result<Ticket, TicketError>, ClusterError> {
        let call = Call::TakeFormTicket {
            token_hash: token_hash(token),
            slot: slot.into(),
            window_secs: window.as_secs(),
        };
        Ok(match self.ask(call).await? {
            Reply::Ticket { queue, under_13 } => Ok(Ticket { queue, under_13 }),
            Reply::AlreadyTaken => Err(TicketError::AlreadyTaken),
            _ => Err(TicketError::NoChat),
        })
    }

    pub async fn return_form_ticket(&self, token: &str, slot: FormSlot) {
        let call = Call::ReturnFormTicket {
            token_hash: token_hash(token),
            slot: slot.into(),
        };
        if self.ask(call).await.is_err() {
            tracing::warn!("a form ticket could not be given back: the coordinator is away");
        }
    }

    pub async fn mark_under_13(&self, token: &str) {
        let call = Call::MarkUnder13 {
            token_hash: token_hash(token),
        };
        if self.ask(call).await.is_err() {
            tracing::warn!("an under-13 mark could not reach the coordinator");
        }
    }

    /// Open now, and advocates on duty; closed and nobody when the coordinator is away (the
    /// page then shows the hotline, which is the honest answer).
    pub async fn service(&self) -> Service {
        match self.ask(Call::Status).await {
            Ok(Reply::Status { open_now, on_duty }) => Service { open_now, on_duty },
            _ => Service {
                open_now: self.hub.is_open_now(),
                on_duty: 0,
            },
        }
    }

    pub async fn presence(&self) -> HashMap<Uuid, Presence> {
        match self.ask(Call::Presence).await {
            Ok(Reply::Presence { presence }) => presence,
            _ => HashMap::new(),
        }
    }

    pub async fn staff_signed_out(&self, staff: Uuid, login: LoginId) {
        let call = Call::StaffSignedOut {
            staff,
            login: login.0,
        };
        if self.ask(call).await.is_err() {
            tracing::warn!(staff = %staff, "a sign-out could not reach the coordinator");
        }
    }

    pub async fn staff_session_lapsed(&self, staff: Uuid, login: LoginId) {
        let call = Call::StaffSessionLapsed {
            staff,
            login: login.0,
        };
        if self.ask(call).await.is_err() {
            tracing::warn!(staff = %staff, "a lapsed session could not reach the coordinator");
        }
    }

    /// Tells the other nodes that an admin saved settings here: each reads them again.
    pub async fn settings_changed(&self) {
        if let Some(cluster) = &self.cluster {
            let subject = cluster.inner.subjects.settings();
            if !cluster.publish(subject, b"{}".to_vec()).await {
                tracing::warn!("saved settings could not be announced to the other nodes");
            }
        }
    }
}

/// Answers the gateways' calls while this node coordinates.
pub async fn answer(cluster: Cluster, mut calls: async_nats::Subscriber, coordinator: Coordinator) {
    while let Some(message) = calls.next().await {
        let Some(reply_to) = message.reply else {
            continue;
        };
        let reply = match serde_json::from_slice::<Call>(&message.payload) {
            _ if !cluster.is_coordinating() => Reply::NotCoordinator,
            Ok(call) => coordinator.execute(call),
            Err(_) => Reply::Failed,
        };
        if let Ok(payload) = serde_json::to_vec(&reply) {
            cluster.publish(reply_to.to_string(), payload).await;
        }
    }
}

impl From<FormSlot> for Slot {
    fn from(slot: FormSlot) -> Slot {
        match slot {
            FormSlot::Intake => Slot::Intake,
            FormSlot::Survey => Slot::Survey,
        }
    }
}

impl From<Slot> for FormSlot {
    fn from(slot: Slot) -> FormSlot {
        match slot {
            Slot::Intake => FormSlot::Intake,
            Slot::Survey => FormSlot::Survey,
        }
    }
}
