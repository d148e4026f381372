//! The checks serde cannot make on the configuration: ranges, formats and cross-field rules,
//! each refusal naming its key.

use super::{Config, ConfigError, MAX_PROOF_BITS};
use crate::hub::hours::ServiceHours;

impl Config {
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
        self.cluster
            .validate(self.store.uses_postgres())
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
