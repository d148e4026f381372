//! Scratch PostgreSQL databases for tests (the store's own and the integration tests): each a
//! fresh database with a random name on the server `TEST_POSTGRES_URL` names (default
//! [`DEFAULT_URL`]), dropped when the handle is dropped, also when the test fails. A server that
//! cannot be reached skips the test with a loud message, and fails it when `CI=true`.

use std::{io::Write, path::PathBuf};

use rand::RngCore;

use super::off_the_async_threads;
use crate::store::config::{PostgresTls, StoreConfig};

pub const URL_VAR: &str = "TEST_POSTGRES_URL";
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// A new empty database; `None` when no PostgreSQL answers (the caller skips), after a
    /// message on stderr. Panics when `CI=true`: CI has PostgreSQL, so a skip would hide a bug.
    pub fn create() -> Option<ScratchDatabase> {
        let admin_url = std::env::var(URL_VAR).unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let mut raw = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let name = format!("haven_test_{}", hex::encode(raw));
        let created = off_the_async_threads(|| {
            let mut client = admin_client(&admin_url)?;
            client.batch_execute(&format!("CREATE DATABASE {name}"))
        });
        if let Err(error) = created {
            let message = format!(
                "PostgreSQL at {} is not reachable ({error}): set {URL_VAR} to a server where this user may create databases",
                crate::store::config::redact_url(&admin_url)
            );
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{message} (CI=true: PostgreSQL tests may not be skipped)");
            }
            // Straight to stderr, past the test harness's capture: a skip must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "\n!!!!! SKIPPED a PostgreSQL test: {message}\n"
            );
            return None;
        }
        let url = with_database(&admin_url, &name);
        Some(ScratchDatabase {
            admin_url,
            name,
            url,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// `[store]` pointing at this database, plain TCP.
    pub fn store_config(&self) -> StoreConfig {
        StoreConfig {
            postgres_url: self.url.clone(),
            postgres_password_file: PathBuf::new(),
            postgres_tls: PostgresTls::Disable,
            postgres_ca_file: PathBuf::new(),
            postgres_pool_size: 4,
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A direct connection to this database. (A `postgres::Client` may not be dropped on an
    /// async thread either: use it on the blocking pool, or through [`ScratchDatabase::run`].)
    pub fn client(&self) -> Result<postgres::Client, postgres::Error> {
        off_the_async_threads(|| admin_client(&self.url))
    }

    /// Runs SQL on the server's administrative database (the test's `TEST_POSTGRES_URL`),
    /// e.g. `ALTER DATABASE` on this one; safe from any thread.
    pub fn run_as_admin(&self, sql: &str) -> Result<(), postgres::Error> {
        off_the_async_threads(|| admin_client(&self.admin_url)?.batch_execute(sql))
    }

    /// Runs SQL in this database; safe from any thread.
    pub fn run(&self, sql: &str) -> Result<(), postgres::Error> {
        off_the_async_threads(|| admin_client(&self.url)?.batch_execute(sql))
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let dropped = off_the_async_threads(|| {
            admin_client(&self.admin_url)?.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
        });
        if let Err(error) = dropped {
            eprintln!("scratch database {} was not dropped: {error}", self.name);
        }
    }
}

fn admin_client(url: &str) -> Result<postgres::Client, postgres::Error> {
    let mut config: postgres::Config = url.parse()?;
    config.connect_timeout(std::time::Duration::from_secs(3));
    config.connect(postgres::NoTls)
}

/// `url` with its database (the path) replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority_start..];
    let path_start = rest.find(['/', '?']).unwrap_or(rest.len());
    let query = rest[path_start..]
        .find('?')
        .map_or("", |q| &rest[path_start + q..]);
    format!("{}/{name}{query}", &url[..authority_start + path_start])
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_database_in_a_url_is_replaced() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
