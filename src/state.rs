//! The state every HTTP handler and socket shares. It sits below the router and the sockets,
//! which import it; startup builds it and imports them, so the arrows run one way.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::{
    abuse::Protection,
    auth::Auth,
    cluster::{Cluster, Coordinator},
    config::Config,
    forms::{ForgetBudget, Forms},
    hub::Hub,
    metrics::Metrics,
    settings::LiveSettings,
    stats::Stats,
};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    /// This node's hub. In cluster mode only the coordinator's runs chats: see `coordinator`.
    pub hub: Hub,
    /// The hub that decides, here or on the cluster's coordinator (what HTTP handlers ask).
    pub coordinator: Coordinator,
    /// This node's place in a cluster; `None` on a node of its own.
    pub cluster: Option<Cluster>,
    /// What admins changed while Haven runs, over `config` (crate::settings).
    pub settings: LiveSettings,
    pub auth: Auth,
    /// Caps concurrent chatter sockets.
    pub chatter_slots: Arc<Semaphore>,
    /// The voluntary forms: definitions, submissions, erasure.
    pub forms: Forms,
    /// Aggregate statistics for evaluators.
    pub stats: Stats,
    /// Attempts at deletion codes, for everyone together.
    pub forget_budget: Arc<ForgetBudget>,
    /// Anonymous per-client limits (keyed hashes of addresses, never the addresses).
    pub protection: Protection,
    pub metrics: Metrics,
    /// Fires on shutdown once the hub has told every chat: every socket then closes.
    pub closing: crate::hub::switch::Switch,
}
