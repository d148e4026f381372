//! Argon2id password hashes (the RustCrypto `argon2` crate, default parameters: 19 MiB, two
//! passes).
//!
//! Each check takes its own 19 MiB and frees it: the block is zeroed (like every freed block)
//! and its pages go back to the system (`crate::memory`), so logins leave no memory behind. (A
//! buffer kept per password thread, as before, held 38 MiB for good after the first two logins,
//! with password-derived bytes in it.)

use std::sync::OnceLock;

use argon2::{
    password_hash::{rand_core::OsRng, Output, PasswordHash, PasswordHasher, SaltString},
    Algorithm, Argon2, Params, Version,
};

use super::StoreError;

/// Shortest password accepted (ASVS v5 6.2.1).
pub const MIN_CHARS: usize = 12;
/// Longest password accepted, by `staff add`, the admin API and login alike (ASVS asks for
/// at least 64).
pub const MAX_CHARS: usize = 128;

/// Django's list of 20,000 common passwords (BSD licence, `common_passwords/LICENSE-django.txt`),
/// gzip-compressed: one lower-case password a line.
const COMMON_GZ: &[u8] = include_bytes!("common_passwords/common-passwords.txt.gz");

fn common_passwords() -> &'static std::collections::HashSet<String> {
    static SET: OnceLock<std::collections::HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        use std::io::Read;
        let mut text = String::new();
        let read = flate2::read::GzDecoder::new(COMMON_GZ).read_to_string(&mut text);
        if read.is_err() {
            tracing::error!("the shipped list of common passwords could not be read");
        }
        text.lines().map(|l| l.trim().to_owned()).collect()
    })
}

/// Whether a password is long enough, short enough and not a common one. The check on the
/// list ignores case and spaces, so `Password 1234` counts as `password1234`.
pub fn acceptable(password: &str) -> Result<(), StoreError> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(StoreError::Invalid("a password has at least 12 characters"));
    }
    if chars > MAX_CHARS {
        return Err(StoreError::Invalid("a password has at most 128 characters"));
    }
    let folded: String = password
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    let first = folded.chars().next();
    if folded.chars().all(|c| Some(c) == first)
        || common_passwords().contains(&folded)
        || common_passwords().contains(&password.to_lowercase())
    {
        return Err(StoreError::Invalid(
            "that password is too common or too simple; choose another (a few unrelated words work well)",
        ));
    }
    Ok(())
}

pub fn hash(password: &str) -> Result<String, StoreError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| StoreError::Hash)
}

/// Checks `password` against `stored`; with no account, checks it against a dummy hash so
/// a wrong user name takes as long as a wrong password.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("not a real password").expect("hashing works"));
    let (candidate, real) = match stored {
        Some(hash) => (hash, true),
        None => (dummy.as_str(), false),
    };
    let matches = PasswordHash::new(candidate)
        .ok()
        .and_then(|parsed| verify_against(password, &parsed))
        .unwrap_or(false);
    matches && real
}

/// `None` when the stored hash is not a usable Argon2 hash.
fn verify_against(password: &str, parsed: &PasswordHash<'_>) -> Option<bool> {
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(parsed).ok()?;
    let expected = parsed.hash?;
    let mut salt = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into(password.as_bytes(), salt, &mut out)
        .ok()?;
    // `Output`'s equality is constant-time.
    Some(Output::new(&out).ok()? == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_refuses_short_long_repeated_and_common_passwords() {
        assert!(acceptable("short").is_err());
        assert!(acceptable("1234567890").is_err());
        assert!(acceptable("aaaaaaaaaaaaaaaa").is_err());
        assert!(acceptable(&"x".repeat(2000)).is_err());
        // In the shipped list (with case and spaces folded).
        assert!(acceptable("1234567890123").is_err());
        assert!(acceptable("qwertyuiop123").is_err());
        assert!(acceptable("Password 1234").is_err());
        assert!(acceptable("correct horse battery staple").is_ok());
        assert!(acceptable(&"ab".repeat(64)).is_ok());
        assert!(common_passwords().len() > 19_000);
    }

    #[test]
    fn verify_accepts_only_the_right_password() {
        let h = hash("correct horse").unwrap();
        assert!(verify("correct horse", Some(&h)));
        assert!(!verify("wrong", Some(&h)));
        assert!(!verify("not a real password", None));
        assert!(!verify("correct horse", Some("not a hash")));
    }
}
