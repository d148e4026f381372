//! Logging set-up, and the rule that goes with it: log opaque ids (chat, staff, connection)
//! and counts only. Never an IP address, a user agent, a name, a user name or message text.
//! `tests/api/privacy.rs` runs the binary and checks its output for canaries.

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::{LogConfig, LogFormat};

/// Libraries that log request and frame contents or peer addresses at `debug`/`trace`
/// (tungstenite logs every frame's payload, hyper the client's address). Whatever `log.level`
/// asks, they speak only of warnings: no configuration can put a message into the log.
const CLAMPED: &[&str] = &[
    "tungstenite",
    "tokio_tungstenite",
    "hyper",
    "hyper_util",
    "h2",
    "axum",
    "tower",
    "tower_http",
    "rustls",
    "tokio_rustls",
    "reqwest",
    "rusqlite",
    "mio",
    "tokio",
    "tokio_util",
    "runtime",
];

/// `level` with every directive about a clamped library dropped and `LIB=warn` added for each.
pub fn clamped_filter(level: &str) -> String {
    let clamped = |directive: &&str| {
        let target = directive.split(['=', '[']).next().unwrap_or("").trim();
        CLAMPED
            .iter()
            .any(|lib| target == *lib || target.starts_with(&format!("{lib}::")))
    };
    level
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty() && !clamped(d))
        .map(str::to_owned)
        .chain(CLAMPED.iter().map(|lib| format!("{lib}=warn")))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_new(clamped_filter(&config.level))
        .unwrap_or_else(|_| EnvFilter::new(clamped_filter("info")));
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stdout);
    let result = match config.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    // A second init (tests that start several servers) keeps the first subscriber.
    let _ = result;
}

#[cfg(test)]
mod tests {
    use super::clamped_filter;

    #[test]
    fn libraries_stay_at_warn_whatever_the_level_asks() {
        let filter = clamped_filter("trace,tungstenite=trace,hyper::proto=debug,haven=debug");
        assert!(filter.starts_with("trace,haven=debug,"), "{filter}");
        assert!(filter.contains("tungstenite=warn") && filter.contains("hyper=warn"));
        assert!(!filter.contains("=trace") && !filter.contains("proto=debug"));
        tracing_subscriber::EnvFilter::try_new(&filter).expect("a valid filter");
    }
}
