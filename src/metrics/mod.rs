//! Prometheus metrics: numbers about the service, never about a person. No label carries a
//! chat, a staff member, a client key or an address; the only label is the fixed `reason` of a
//! refusal. Served on its own address (`protection.metrics_bind`), off by default.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

use prometheus_client::{
    encoding::{EncodeLabelSet, EncodeLabelValue},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use crate::hub::Hub;

/// Why a connection, socket or chat was refused or closed by a protection.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum Reason {
    connection_cap,
    connections_per_client,
    chatter_cap,
    sockets_per_client,
    new_chats_per_client,
    memory_budget,
    hello_timeout,
    abandoned,
    rate_limited,
    write_timeout,
    frame_too_large,
    invalid_utf8,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: Reason,
}

/// Everything the process counts, cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    rejected: Family<ReasonLabel, Counter>,
    connections: Gauge,
    chatter_sockets: Gauge,
    console_sockets: Gauge,
    waiting: Gauge,
    active: Gauge,
    closed: Gauge,
    staff_online: Gauge,
    transcript_bytes: Gauge,
    rss_bytes: Gauge,
    alive_tasks: Gauge,
    purge_runs: Counter,
    chats_purged: Counter,
    connection_seconds: Histogram,
    open_connections: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("haven");
        let rejected = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "rejected",
            "Connections, sockets or chats refused or closed by a protection, by reason",
            rejected.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let connections = gauge(&mut registry, "connections", "Open TCP connections");
        let chatter_sockets = gauge(&mut registry, "chatter_sockets", "Open chatter WebSockets");
        let console_sockets = gauge(&mut registry, "console_sockets", "Open console WebSockets");
        let waiting = gauge(&mut registry, "chats_waiting", "Chats waiting in a queue");
        let active = gauge(&mut registry, "chats_active", "Chats with an advocate");
        let closed = gauge(
            &mut registry,
            "chats_closed_awaiting_purge",
            "Closed chats still in memory",
        );
        let staff_online = gauge(&mut registry, "staff_online", "Consoles connected");
        let transcript_bytes = gauge(
            &mut registry,
            "transcript_bytes",
            "Bytes of transcript text in memory",
        );
        let rss_bytes = gauge(&mut registry, "resident_memory_bytes", "Resident set size");
        // Tasks that outlive their socket are a leak the fd and memory figures miss.
        let alive_tasks = gauge(
            &mut registry,
            "runtime_alive_tasks",
            "Tokio tasks alive in the runtime",
        );
        let purge_runs = Counter::default();
        registry.register("purge_runs", "Purge runs", purge_runs.clone());
        let chats_purged = Counter::default();
        registry.register("chats_purged", "Closed chats purged", chats_purged.clone());
        let connection_seconds = Histogram::new(
            prometheus_client::metrics::histogram::exponential_buckets(0.01, 4.0, 10),
        );
        registry.register(
            "connection_duration_seconds",
            "How long TCP connections stayed open",
            connection_seconds.clone(),
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                rejected,
                connections,
                chatter_sockets,
                console_sockets,
                waiting,
                active,
                closed,
                staff_online,
                transcript_bytes,
                rss_bytes,
                alive_tasks,
                purge_runs,
                chats_purged,
                connection_seconds,
                open_connections: AtomicI64::new(0),
            }),
        }
    }

    pub fn rejected(&self, reason: Reason) {
        self.inner
            .rejected
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// Counts an open TCP connection until the returned guard drops.
    pub fn connection(&self) -> ConnectionGuard {
        self.inner.open_connections.fetch_add(1, Ordering::Relaxed);
        ConnectionGuard {
            metrics: self.clone(),
            opened: std::time::Instant::now(),
        }
    }

    pub fn open_connections(&self) -> i64 {
        self.inner.open_connections.load(Ordering::Relaxed)
    }

    pub fn socket_opened(&self, console: bool) {
        self.socket_gauge(console).inc();
    }

    pub fn socket_closed(&self, console: bool) {
        self.socket_gauge(console).dec();
    }

    fn socket_gauge(&self, console: bool) -> &Gauge {
        if console {
            &self.inner.console_sockets
        } else {
            &self.inner.chatter_sockets
        }
    }

    /// The exposition text, with the gauges read from the hub and the process now.
    pub fn render(&self, hub: &Hub) -> String {
        let i = &self.inner;
        let counts = hub.counts();
        i.connections.set(self.open_connections());
        i.waiting.set(counts.waiting as i64);
        i.active.set(counts.active as i64);
        i.closed.set(counts.closed_awaiting_purge as i64);
        i.staff_online.set(counts.staff_online as i64);
        i.transcript_bytes.set(hub.transcript_bytes() as i64);
        i.rss_bytes.set(resident_bytes().unwrap_or(0) as i64);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            i.alive_tasks
                .set(runtime.metrics().num_alive_tasks() as i64);
        }
        let stats = hub.purge_stats();
        // Counters only go up: bring them level with the hub's own totals.
        i.purge_runs
            .inc_by(stats.runs.saturating_sub(i.purge_runs.get()));
        i.chats_purged
            .inc_by(stats.chats.saturating_sub(i.chats_purged.get()));
        let busy = i.rejected.get_or_create(&ReasonLabel {
            reason: Reason::memory_budget,
        });
        busy.inc_by(hub.refused_for_memory().saturating_sub(busy.get()));
        drop(busy);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &i.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

pub struct ConnectionGuard {
    metrics: Metrics,
    opened: std::time::Instant,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let inner = &self.metrics.inner;
        inner.open_connections.fetch_sub(1, Ordering::Relaxed);
        inner
            .connection_seconds
            .observe(self.opened.elapsed().as_secs_f64());
    }
}

/// The process's resident memory, from `/proc/self/status` (Linux); `None` elsewhere.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Serves `GET /metrics` on its own listener until `stop`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Metrics,
    hub: Hub,
    stop: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    use axum::{routing::get, Router};
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let text = metrics.render(&hub);
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    text,
                )
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_memory_is_read() {
        assert!(resident_bytes().is_some_and(|b| b > 1_000_000));
    }
}
