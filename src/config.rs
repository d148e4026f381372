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

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration could not be read: {0}")]
    Parse(String),
    #[error("configuration key `{key}` is invalid: {reason}")]
    Invalid { key: &'static str, reason: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub program: ProgramConfig,
    pub chat: ChatConfig,
    pub limits: LimitsConfig,
    pub auth: AuthConfig,
    pub service_hours: ServiceHoursConfig,
    pub log: LogConfig,
    pub queues: Vec<QueueConfig>,
    #[serde(default)]
    pub canned: Vec<CannedResponse>,
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
    pub ws_max_write_buffer_bytes: usize,
    pub outbound_queue_frames: usize,
    pub rate_burst: u32,
    pub rate_per_sec: u32,
    pub rate_violations_before_close: u32,
    pub idle_timeout_secs: u64,
    pub max_chatter_connections: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub session_ttl_hours: u64,
    pub secure_cookies: bool,
    pub max_failed_logins_per_minute: u32,
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
}

impl Config {
    /// The embedded defaults alone (what `cargo run` uses with no file and no environment).
    pub fn embedded_defaults() -> Config {
        let config: Config = Figment::from(Toml::string(DEFAULT_TOML))
            .extract()
            .expect("the embedded config/default.toml is valid");
        config
    }

    /// Defaults, then `file`, then `HAVEN_…` environment variables; validated.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Parse(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(Env::prefixed("HAVEN_").split("__"));
        let config: Config = figment
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
        positive("auth.session_ttl_hours", self.auth.session_ttl_hours)?;
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
        for origin in self
            .server
            .allowed_origins
            .iter()
            .chain(&self.server.frame_ancestors)
        {
            if !(origin.starts_with("http://") || origin.starts_with("https://"))
                || origin.ends_with('/')
                || origin.contains(char::is_whitespace)
                || origin.contains(';')
            {
                return Err(ConfigError::Invalid {
                    key: "server.allowed_origins",
                    reason: format!(
                        "`{origin}` is not an origin such as https://example.org (scheme and host, no path)"
                    ),
                });
            }
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
        tracing_subscriber::EnvFilter::try_new(&self.log.level).map_err(|e| {
            ConfigError::Invalid {
                key: "log.level",
                reason: e.to_string(),
            }
        })?;
        Ok(())
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
    fn a_zero_limit_names_its_key() {
        let mut config = Config::embedded_defaults();
        config.chat.max_message_bytes = 0;
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("chat.max_message_bytes"), "{error}");
    }
}
