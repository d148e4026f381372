//! Staff authentication: password login, sessions in a cookie, failed-login throttling.

mod checker;
pub mod cookie;
mod throttle;

use std::sync::Arc;

use crate::{
    config::AuthConfig,
    staff::Staff,
    store::{password, Store, StoreError},
};
use throttle::Throttle;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("The user name or password is wrong.")]
    InvalidCredentials,
    #[error("Too many failed logins for this user name. Wait a minute and try again.")]
    TooManyAttempts,
    #[error("Haven is busy checking other logins. Try again in a moment.")]
    Busy,
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    #[error("a background task failed")]
    Join(#[from] tokio::task::JoinError),
}

#[derive(Clone)]
pub struct Auth {
    store: Store,
    checker: Arc<checker::Checker>,
    throttle: Arc<Throttle>,
    ttl_secs: i64,
    pub secure_cookies: bool,
}

impl Auth {
    pub fn new(store: Store, config: &AuthConfig) -> Auth {
        Auth {
            store,
            throttle: Arc::new(Throttle::new(config.max_failed_logins_per_minute)),
            checker: Arc::new(checker::Checker::new()),
            ttl_secs: (config.session_ttl_hours * 3600) as i64,
            secure_cookies: config.secure_cookies,
        }
    }

    /// Checks the password (off the async threads: Argon2 is deliberately slow) and starts a
    /// session. A missing account and a wrong password are indistinguishable.
    pub async fn login(
        &self,
        username: String,
        password: String,
    ) -> Result<(Staff, String), AuthError> {
        let username_key = username.clone();
        if self.throttle.is_blocked(&username_key) {
            return Err(AuthError::TooManyAttempts);
        }
        let store = self.store.clone();
        let ttl = self.ttl_secs;
        let result = self
            .checker
            .run(move || {
                let account = store.staff_for_login(&username)?;
                let ok = password::verify(&password, account.as_ref().map(|(_, h)| h.as_str()));
                match account {
                    Some((staff, _)) if ok => {
                        let token = store.create_session(&staff, ttl)?;
                        Ok(Some((staff, token)))
                    }
                    _ => Ok::<_, StoreError>(None),
                }
            })
            .await
            .map_err(|checker::Busy| AuthError::Busy)??;
        match result {
            Some(found) => Ok(found),
            None => {
                self.throttle.record_failure(&username_key);
                tracing::info!("failed staff login");
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    /// The staff member behind a session token, if the session is live.
    pub async fn session(&self, token: String) -> Result<Option<Staff>, AuthError> {
        let store = self.store.clone();
        let ttl = self.ttl_secs;
        Ok(tokio::task::spawn_blocking(move || store.session_staff(&token, ttl)).await??)
    }

    pub async fn logout(&self, token: String) -> Result<(), AuthError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.delete_session(&token)).await??;
        Ok(())
    }

    /// Forgets sessions that ran out, so the database keeps no stale tokens.
    pub async fn delete_expired_sessions(&self) -> Result<usize, AuthError> {
        let store = self.store.clone();
        Ok(tokio::task::spawn_blocking(move || store.delete_expired_sessions()).await??)
    }

    pub fn session_ttl_secs(&self) -> i64 {
        self.ttl_secs
    }
}
