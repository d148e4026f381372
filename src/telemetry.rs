//! Logging set-up, and the rule that goes with it: log opaque ids (chat, staff, connection)
//! and counts only. Never an IP address, a user agent, a name, a user name or message text.
//! `tests/api/privacy.rs` runs the binary and checks its output for canaries.

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::{LogConfig, LogFormat};

pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_new(&config.level).unwrap_or_else(|_| EnvFilter::new("info"));
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
