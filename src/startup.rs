//! Builds the application from a configuration: the store, the hub, the router, the
//! background tasks; runs it until shutdown.

use std::{sync::Arc, time::Duration};

use tokio::{net::TcpListener, sync::Semaphore};
use tokio_util::sync::CancellationToken;

use crate::{
    abuse::{self, Protection},
    auth::Auth,
    cluster::{Cluster, Coordinator},
    config::Config,
    forms::{ForgetBudget, Forms},
    hub::{self, Hub, Settings},
    metrics::Metrics,
    settings::LiveSettings,
    state::AppState,
    stats::Stats,
    store::{Store, StoreError},
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not open the store: {0}")]
    Store(#[from] StoreError),
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] crate::serve::tls::TlsError),
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
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
    /// The separate `/metrics` listener, when configured.
    metrics_listener: Option<TcpListener>,
    max_connections: usize,
    tls: Option<crate::serve::tls::Tls>,
}

impl Application {
    /// Opens the store and binds the listener; nothing is served until `run_until_stopped`.
    pub async fn build(config: Config) -> Result<Application, StartupError> {
        Application::build_with_clock(config, crate::auth::Clock::default()).await
    }

    /// [`Application::build`] with the clock sessions are judged by (tests move it forward).
    pub async fn build_with_clock(
        mut config: Config,
        clock: crate::auth::Clock,
    ) -> Result<Application, StartupError> {
        // With PostgreSQL, the store's methods are safe on this async thread: its backend
        // moves each call off it (store::postgres::off_the_async_threads).
        let store = Store::connect(
            &config.store,
            &config.server.data_dir,
            Duration::from_millis(config.server.store_wait_ms),
        )?;
        if store.count_admins()? == 0 {
            tracing::warn!(
                "no admin account yet: create one with `haven staff add NAME --role admin` (the password is read from the prompt or stdin)"
            );
        }
        let tls = if config.server.tls_enabled() {
            // Browsers keep Secure cookies only over HTTPS, which Haven now serves itself.
            config.auth.secure_cookies = true;
            Some(crate::serve::tls::Tls::load(
                &config.server.tls_cert_file,
                &config.server.tls_key_file,
            )?)
        } else {
            None
        };
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
        config
            .server
            .resolve_public_origin(std::net::SocketAddr::new(
                listener
                    .local_addr()
                    .map_or([127, 0, 0, 1].into(), |a| a.ip()),
                port,
            ));
        let config = Arc::new(config);
        // Admins' saved edits over the file's sections (crate::settings).
        let current = crate::settings::effective_at_start(&config, &store)?;
        current.program.warn_missing_texts(&current.queues);
        let forms = Forms::new(Arc::clone(&config), store.clone())?;
        let stats = Stats::new(Arc::clone(&config), store.clone());
        let mut settings = Settings::from_config(&current);
        settings.recorder = Some(stats.recorder());
        let metrics_listener = match config.protection.metrics_bind.as_str() {
            "" => None,
            addr => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartupError::Bind {
                        addr: addr.to_owned(),
                        source,
                    })?,
            ),
        };
        let fd_limit = abuse::fd::raise_limit();
        let max_connections =
            abuse::fd::connection_cap(config.protection.max_connections, fd_limit);
        tracing::info!(
            fd_limit = fd_limit.unwrap_or(0),
            max_connections,
            "connection cap"
        );
        let hub = Hub::new(settings);
        let live = LiveSettings::start(Arc::clone(&config), current, store.clone(), hub.clone())?;
        let shutdown = CancellationToken::new();
        let cluster = match config.cluster.enabled() {
            true => Some(Cluster::join(&config.cluster, &config.store, shutdown.clone()).await?),
            false => None,
        };
        let state = AppState {
            coordinator: Coordinator::new(hub.clone(), cluster.clone()),
            cluster,
            hub,
            settings: live,
            auth: Auth::new(store, &config.auth, clock)?,
            chatter_slots: Arc::new(Semaphore::new(config.limits.max_chatter_connections)),
            forms,
            stats,
            forget_budget: Arc::new(ForgetBudget::default()),
            protection: Protection::new(&config.protection),
            metrics: Metrics::new(),
            closing: crate::hub::switch::Switch::new(),
            config,
        };
        Ok(Application {
            listener,
            port,
            state,
            shutdown,
            metrics_listener,
            max_connections,
            tls,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the `/metrics` listener, when one is configured.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map(|a| a.port())
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
            metrics_listener,
            max_connections,
            tls,
        } = self;
        if let Some(tls) = &tls {
            tls.clone().reload_on_hangup(shutdown.clone());
        }
        let purge = hub::purge::spawn(&state.hub, shutdown.clone());
        let sessions = spawn_session_cleanup(state.auth.clone(), shutdown.clone());
        let housekeeping = crate::forms::spawn_housekeeping(state.forms.clone(), shutdown.clone());
        let flusher = crate::stats::spawn_flusher(state.stats.clone(), shutdown.clone());
        let metrics = metrics_listener.map(|listener| {
            tokio::spawn(crate::metrics::serve(
                listener,
                state.metrics.clone(),
                state.hub.clone(),
                shutdown.clone(),
            ))
        });
        if let Some(cluster) = &state.cluster {
            let host = state.clone();
            cluster
                .serve(
                    state.coordinator.clone(),
                    move |opened| {
                        tokio::spawn(crate::ws::hosted::run(host.clone(), opened));
                    },
                    state.settings.clone(),
                )
                .await
                .map_err(std::io::Error::other)?;
        }
        let router = crate::http::routes(state.clone()).with_state(state.clone());
        tracing::info!(port, "listening");

        let grace = Duration::from_secs(state.config.server.shutdown_grace_secs);
        // The server loop stops accepting on `stop_accepting`, which fires only after the hub
        // has told every chat and console why (then `closing` closes every other socket).
        let stop_accepting = CancellationToken::new();
        let announce = {
            let cluster = state.cluster.clone();
            let (hub, closing, stop_accepting) = (
                state.hub.clone(),
                state.closing.clone(),
                stop_accepting.clone(),
            );
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                shutdown.cancelled().await;
                if let Some(cluster) = &cluster {
                    // This node's people reconnect to another node and resume.
                    cluster.release_sockets();
                }
                hub.shutdown();
                closing.cancel();
                stop_accepting.cancel();
                tracing::info!("shutting down");
            })
        };
        let options = crate::serve::ServeOptions {
            max_connections,
            header_read_timeout: Duration::from_secs(
                state.config.protection.header_read_timeout_secs,
            ),
            tls,
            error_headers: crate::http::security_headers_for(&state.config, ""),
        };
        crate::serve::serve(
            listener,
            router,
            options,
            state.metrics.clone(),
            state.protection.clone(),
            stop_accepting,
            grace,
        )
        .await;
        announce.abort();
        purge.abort();
        sessions.abort();
        housekeeping.abort();
        // The last counts of the day are written before Haven stops.
        if let Err(error) = state.stats.flush().await {
            tracing::error!(%error, "could not write the operational counts at shutdown");
        }
        flusher.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        tracing::info!("stopped");
        Ok(())
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
