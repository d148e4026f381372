//! Builds the application from a configuration: the store, the hub, the router, the
//! background tasks; runs it until shutdown.

use std::sync::Arc;

use axum::serve::ListenerExt;
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_util::sync::CancellationToken;

use crate::{
    auth::Auth,
    config::Config,
    hub::{self, Hub, Settings},
    store::{Store, StoreError},
};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub hub: Hub,
    pub auth: Auth,
    /// Caps concurrent chatter sockets.
    pub chatter_slots: Arc<Semaphore>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not open the data directory: {0}")]
    Store(#[from] StoreError),
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// Starts a graceful shutdown from anywhere (signal handler, tests).
#[derive(Clone)]
pub struct ShutdownHandle(CancellationToken);

impl ShutdownHandle {
    pub fn trigger(&self) {
        self.0.cancel();
    }
}

pub struct Application {
    listener: TcpListener,
    port: u16,
    state: AppState,
    shutdown: CancellationToken,
}

impl Application {
    /// Opens the store and binds the listener; nothing is served until `run_until_stopped`.
    pub async fn build(config: Config) -> Result<Application, StartupError> {
        let store = Store::open(&config.server.data_dir)?;
        if store.count_admins()? == 0 {
            tracing::warn!(
                "no admin account yet: create one with `haven staff add NAME --role admin` (the password is read from the prompt or stdin)"
            );
        }
        let listener = TcpListener::bind(&config.server.bind)
            .await
            .map_err(|source| StartupError::Bind {
                addr: config.server.bind.clone(),
                source,
            })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                addr: config.server.bind.clone(),
                source,
            })?
            .port();
        let state = AppState {
            hub: Hub::new(Settings::from_config(&config)),
            auth: Auth::new(store, &config.auth),
            chatter_slots: Arc::new(Semaphore::new(config.limits.max_chatter_connections)),
            config: Arc::new(config),
        };
        Ok(Application {
            listener,
            port,
            state,
            shutdown: CancellationToken::new(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown.clone())
    }

    /// Serves until the shutdown handle fires (or ctrl-c / SIGTERM when `with_signals`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Application {
            listener,
            port,
            state,
            shutdown,
        } = self;
        let purge = hub::purge::spawn(&state.hub, shutdown.clone());
        let sessions = spawn_session_cleanup(state.auth.clone(), shutdown.clone());
        let router = crate::http::routes(state.clone()).with_state(state.clone());
        tracing::info!(port, "listening");

        let hub = state.hub.clone();
        let stop = shutdown.clone();
        let grace = std::time::Duration::from_secs(state.config.server.shutdown_grace_secs);
        // Served without connection info: Haven never looks at who is connecting.
        // Chat frames are small and interactive: without TCP_NODELAY a reply that follows
        // another (`message` then `ack`) waits ~40 ms for the peer's delayed ACK.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let served = axum::serve(listener, router).with_graceful_shutdown(async move {
            stop.cancelled().await;
            // Tell every socket first, so people see why the chat ended.
            hub.shutdown();
            tracing::info!("shutting down");
        });
        // Sockets are long-lived: after telling them, give them `grace` to close, then stop.
        let result = tokio::select! {
            result = served => result,
            _ = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => Ok(()),
        };
        purge.abort();
        sessions.abort();
        tracing::info!("stopped");
        result
    }
}

/// Deletes expired staff sessions every hour.
fn spawn_session_cleanup(auth: Auth, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = every.tick() => {}
            }
            match auth.delete_expired_sessions().await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "expired staff sessions deleted"),
                Err(error) => tracing::error!(%error, "could not delete expired sessions"),
            }
        }
    })
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
