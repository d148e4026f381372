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

use crate::hub::hours::ServiceHours;

/// The defaults, compiled in so that `cargo run` needs no file on disk.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");
/// The voluntary forms and statistics settings, a second embedded layer under the same keys.
pub const FORMS_TOML: &str = include_str!("../config/forms.toml");

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

    /// Checks what serde cannot: ranges, formats and cross-field rules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        fn positive(key: &'static str, value: u64) -> Result<(), ConfigError> {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    key,
                    reason: "must be greater than 0".into(),
                });
            }
            Ok(())
        }
        let c = &self.chat;
        positive("chat.max_message_bytes", c.max_message_bytes as u64)?;
        positive(
            "chat.max_chats_per_advocate",
            c.max_chats_per_advocate as u64,
        )?;
        positive("chat.resume_grace_secs", c.resume_grace_secs)?;
        positive("chat.purge_interval_secs", c.purge_interval_secs)?;
        positive(
            "chat.max_transcript_messages",
            c.max_transcript_messages as u64,
        )?;
        positive("chat.max_transcript_bytes", c.max_transcript_bytes as u64)?;
        positive("chat.max_waiting", c.max_waiting as u64)?;
        let l = &self.limits;
        positive("limits.ws_max_message_bytes", l.ws_max_message_bytes as u64)?;
        positive("limits.ws_read_buffer_bytes", l.ws_read_buffer_bytes as u64)?;
        positive(
            "limits.ws_chatter_read_buffer_bytes",
            l.ws_chatter_read_buffer_bytes as u64,
        )?;
        positive(
            "limits.outbound_queue_frames",
            l.outbound_queue_frames as u64,
        )?;
        positive("limits.rate_burst", l.rate_burst.into())?;
        positive("limits.rate_per_sec", l.rate_per_sec.into())?;
        positive("limits.idle_timeout_secs", l.idle_timeout_secs)?;
        positive(
            "limits.max_chatter_connections",
            l.max_chatter_connections as u64,
        )?;
        positive(
            "auth.console_session_check_secs",
            self.auth.console_session_check_secs,
        )?;
        let p = &self.protection;
        positive("protection.hello_timeout_secs", p.hello_timeout_secs)?;
        if p.hello_proof_of_work_bits > MAX_PROOF_BITS {
            return Err(ConfigError::Invalid {
                key: "protection.hello_proof_of_work_bits",
                reason: format!(
                    "at most {MAX_PROOF_BITS} (each bit doubles the work of every chatter's phone)"
                ),
            });
        }
        positive("protection.followup_timeout_secs", p.followup_timeout_secs)?;
        positive("protection.waiting_grace_secs", p.waiting_grace_secs)?;
        positive(
            "protection.header_read_timeout_secs",
            p.header_read_timeout_secs,
        )?;
        positive("protection.write_timeout_secs", p.write_timeout_secs)?;
        positive("protection.close_timeout_secs", p.close_timeout_secs)?;
        positive(
            "protection.max_connections_per_client",
            p.max_connections_per_client as u64,
        )?;
        positive(
            "protection.max_sockets_per_client",
            p.max_sockets_per_client as u64,
        )?;
        positive(
            "protection.new_chats_per_client_per_minute",
            p.new_chats_per_client_per_minute.into(),
        )?;
        if p.transcript_memory_budget_bytes < c.max_transcript_bytes {
            return Err(ConfigError::Invalid {
                key: "protection.transcript_memory_budget_bytes",
                reason: "must hold at least one full transcript (chat.max_transcript_bytes)".into(),
            });
        }
        if !p.metrics_bind.is_empty() {
            p.metrics_bind
                .parse::<std::net::SocketAddr>()
                .map_err(|e| ConfigError::Invalid {
                    key: "protection.metrics_bind",
                    reason: format!("expected an address such as 127.0.0.1:9100, or empty ({e})"),
                })?;
        }
        if http::HeaderName::from_bytes(p.client_ip_header.as_bytes()).is_err() {
            return Err(ConfigError::Invalid {
                key: "protection.client_ip_header",
                reason: "not a valid HTTP header name".into(),
            });
        }
        positive("auth.session_idle_minutes", self.auth.session_idle_minutes)?;
        positive(
            "auth.session_absolute_hours",
            self.auth.session_absolute_hours,
        )?;
        positive(
            "auth.max_failed_logins_per_minute",
            self.auth.max_failed_logins_per_minute.into(),
        )?;
        positive("auth.audit_retention_days", self.auth.audit_retention_days)?;
        positive("server.store_wait_ms", self.server.store_wait_ms)?;
        self.store
            .validate()
            .map_err(|(key, reason)| ConfigError::Invalid { key, reason })?;
        if self.server.tls_cert_file.is_empty() != self.server.tls_key_file.is_empty() {
            let key = if self.server.tls_cert_file.is_empty() {
                "server.tls_cert_file"
            } else {
                "server.tls_key_file"
            };
            return Err(ConfigError::Invalid {
                key,
                reason: "TLS needs both server.tls_cert_file and server.tls_key_file".into(),
            });
        }
        if self.server.tls_enabled() && self.server.public_origin.starts_with("http://") {
            return Err(ConfigError::Invalid {
                key: "server.public_origin",
                reason: "Haven serves TLS itself (server.tls_cert_file), so browsers reach it at https://".into(),
            });
        }
        if !self.server.public_origin.is_empty() {
            check_origin("server.public_origin", &self.server.public_origin)?;
        }
        if l.ws_max_message_bytes < c.max_message_bytes + 512 {
            return Err(ConfigError::Invalid {
                key: "limits.ws_max_message_bytes",
                reason: "must leave room for a message of chat.max_message_bytes plus its JSON framing (at least 512 bytes more)".into(),
            });
        }
        // A whole transcript goes out as one `assigned` frame; JSON escaping can at most
        // double it (control characters are replaced before they are stored).
        let largest_frame = 2 * c.max_transcript_bytes + 65_536;
        if l.ws_max_write_buffer_bytes < largest_frame {
            return Err(ConfigError::Invalid {
                key: "limits.ws_max_write_buffer_bytes",
                reason: format!(
                    "must be at least twice chat.max_transcript_bytes plus 64 KiB ({largest_frame}), so a whole transcript fits in one frame"
                ),
            });
        }
        self.server
            .bind
            .parse::<std::net::SocketAddr>()
            .map_err(|e| ConfigError::Invalid {
                key: "server.bind",
                reason: format!("expected an address such as 127.0.0.1:8080 ({e})"),
            })?;
        for origin in &self.server.allowed_origins {
            check_origin("server.allowed_origins", origin)?;
        }
        for origin in &self.server.frame_ancestors {
            check_origin("server.frame_ancestors", origin)?;
        }
        if self.queues.is_empty() {
            return Err(ConfigError::Invalid {
                key: "queues",
                reason: "configure at least one [[queues]]".into(),
            });
        }
        let mut seen = std::collections::HashSet::new();
        for queue in &self.queues {
            if queue.id.is_empty() || !seen.insert(queue.id.as_str()) {
                return Err(ConfigError::Invalid {
                    key: "queues.id",
                    reason: format!("queue ids must be non-empty and unique (`{}`)", queue.id),
                });
            }
        }
        if self.program.languages.is_empty() {
            return Err(ConfigError::Invalid {
                key: "program.languages",
                reason: "list at least one language".into(),
            });
        }
        let p = &self.program;
        if !(p.quick_exit_url.starts_with("https://") || p.quick_exit_url.starts_with("http://")) {
            return Err(ConfigError::Invalid {
                key: "program.quick_exit_url",
                reason: "must be an http:// or https:// address".into(),
            });
        }
        let dialable = |s: &str| s.chars().all(|c| c.is_ascii_digit() || c == '+');
        if !dialable(&p.emergency_number) || !dialable(&p.hotline_sms) {
            return Err(ConfigError::Invalid {
                key: "program.emergency_number",
                reason: "program.emergency_number and program.hotline_sms hold digits (and +) only, or are empty".into(),
            });
        }
        if self.service_hours.utc_offset_minutes.abs() > 14 * 60 {
            return Err(ConfigError::Invalid {
                key: "service_hours.utc_offset_minutes",
                reason: "must be within ±840 minutes".into(),
            });
        }
        ServiceHours::parse(
            &self.service_hours.windows,
            self.service_hours.utc_offset_minutes,
        )
        .map_err(|reason| ConfigError::Invalid {
            key: "service_hours.windows",
            reason,
        })?;
        self.forms.validate(&self.program.languages)?;
        if self.stats.suppress_below < 5 {
            return Err(ConfigError::Invalid {
                key: "stats.suppress_below",
                reason: "must be at least 5: smaller counts could point at a person".into(),
            });
        }
        if !(1..=12).contains(&self.stats.fiscal_year_start_month) {
            return Err(ConfigError::Invalid {
                key: "stats.fiscal_year_start_month",
                reason: "must be a month number from 1 to 12".into(),
            });
        }
        positive("stats.flush_secs", self.stats.flush_secs)?;
        check_log_level(&self.log.level).map_err(|reason| ConfigError::Invalid {
            key: "log.level",
            reason,
        })?;
        Ok(())
    }
}

fn check_origin(key: &'static str, origin: &str) -> Result<(), ConfigError> {
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    let fine = rest.is_some_and(|host| {
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
    });
    if !fine {
        return Err(ConfigError::Invalid {
            key,
            reason: format!(
                "`{origin}` is not an origin such as https://example.org (scheme and host, no path)"
            ),
        });
    }
    Ok(())
}

/// A tracing filter of comma-separated `level` or `target=level` directives. Stricter than
/// `EnvFilter`, which takes a misspelt level as a target name and silences every line.
fn check_log_level(filter: &str) -> Result<(), String> {
    const LEVELS: &[&str] = &["off", "error", "warn", "info", "debug", "trace"];
    let level_ok = |l: &str| LEVELS.contains(&l.to_ascii_lowercase().as_str());
    if filter.trim().is_empty() {
        return Err("is empty; use e.g. \"info\" or \"haven=debug,info\"".into());
    }
    for directive in filter.split(',').map(str::trim) {
        let ok = match directive.split_once('=') {
            None => level_ok(directive),
            Some((target, level)) => {
                !target.is_empty()
                    && target
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                    && level_ok(level)
            }
        };
        if !ok {
            return Err(format!(
                "`{directive}` is not a level (off, error, warn, info, debug, trace) or target=level"
            ));
        }
    }
    Ok(())
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
