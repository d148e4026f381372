//! Staff authentication: password login with throttling that cannot be turned against staff,
//! sessions in a cookie with idle and absolute lifetimes, revocation that takes effect in
//! memory at once, and password changes.

mod checker;
pub mod clock;
pub mod cookie;
mod device;
pub mod revoked;
pub mod second_factor;
mod throttle;

use std::{
    net::IpAddr,
    sync::{Arc, RwLock},
    time::Duration,
};

use uuid::Uuid;

use crate::{
    audit::Audit,
    config::AuthConfig,
    staff::Role,
    store::{password, SessionRow, StaffChange, Store, StoreError},
};
use checker::{Checker, Lane};
pub use clock::Clock;
use revoked::Revocations;
use throttle::Throttle;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("The user name or password is wrong.")]
    InvalidCredentials,
    #[error("Too many failed logins. Wait a little and try again.")]
    TooManyAttempts { retry_after: Duration },
    #[error("Haven is busy checking other logins. Try again in a moment.")]
    Busy,
    #[error("{0}")]
    WeakPassword(&'static str),
    #[error("Enter the code from your authenticator app, or a recovery code.")]
    SecondFactorRequired,
    #[error("That code is wrong or was used already.")]
    InvalidSecondFactor,
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
}

/// One login attempt as the HTTP layer hands it over.
pub struct LoginAttempt {
    pub username: String,
    pub password: zeroize::Zeroizing<String>,
    /// The peer address: only ever hashed with a rotating in-memory secret, never kept.
    pub source: IpAddr,
    /// The device cookie this browser presented, if any.
    pub device_cookie: Option<String>,
    /// A TOTP code or a recovery code, for accounts with a second factor.
    pub second_factor: Option<String>,
}

pub struct LoggedIn {
    pub session: SessionRow,
    pub token: String,
    /// A fresh device cookie for this browser.
    pub device_cookie: String,
}

#[derive(Clone)]
pub struct Auth {
    pub store: Store,
    pub audit: Audit,
    pub clock: Clock,
    checker: Arc<Checker>,
    throttle: Arc<Throttle>,
    revoked: Arc<Revocations>,
    devices: Arc<device::DeviceKeys>,
    idle_secs: i64,
    absolute_secs: i64,
    audit_retention_secs: i64,
    /// Roles that must use a second factor (an admin setting, kept in the store).
    required_second_factor: Arc<RwLock<Vec<Role>>>,
    pub secure_cookies: bool,
}

/// The store's name for the setting of roles that must use a second factor.
const REQUIRE_2FA: &str = "require_2fa_roles";

impl Auth {
    /// Needs a tokio runtime (the audit writer starts here).
    pub fn new(store: Store, config: &AuthConfig, clock: Clock) -> Result<Auth, StoreError> {
        let device_key = store.server_key("device_cookie")?;
        let required = store
            .security_setting(REQUIRE_2FA)?
            .map(|roles| roles.split(',').filter_map(Role::parse).collect())
            .unwrap_or_default();
        Ok(Auth {
            audit: Audit::start(store.clone()),
            store,
            clock,
            throttle: Arc::new(Throttle::new(config.max_failed_logins_per_minute)),
            checker: Arc::new(Checker::new()),
            revoked: Arc::new(Revocations::default()),
            devices: Arc::new(device::DeviceKeys::new(device_key)),
            idle_secs: (config.session_idle_minutes * 60) as i64,
            absolute_secs: (config.session_absolute_hours * 3600) as i64,
            audit_retention_secs: (config.audit_retention_days * 24 * 3600) as i64,
            required_second_factor: Arc::new(RwLock::new(required)),
            secure_cookies: config.secure_cookies,
        })
    }

    /// Checks the password (on the password threads: Argon2 is deliberately slow) and starts a
    /// session. A missing or disabled account and a wrong password are indistinguishable, in
    /// answer and in time.
    pub async fn login(&self, attempt: LoginAttempt) -> Result<LoggedIn, AuthError> {
        let now = self.clock.now();
        let LoginAttempt {
            username,
            password,
            source,
            device_cookie,
            second_factor,
        } = attempt;
        let device = device_cookie
            .as_deref()
            .and_then(|cookie| self.devices.verify(&username, cookie));
        let mut keys = vec![self.throttle.source(source)];
        keys.push(match device {
            Some(nonce) => Throttle::device(nonce),
            None => self.throttle.account(&username),
        });
        let ticket = match self.throttle.reserve(keys) {
            Ok(ticket) => ticket,
            Err(refused) => {
                self.audit.login_failed(now, &username, "throttled");
                return Err(AuthError::TooManyAttempts {
                    retry_after: refused.retry_after,
                });
            }
        };
        if password.chars().count() > password::MAX_CHARS || username.len() > 256 {
            ticket.failed();
            self.audit.login_failed(now, &username, "too_long");
            return Err(AuthError::InvalidCredentials);
        }
        let name = username.clone();
        let account = self.store.call(move |s| s.staff_for_login(&name)).await?;
        let lane = if device.is_some() {
            Lane::Known
        } else {
            Lane::Other
        };
        let hash = account.as_ref().map(|(_, h)| h.clone());
        let ok = self
            .checker
            .run(lane, move || password::verify(&password, hash.as_deref()))
            .await
            .map_err(|checker::Busy| AuthError::Busy)?;
        let staff = match account {
            Some((staff, _)) if ok => staff,
            _ => {
                ticket.failed();
                self.audit.login_failed(now, &username, "wrong_credentials");
                tracing::info!("failed staff login");
                return Err(AuthError::InvalidCredentials);
            }
        };
        let staff_id = staff.id;
        let totp = self.store.call(move |s| s.totp(staff_id)).await?;
        if let Some((secret, _)) = totp {
            let Some(code) = second_factor else {
                // The password was right; the ticket is let go without counting a failure.
                drop(ticket);
                return Err(AuthError::SecondFactorRequired);
            };
            let used = if second_factor::is_recovery_code(&code) {
                let ok = self
                    .store
                    .call(move |s| s.use_recovery_code(staff_id, &code))
                    .await?;
                if ok {
                    self.audit
                        .record(now, Some(staff_id), "recovery_code_used", None, None);
                }
                ok
            } else {
                match second_factor::matching_step(&secret, &code, now.max(0) as u64) {
                    Some(step) => {
                        self.store
                            .call(move |s| s.use_totp_step(staff_id, step))
                            .await?
                    }
                    None => false,
                }
            };
            if !used {
                ticket.failed();
                self.audit
                    .login_failed(now, &username, "wrong_second_factor");
                return Err(AuthError::InvalidSecondFactor);
            }
        }
        ticket.succeeded();
        let (idle, absolute) = (self.idle_secs, self.absolute_secs);
        let (token, session) = self
            .store
            .call(move |s| {
                let token = s.create_session(staff_id, now, idle, absolute)?;
                let session = s.session_staff(&token, now, idle, absolute)?;
                Ok((token, session))
            })
            .await?;
        let mut session = session.ok_or(AuthError::InvalidCredentials)?;
        session.needs_second_factor =
            !session.totp_enabled && self.requires_second_factor(session.staff.role);
        self.audit.record(now, Some(staff.id), "login", None, None);
        Ok(LoggedIn {
            session,
            token,
            device_cookie: self.devices.issue(&staff.username),
        })
    }

    /// The live session behind a token: refused at once when revoked in memory, then judged by
    /// the database (idle and absolute lifetime, account enabled).
    pub async fn session(&self, token: String) -> Result<Option<SessionRow>, AuthError> {
        let hash = token_hash(&token);
        if self.revoked.is_session_revoked(&hash) {
            return Ok(None);
        }
        let now = self.clock.now();
        let (idle, absolute) = (self.idle_secs, self.absolute_secs);
        let row = self
            .store
            .call(move |s| s.session_staff(&token, now, idle, absolute))
            .await?;
        Ok(row
            .filter(|r| !self.revoked.is_staff_revoked(r.staff.id, r.created_at))
            .map(|mut r| {
                r.needs_second_factor =
                    !r.totp_enabled && self.requires_second_factor(r.staff.role);
                r
            }))
    }

    /// Whether `role` must use a second factor (the admin setting).
    pub fn requires_second_factor(&self, role: Role) -> bool {
        self.required_second_factor
            .read()
            .map(|roles| roles.contains(&role))
            .unwrap_or(true)
    }

    pub fn second_factor_roles(&self) -> Vec<Role> {
        self.required_second_factor
            .read()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Sets the roles that must use a second factor; stored first, then applied.
    pub async fn set_second_factor_roles(&self, roles: Vec<Role>) -> Result<(), AuthError> {
        let value = roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",");
        self.store
            .call(move |s| s.set_security_setting(REQUIRE_2FA, &value))
            .await?;
        if let Ok(mut required) = self.required_second_factor.write() {
            *required = roles;
        }
        Ok(())
    }

    /// Starts TOTP enrolment: a new secret waits until a code from it is entered.
    pub async fn start_second_factor(
        &self,
        session: &SessionRow,
        issuer: &str,
    ) -> Result<second_factor::Enrolment, AuthError> {
        let secret = second_factor::new_secret();
        let enrolment = second_factor::enrolment(&secret, issuer, &session.staff.username);
        let id = session.staff.id;
        self.store
            .call(move |s| s.set_totp_pending(id, &secret))
            .await?;
        Ok(enrolment)
    }

    /// Confirms enrolment with a code from the app; returns the ten recovery codes (shown once).
    pub async fn confirm_second_factor(
        &self,
        session: &SessionRow,
        code: &str,
    ) -> Result<Vec<String>, AuthError> {
        let id = session.staff.id;
        let pending = self
            .store
            .call(move |s| s.totp_pending(id))
            .await?
            .ok_or(AuthError::InvalidSecondFactor)?;
        let now = self.clock.now();
        let step = second_factor::matching_step(&pending, code, now.max(0) as u64)
            .ok_or(AuthError::InvalidSecondFactor)?;
        let codes = second_factor::recovery_codes();
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| crate::store::totp::recovery_hash(c))
            .collect();
        self.store
            .call(move |s| s.enable_totp(id, step, &hashes))
            .await?;
        self.audit.record(now, Some(id), "2fa_enabled", None, None);
        Ok(codes)
    }

    /// Removes an account's second factor (lost phone) and ends its sessions.
    pub async fn reset_second_factor(&self, id: Uuid) -> Result<(), AuthError> {
        self.revoked.revoke_staff(id, self.clock.now());
        self.store.call(move |s| s.clear_totp(id)).await?;
        Ok(())
    }

    /// Ends one session: in memory now, in the database as soon as it answers.
    pub async fn logout(&self, token: String, staff_id: Option<Uuid>) {
        let now = self.clock.now();
        self.revoked.revoke_session(token_hash(&token), now);
        if let Some(id) = staff_id {
            self.audit.record(now, Some(id), "logout", None, None);
        }
        let delete = token.clone();
        if let Err(error) = self.store.call(move |s| s.delete_session(&delete)).await {
            tracing::warn!(%error, "logout kept in memory; the database will catch up");
            // The memory holds the logout until the absolute lifetime; the database catches up
            // so that a restart does not bring the session back.
            let store = self.store.clone();
            tokio::spawn(async move {
                for _ in 0..60 {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    let token = token.clone();
                    if store.call(move |s| s.delete_session(&token)).await.is_ok() {
                        return;
                    }
                }
                tracing::error!("a logout could not be written to the database");
            });
        }
    }

    /// Ends every session of `staff_id` (disable, role change, password reset, revoke-all): in
    /// memory now, then in the database.
    pub async fn end_sessions_of(&self, staff_id: Uuid) -> Result<(), AuthError> {
        self.revoked.revoke_staff(staff_id, self.clock.now());
        self.store
            .call(move |s| s.delete_sessions_of(staff_id))
            .await?;
        Ok(())
    }

    /// Applies an admin's (or the person's own) change to an account; changes that alter
    /// what a session may do end that account's sessions at once.
    pub async fn change_staff(&self, id: Uuid, change: StaffChange) -> Result<(), AuthError> {
        let ends_sessions = matches!(
            change,
            StaffChange::Role(_) | StaffChange::Disabled(true) | StaffChange::Password { .. }
        );
        if let StaffChange::Password { password: new, .. } = &change {
            password::acceptable(new).map_err(weak)?;
        }
        if ends_sessions {
            // Memory first: the account is locked out even if the disk write fails below.
            self.revoked.revoke_staff(id, self.clock.now());
        }
        self.store
            .call(move |s| s.change_staff(id, &change))
            .await?;
        Ok(())
    }

    /// The person changes their own password (also how a temporary one is replaced). Every
    /// other session ends; a new session (a new id) is returned for this browser.
    pub async fn change_own_password(
        &self,
        session: &SessionRow,
        current: zeroize::Zeroizing<String>,
        new: zeroize::Zeroizing<String>,
    ) -> Result<String, AuthError> {
        password::acceptable(&new).map_err(weak)?;
        let id = session.staff.id;
        let hash = self.store.call(move |s| s.password_hash(id)).await?;
        let ok = self
            .checker
            .run(Lane::Known, move || {
                password::verify(&current, hash.as_deref())
            })
            .await
            .map_err(|checker::Busy| AuthError::Busy)?;
        if !ok {
            return Err(AuthError::InvalidCredentials);
        }
        self.change_staff(
            id,
            StaffChange::Password {
                password: new.to_string(),
                temporary: false,
            },
        )
        .await?;
        let now = self.clock.now();
        let (idle, absolute) = (self.idle_secs, self.absolute_secs);
        let token = self
            .store
            .call(move |s| s.create_session(id, now, idle, absolute))
            .await?;
        self.audit
            .record(now, Some(id), "password_changed", None, None);
        Ok(token)
    }

    /// Hears of revocations as they happen (for open console sockets).
    pub fn revocations(&self) -> tokio::sync::broadcast::Receiver<revoked::Revoked> {
        self.revoked.subscribe()
    }

    /// Forgets sessions that ran out, so the database keeps no stale tokens, and audit
    /// entries past `auth.audit_retention_days`.
    pub async fn delete_expired_sessions(&self) -> Result<usize, AuthError> {
        let now = self.clock.now();
        self.revoked.forget_before(now - self.absolute_secs);
        let audit_before = now - self.audit_retention_secs;
        Ok(self
            .store
            .call(move |s| {
                s.delete_audit_before(audit_before)?;
                s.delete_expired_sessions(now)
            })
            .await?)
    }

    /// The session cookie's Max-Age: the absolute lifetime (the server enforces idleness).
    pub fn session_max_age_secs(&self) -> i64 {
        self.absolute_secs
    }
}

fn weak(error: StoreError) -> AuthError {
    match error {
        StoreError::Invalid(reason) => AuthError::WeakPassword(reason),
        other => AuthError::Store(other),
    }
}

/// The SHA-256 of a session token (what the revocation set and the hub know sessions by).
pub fn token_hash(token: &str) -> [u8; 32] {
    cookie::login_id(token).0
}
