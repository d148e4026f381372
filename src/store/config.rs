//! The `[store]` section: which database holds the staff side of Haven. Empty
//! `postgres_url`: the embedded SQLite file in `server.data_dir` (the default, no service to
//! run). A URL: a PostgreSQL database that several Haven nodes may share (docs/cluster.md).
//!
//! The password never appears in `Debug` output or a log: [`StoreConfig`]'s `Debug` shows the
//! URL with its password replaced, and the password file's path, never its content.

use std::{fmt, path::PathBuf, str::FromStr};

use serde::Deserialize;

/// `store.postgres_tls`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum PostgresTls {
    /// Plain TCP (a database on the same host or a private network).
    #[default]
    Disable,
    /// TLS or no connection. With `postgres_ca_file` the server's certificate and host name
    /// are verified against that CA; without it the link is encrypted but the server is not
    /// authenticated (as libpq's `sslmode=require`), and Haven warns at start.
    Require,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `postgres://user@host:port/database`; empty: embedded SQLite.
    pub postgres_url: String,
    /// A file holding the password (one line), so it is neither in the URL nor in the
    /// environment; empty: the URL's password, if any.
    pub postgres_password_file: PathBuf,
    pub postgres_tls: PostgresTls,
    /// PEM CA certificate(s) the server's certificate must chain to (with `require`).
    pub postgres_ca_file: PathBuf,
    /// Connections each node keeps to PostgreSQL at most.
    pub postgres_pool_size: u32,
}

impl StoreConfig {
    pub fn uses_postgres(&self) -> bool {
        !self.postgres_url.trim().is_empty()
    }

    /// The URL parsed; its errors name no part of the URL (it may hold a password).
    pub fn postgres_config(&self) -> Result<postgres::Config, String> {
        postgres::Config::from_str(self.postgres_url.trim()).map_err(|e| {
            format!("not a PostgreSQL URL such as postgres://haven@db.example.org:5432/haven ({e})")
        })
    }

    /// The checks that need no network, for `Config::validate`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !self.uses_postgres() {
            return Ok(());
        }
        let config = self
            .postgres_config()
            .map_err(|reason| ("store.postgres_url", reason))?;
        if config.get_hosts().is_empty() {
            return Err((
                "store.postgres_url",
                "names no host: give one, e.g. postgres://haven@127.0.0.1:5432/haven".into(),
            ));
        }
        if config.get_dbname().is_none() {
            return Err((
                "store.postgres_url",
                "names no database: end it with /DATABASE".into(),
            ));
        }
        if self.postgres_tls == PostgresTls::Disable
            && !self.postgres_ca_file.as_os_str().is_empty()
        {
            return Err((
                "store.postgres_ca_file",
                "is only used with store.postgres_tls = \"require\"".into(),
            ));
        }
        if !(1..=100).contains(&self.postgres_pool_size) {
            return Err(("store.postgres_pool_size", "must be 1 to 100".into()));
        }
        Ok(())
    }
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("postgres_url", &redact_url(&self.postgres_url))
            .field("postgres_password_file", &self.postgres_password_file)
            .field("postgres_tls", &self.postgres_tls)
            .field("postgres_ca_file", &self.postgres_ca_file)
            .field("postgres_pool_size", &self.postgres_pool_size)
            .finish()
    }
}

/// The URL with the password of `user:password@` and any `password=` parameter replaced.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest = &out[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                let start = scheme_end + 3 + colon + 1;
                out.replace_range(start..scheme_end + 3 + at, "***");
            }
        }
    }
    if let Some(query) = out.find('?') {
        let (head, params) = out.split_at(query + 1);
        let params: Vec<String> = params
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_owned(),
            })
            .collect();
        out = format!("{head}{}", params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_url(url: &str) -> StoreConfig {
        StoreConfig {
            postgres_url: url.into(),
            postgres_password_file: PathBuf::new(),
            postgres_tls: PostgresTls::Disable,
            postgres_ca_file: PathBuf::new(),
            postgres_pool_size: 8,
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        for url in [
            "postgres://haven:s3cret-pw@db:5432/haven",
            "postgres://haven@db/haven?password=s3cret-pw&sslmode=disable",
            "postgresql://haven:s3cret-pw@db/haven?password=s3cret-pw",
        ] {
            let shown = format!("{:?}", with_url(url));
            assert!(!shown.contains("s3cret-pw"), "{shown}");
            assert!(shown.contains("haven"), "{shown}");
        }
    }

    #[test]
    fn validation_names_the_bad_key() {
        assert!(with_url("").validate().is_ok());
        assert!(with_url("postgres://haven@db/haven").validate().is_ok());
        assert_eq!(
            with_url("postgres://haven@db").validate().unwrap_err().0,
            "store.postgres_url"
        );
        assert_eq!(
            with_url("nonsense://x y").validate().unwrap_err().0,
            "store.postgres_url"
        );
        let mut ca_without_tls = with_url("postgres://haven@db/haven");
        ca_without_tls.postgres_ca_file = "ca.pem".into();
        assert_eq!(
            ca_without_tls.validate().unwrap_err().0,
            "store.postgres_ca_file"
        );
    }
}
