//! Typed, layered, validated configuration.
//!
//! Layers, later wins: the embedded `config/default.toml`, an optional file given with
//! `--config`, then `HAVEN_<SECTION>__<KEY>` environment variables. Unknown keys are refused so
//! that a typo never silently falls back to a default.

use std::path::{Path, PathBuf};

use figment::{
    providers::{Env, Format, Toml},
    Figment,
};
use serde::Deserialize;

mod validate;

/// The defaults, compiled in so that `cargo run` needs no file on disk.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");
/// The voluntary forms and statistics settings, a second embedded layer under the same keys.
pub const FORMS_TOML: &str = include_str!("../../config/forms.toml");

/// The most `protection.hello_proof_of_work_bits` may ask of a chatter's phone.
const MAX_PROOF_BITS: u8 = 24;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration could not be read: {0}")]
    Parse(String),
    #[error("configuration key `{key}` is invalid: {reason}")]
    Invalid { key: &'static str, reason: String },
    #[error("configuration key `{key}` is invalid: {reason}")]
    Form { key: String, reason: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub store: crate::store::config::StoreConfig,
    /// Several nodes on NATS and PostgreSQL (docs/cluster.md); empty `nats_url`: one node.
    #[serde(default)]
    pub cluster: crate::cluster::ClusterConfig,
    pub program: ProgramConfig,
    pub chat: ChatConfig,
    pub limits: LimitsConfig,
    pub auth: AuthConfig,
    pub service_hours: ServiceHoursConfig,
    pub log: LogConfig,
    pub queues: Vec<QueueConfig>,
    #[serde(default)]
    pub canned: Vec<CannedResponse>,
    pub supervisors: SupervisorsConfig,
    pub forms: crate::forms::FormsConfig,
    pub stats: StatsConfig,
    pub chatter_page: ChatterPageConfig,
    pub protection: ProtectionConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisorsConfig {
    /// Supervisors and admins may open the transcript of a chat in progress from their board.
    pub may_read_transcripts: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsConfig {
    pub suppress_below: u64,
    pub fiscal_year_start_month: u32,
    pub flush_secs: u64,
}

/// How the chatter page behaves in the browser (sent to it in `/api/public/config`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatterPageConfig {
    /// Drop the resume token when the page is left (`pagehide`), so Back never resumes.
    pub forget_on_pagehide: bool,
    /// What Escape does: always exit, exit unless the message box has text, or nothing.
    pub escape_key: EscapeKey,
}

#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EscapeKey {
    Always,
    UnlessTyping,
    Off,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub bind: String,
    pub data_dir: PathBuf,
    pub allowed_origins: Vec<String>,
    pub frame_ancestors: Vec<String>,
    pub web_dir: String,
    pub shutdown_grace_secs: u64,
    /// The origin browsers reach Haven at (`https://chat.example.org`); empty: the bound
    /// address (set at start). Origin checks use it, never the `Host` header.
    pub public_origin: String,
    /// Milliseconds a staff request waits for the database before `503 store_unavailable`.
    pub store_wait_ms: u64,
    /// PEM certificate chain for Haven's own TLS; empty (with `tls_key_file`): plain HTTP,
    /// for a reverse proxy to terminate TLS. Both files are read again on SIGHUP.
    pub tls_cert_file: String,
    /// PEM private key for `tls_cert_file`.
    pub tls_key_file: String,
}

impl ServerConfig {
    pub fn tls_enabled(&self) -> bool {
        !self.tls_cert_file.is_empty()
    }

    /// Fills in an empty `public_origin` from the address actually bound (for development).
    pub fn resolve_public_origin(&mut self, local: std::net::SocketAddr) {
        if self.public_origin.is_empty() {
            if !local.ip().is_loopback() {
                tracing::warn!(
                    "server.public_origin is not set: browsers must use http://{local}; set it to the address people open (e.g. https://chat.example.org)"
                );
            }
            let scheme = if self.tls_enabled() { "https" } else { "http" };
            self.public_origin = format!("{scheme}://{local}");
        }
    }

    /// Haven's own origins: the public one, and its `localhost` twin when it is a loopback
    /// address (development).
    pub fn own_origins(&self) -> Vec<String> {
        let mut origins = vec![self.public_origin.clone()];
        if let Some(port) = self.public_origin.strip_prefix("http://127.0.0.1:") {
            origins.push(format!("http://localhost:{port}"));
        }
        origins
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramConfig {
    pub name: String,
    pub page_title: String,
    pub emergency: String,
    pub hotline_phone: String,
    pub hotline_text: String,
    pub offline_note: String,
    pub mandated_reporting: String,
    pub quick_exit_url: String,
    pub languages: Vec<String>,
    /// The number the emergency line's `tel:` link dials (e.g. "911").
    pub emergency_number: String,
    /// The number the hotline's `sms:` link texts, and the message it starts with.
    pub hotline_sms: String,
    pub hotline_sms_body: String,
    /// `[program.text.<lang>]`: the texts above in other languages (see `program_text`).
    #[serde(default)]
    pub text: std::collections::BTreeMap<String, crate::program_text::ProgramText>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatConfig {
    pub max_message_bytes: usize,
    pub max_chats_per_advocate: usize,
    pub auto_assign: bool,
    pub resume_grace_secs: u64,
    pub purge_interval_secs: u64,
    pub retention_after_close_secs: u64,
    pub max_transcript_messages: usize,
    pub max_transcript_bytes: usize,
    pub max_waiting: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub ws_max_message_bytes: usize,
    pub ws_read_buffer_bytes: usize,
    pub ws_chatter_read_buffer_bytes: usize,
    pub ws_max_write_buffer_bytes: usize,
    pub outbound_queue_frames: usize,
    pub rate_burst: u32,
    pub rate_per_sec: u32,
    pub rate_violations_before_close: u32,
    pub idle_timeout_secs: u64,
    pub max_chatter_connections: usize,
}

/// Abuse resistance: connection hygiene, anonymous per-client limits, memory bounds, metrics.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectionConfig {
    pub hello_timeout_secs: u64,
    /// Leading zero bits a `hello` must prove work for (0: off). See `abuse::proof`.
    pub hello_proof_of_work_bits: u8,
    pub followup_timeout_secs: u64,
    pub waiting_grace_secs: u64,
    pub max_connections: usize,
    pub max_connections_per_client: usize,
    pub header_read_timeout_secs: u64,
    pub write_timeout_secs: u64,
    pub close_timeout_secs: u64,
    pub stall_notice_ms: u64,
    pub max_sockets_per_client: usize,
    pub new_chats_per_client_per_minute: u32,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub client_ip_header: String,
    pub transcript_memory_budget_bytes: usize,
    pub metrics_bind: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub session_idle_minutes: u64,
    pub session_absolute_hours: u64,
    pub secure_cookies: bool,
    pub max_failed_logins_per_minute: u32,
    /// Seconds between an open console's checks that its staff session still exists.
    pub console_session_check_secs: u64,
    pub audit_retention_days: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceHoursConfig {
    pub utc_offset_minutes: i32,
    pub windows: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    pub id: String,
    pub name: String,
    pub languages: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CannedResponse {
    pub title: String,
    pub text: String,
    /// The language it is written in (a tag such as "es"); the console offers it only in chats
    /// in that language. Absent: offered in every chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl Config {
    /// The embedded layers: `config/default.toml`, then `config/forms.toml`.
    fn defaults() -> Figment {
        Figment::from(Toml::string(DEFAULT_TOML)).merge(Toml::string(FORMS_TOML))
    }

    /// The embedded defaults alone (what `cargo run` uses with no file and no environment).
    pub fn embedded_defaults() -> Config {
        let config: Config = Self::defaults()
            .extract()
            .expect("the embedded config/default.toml is valid");
        config
    }

    /// Defaults, then `file`, then `HAVEN_…` environment variables; validated.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Self::defaults();
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Parse(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(Env::prefixed("HAVEN_").ignore(&["CONFIG"]).split("__"));
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// The defaults overlaid with one TOML document, validated (no file, no environment): what
    /// the fuzz targets and the randomized parser tests feed.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let config: Config = Self::defaults()
            .merge(Toml::string(text))
            .extract()
            .map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_are_valid() {
        Config::embedded_defaults().validate().unwrap();
    }

    #[test]
    fn a_misspelt_log_level_is_refused_and_named() {
        let mut config = Config::embedded_defaults();
        for bad in ["infoo", "haven=verbose", "", "haven"] {
            config.log.level = bad.into();
            let error = config.validate().unwrap_err().to_string();
            assert!(error.contains("log.level"), "{bad}: {error}");
        }
        for good in [
            "info",
            "haven=debug,info",
            "WARN",
            "tower_http::trace=debug",
        ] {
            config.log.level = good.into();
            config.validate().unwrap();
        }
    }

    #[test]
    fn a_bad_frame_ancestor_names_its_own_key() {
        let mut config = Config::embedded_defaults();
        config.server.frame_ancestors = vec!["example.org/".into()];
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("server.frame_ancestors"), "{error}");
    }

    #[test]
    fn a_zero_limit_names_its_key() {
        let mut config = Config::embedded_defaults();
        config.chat.max_message_bytes = 0;
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("chat.max_message_bytes"), "{error}");
    }
}
