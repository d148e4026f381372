//! Failed-login throttling that cannot be turned against staff (OWASP authentication and
//! credential-stuffing cheat sheets), in memory only.
//!
//! Three kinds of counter: per account (user name), per source (address) and per device
//! cookie. A login is judged by its source and either its account or, when it presents a valid
//! device cookie for that user name, that device alone: guesses from elsewhere slow the account
//! down for strangers but not for the browser the person always uses.
//!
//! A counter allows `limit` failures freely, then one attempt at a time after a back-off that
//! doubles with each failure (5 s, 10 s, 20 s … at most 15 minutes): never a hard lock. Attempts
//! still being checked count as failures until they finish, and the count is checked and
//! raised under one lock, so 32 parallel guesses cannot all pass a limit of 5. A source may also
//! have only a few checks in flight at once, so one sprayer cannot fill the shared queue of
//! password checks.
//!
//! Keys are keyed hashes: user names with a secret made at start, addresses (an IPv6 /64) with
//! a secret replaced every day. Neither secret nor any name or address is ever stored.

use std::{
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use dashmap::DashMap;
use rand::RngCore;
use sha2::{Digest, Sha256};

const FIRST_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// A counter with no failure for this long starts again from zero.
const FORGET_AFTER: Duration = Duration::from_secs(30 * 60);
/// How often the address secret changes (old counters are then forgotten).
const SOURCE_SECRET_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// A source (an office behind one address has several staff) may fail this many times the
/// account limit before its own back-off.
const SOURCE_FACTOR: u32 = 4;
/// Password checks one source may have waiting or running at once.
pub const SOURCE_MAX_IN_FLIGHT: u32 = 3;
/// Entries kept before old ones are swept.
const SWEEP_ABOVE: usize = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Account([u8; 32]),
    Source([u8; 32]),
    Device([u8; 16]),
}

#[derive(Debug, Clone, Copy)]
struct Counter {
    failures: u32,
    last_failure: Instant,
    in_flight: u32,
}

/// Refused for now; try again after `retry_after`.
#[derive(Debug, Clone, Copy)]
pub struct Refused {
    pub retry_after: Duration,
}

pub struct Throttle {
    name_secret: [u8; 32],
    source_secret: Mutex<([u8; 32], Instant)>,
    limit: u32,
    counters: DashMap<Key, Counter>,
}

fn random() -> [u8; 32] {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

fn backoff(failures: u32, limit: u32) -> Duration {
    if failures < limit {
        return Duration::ZERO;
    }
    let doublings = (failures - limit).min(16);
    (FIRST_BACKOFF * (1u32 << doublings)).min(MAX_BACKOFF)
}

impl Throttle {
    pub fn new(limit: u32) -> Throttle {
        Throttle {
            name_secret: random(),
            source_secret: Mutex::new((random(), Instant::now())),
            limit: limit.max(1),
            counters: DashMap::new(),
        }
    }

    pub fn account(&self, username: &str) -> Key {
        let mut hasher = Sha256::new();
        hasher.update(self.name_secret);
        hasher.update(username.to_lowercase().as_bytes());
        Key::Account(hasher.finalize().into())
    }

    pub fn source(&self, address: IpAddr) -> Key {
        let secret = {
            let mut guard = self.source_secret.lock().unwrap_or_else(|p| p.into_inner());
            if guard.1.elapsed() >= SOURCE_SECRET_LIFETIME {
                *guard = (random(), Instant::now());
            }
            guard.0
        };
        let mut hasher = Sha256::new();
        hasher.update(secret);
        match address {
            IpAddr::V4(v4) => hasher.update(v4.octets()),
            // One household or attacker usually holds a whole /64.
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => hasher.update(v4.octets()),
                None => hasher.update(&v6.octets()[..8]),
            },
        }
        Key::Source(hasher.finalize().into())
    }

    pub fn device(nonce: [u8; 16]) -> Key {
        Key::Device(nonce)
    }

    fn limit_of(&self, key: &Key) -> u32 {
        match key {
            Key::Source(_) => self.limit * SOURCE_FACTOR,
            _ => self.limit,
        }
    }

    /// Checks and raises one counter atomically.
    fn take(&self, key: Key) -> Result<(), Refused> {
        let limit = self.limit_of(&key);
        let now = Instant::now();
        let mut entry = self.counters.entry(key).or_insert(Counter {
            failures: 0,
            last_failure: now,
            in_flight: 0,
        });
        let counter = entry.value_mut();
        if counter.in_flight == 0 && now.duration_since(counter.last_failure) >= FORGET_AFTER {
            counter.failures = 0;
        }
        if matches!(key, Key::Source(_)) && counter.in_flight >= SOURCE_MAX_IN_FLIGHT {
            return Err(Refused {
                retry_after: Duration::from_secs(1),
            });
        }
        let free = counter.failures + counter.in_flight < limit;
        let waited = now.duration_since(counter.last_failure);
        let wait = backoff(counter.failures, limit);
        let probe = counter.in_flight == 0 && waited >= wait;
        if free || probe {
            counter.in_flight += 1;
            Ok(())
        } else {
            Err(Refused {
                retry_after: wait.saturating_sub(waited).max(Duration::from_secs(1)),
            })
        }
    }

    /// Reserves one password check for the given counters, or says how long to wait.
    pub fn reserve(&self, keys: Vec<Key>) -> Result<Ticket<'_>, Refused> {
        let mut taken = Vec::with_capacity(keys.len());
        for key in keys {
            if let Err(refused) = self.take(key) {
                for key in taken {
                    self.finish(key, Outcome::Abandoned);
                }
                return Err(refused);
            }
            taken.push(key);
        }
        if self.counters.len() > SWEEP_ABOVE {
            self.counters.retain(|_, c| {
                c.in_flight > 0 || c.last_failure.elapsed() < FORGET_AFTER.max(MAX_BACKOFF)
            });
        }
        Ok(Ticket {
            throttle: self,
            keys: taken,
        })
    }

    fn finish(&self, key: Key, outcome: Outcome) {
        if let Some(mut counter) = self.counters.get_mut(&key) {
            counter.in_flight = counter.in_flight.saturating_sub(1);
            match outcome {
                Outcome::Failed => {
                    counter.failures = counter.failures.saturating_add(1);
                    counter.last_failure = Instant::now();
                }
                // A person who got in has proven this account or device; the source keeps
                // its count (an attacker can own one account).
                Outcome::Succeeded if !matches!(key, Key::Source(_)) => counter.failures = 0,
                Outcome::Succeeded | Outcome::Abandoned => {}
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Outcome {
    Failed,
    Succeeded,
    Abandoned,
}

/// A reserved check; dropping it without an outcome (the check could not run) counts nothing.
pub struct Ticket<'a> {
    throttle: &'a Throttle,
    keys: Vec<Key>,
}

impl Ticket<'_> {
    pub fn failed(mut self) {
        self.end(Outcome::Failed);
    }

    pub fn succeeded(mut self) {
        self.end(Outcome::Succeeded);
    }

    fn end(&mut self, outcome: Outcome) {
        for key in std::mem::take(&mut self.keys) {
            self.throttle.finish(key, outcome);
        }
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.end(Outcome::Abandoned);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_reservations_cannot_pass_the_limit() {
        let t = Throttle::new(5);
        let sam = t.account("sam");
        let tickets: Vec<_> = (0..32).filter_map(|_| t.reserve(vec![sam]).ok()).collect();
        assert_eq!(tickets.len(), 5, "only the free attempts run at once");
        for ticket in tickets {
            ticket.failed();
        }
        let refused = t
            .reserve(vec![t.account("SAM")])
            .err()
            .expect("backing off");
        assert!(refused.retry_after >= Duration::from_secs(1));
        assert!(t.reserve(vec![t.account("alex")]).is_ok());
    }

    #[test]
    fn a_device_is_judged_by_its_own_failures() {
        let t = Throttle::new(2);
        let sam = t.account("sam");
        for _ in 0..4 {
            if let Ok(ticket) = t.reserve(vec![sam]) {
                ticket.failed();
            }
        }
        assert!(t.reserve(vec![sam]).is_err());
        let device = Throttle::device([1; 16]);
        t.reserve(vec![device])
            .expect("the device has no failures")
            .succeeded();
    }

    #[test]
    fn a_source_may_have_only_a_few_checks_in_flight() {
        let t = Throttle::new(100);
        let source = t.source("192.0.2.1".parse().unwrap());
        let held: Vec<_> = (0..10)
            .filter_map(|_| t.reserve(vec![source]).ok())
            .collect();
        assert_eq!(held.len() as u32, SOURCE_MAX_IN_FLIGHT);
        drop(held);
        assert!(t.reserve(vec![source]).is_ok(), "released when they finish");
        assert_ne!(source, t.source("192.0.2.2".parse().unwrap()));
    }

    #[test]
    fn back_off_doubles_and_is_capped() {
        assert_eq!(backoff(4, 5), Duration::ZERO);
        assert_eq!(backoff(5, 5), Duration::from_secs(5));
        assert_eq!(backoff(7, 5), Duration::from_secs(20));
        assert_eq!(backoff(60, 5), MAX_BACKOFF);
    }
}
