//! Argon2id password hashes (the RustCrypto `argon2` crate, default parameters).

use std::sync::OnceLock;

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use super::StoreError;

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
    let Ok(parsed) = PasswordHash::new(candidate) else {
        return false;
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    matches && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_accepts_only_the_right_password() {
        let h = hash("correct horse").unwrap();
        assert!(verify("correct horse", Some(&h)));
        assert!(!verify("wrong", Some(&h)));
        assert!(!verify("not a real password", None));
    }
}
