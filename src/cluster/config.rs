//! The `[cluster]` section: empty `nats_url` is one node on its own (the default); a URL turns
//! cluster mode on, with the store on PostgreSQL (docs/cluster.md).
//!
//! Secrets (the NATS password or token) are read from files, never from this section, so they
//! appear in no environment listing or log.

use std::{path::PathBuf, time::Duration};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// `nats://host:4222` (several, comma-separated); empty: no cluster.
    pub nats_url: String,
    /// The start of every subject this cluster uses, so that several clusters (or test runs)
    /// share one NATS server without hearing each other. Also names the coordinator lock.
    pub subject_prefix: String,
    /// How this node calls itself in logs and `/healthz`; empty: the host name.
    pub node_name: String,
    /// NATS user name; its password is the first line of `nats_password_file`.
    pub nats_user: String,
    pub nats_password_file: PathBuf,
    /// A file holding a NATS token (instead of user and password).
    pub nats_token_file: PathBuf,
    /// Require TLS to NATS.
    pub nats_tls: bool,
    /// PEM CA certificate(s) the NATS server's certificate must chain to.
    pub nats_ca_file: PathBuf,
    /// How often each node says it is alive (milliseconds).
    pub heartbeat_ms: u64,
    /// Silence after which a node counts as gone (milliseconds): its sockets are dropped, and
    /// a silent coordinator is replaced.
    pub node_timeout_ms: u64,
}

impl Default for ClusterConfig {
    fn default() -> ClusterConfig {
        ClusterConfig {
            nats_url: String::new(),
            subject_prefix: "haven".into(),
            node_name: String::new(),
            nats_user: String::new(),
            nats_password_file: PathBuf::new(),
            nats_token_file: PathBuf::new(),
            nats_tls: false,
            nats_ca_file: PathBuf::new(),
            heartbeat_ms: 500,
            node_timeout_ms: 2500,
        }
    }
}

impl ClusterConfig {
    pub fn enabled(&self) -> bool {
        !self.nats_url.trim().is_empty()
    }

    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms)
    }

    pub fn node_timeout(&self) -> Duration {
        Duration::from_millis(self.node_timeout_ms)
    }

    /// Checks what serde cannot; the error names its key.
    pub fn validate(&self, uses_postgres: bool) -> Result<(), (&'static str, String)> {
        if !self.enabled() {
            return Ok(());
        }
        if !uses_postgres {
            return Err((
                "cluster.nats_url",
                "is set but store.postgres_url is not: every node of a cluster shares one PostgreSQL database".into(),
            ));
        }
        let word = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !self.subject_prefix.split('.').all(word) {
            return Err((
                "cluster.subject_prefix",
                "is one or more dot-separated words of letters, digits, '_' and '-'".into(),
            ));
        }
        if !(50..=10_000).contains(&self.heartbeat_ms) {
            return Err(("cluster.heartbeat_ms", "is 50 to 10000".into()));
        }
        if self.node_timeout_ms < 3 * self.heartbeat_ms {
            return Err((
                "cluster.node_timeout_ms",
                "is at least three heartbeats (cluster.heartbeat_ms)".into(),
            ));
        }
        let password = !self.nats_password_file.as_os_str().is_empty();
        if password && !self.nats_token_file.as_os_str().is_empty() {
            return Err((
                "cluster.nats_token_file",
                "set this or cluster.nats_password_file, not both".into(),
            ));
        }
        if password && self.nats_user.is_empty() {
            return Err((
                "cluster.nats_user",
                "is needed with cluster.nats_password_file".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::ClusterConfig;

    fn on() -> ClusterConfig {
        ClusterConfig {
            nats_url: "nats://127.0.0.1:4222".into(),
            ..ClusterConfig::default()
        }
    }

    #[test]
    fn off_by_default_and_then_nothing_is_checked() {
        assert!(!ClusterConfig::default().enabled());
        assert!(ClusterConfig::default().validate(false).is_ok());
    }

    #[test]
    fn a_cluster_needs_the_shared_database() {
        let (key, reason) = on().validate(false).unwrap_err();
        assert_eq!(key, "cluster.nats_url");
        assert!(reason.contains("store.postgres_url"), "{reason}");
        assert!(on().validate(true).is_ok());
    }

    #[test]
    fn bad_prefixes_timings_and_credentials_are_refused_naming_the_key() {
        for prefix in ["", "a..b", "has space", "wild.*", "gt.>"] {
            let config = ClusterConfig {
                subject_prefix: prefix.into(),
                ..on()
            };
            assert_eq!(
                config.validate(true).unwrap_err().0,
                "cluster.subject_prefix"
            );
        }
        let slow = ClusterConfig {
            node_timeout_ms: 1000,
            ..on()
        };
        assert_eq!(
            slow.validate(true).unwrap_err().0,
            "cluster.node_timeout_ms"
        );
        let both = ClusterConfig {
            nats_user: "haven".into(),
            nats_password_file: "/run/pw".into(),
            nats_token_file: "/run/token".into(),
            ..on()
        };
        assert_eq!(
            both.validate(true).unwrap_err().0,
            "cluster.nats_token_file"
        );
        let no_user = ClusterConfig {
            nats_password_file: "/run/pw".into(),
            ..on()
        };
        assert_eq!(no_user.validate(true).unwrap_err().0, "cluster.nats_user");
    }
}
