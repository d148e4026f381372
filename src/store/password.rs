//! Argon2id password hashes (the RustCrypto `argon2` crate, default parameters: 19 MiB, two
//! passes).
//!
//! Verification reuses one block buffer per thread (`hash_password_into_with_memory`) instead
//! of allocating 19 MiB per check: with fresh allocations the process kept most of each
//! check's memory (measured in `docs/benchmarks.md`); with the buffer, the logins' memory is
//! bounded by the two password threads (`auth::checker`).

use std::{cell::RefCell, sync::OnceLock};

use argon2::{
    password_hash::{rand_core::OsRng, Output, PasswordHash, PasswordHasher, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};

use super::StoreError;

thread_local! {
    /// Argon2's working memory, kept for the next check on this thread.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
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
        .and_then(|parsed| verify_in_reused_memory(password, &parsed))
        .unwrap_or(false);
    matches && real
}

/// `None` when the stored hash is not a usable Argon2 hash.
fn verify_in_reused_memory(password: &str, parsed: &PasswordHash<'_>) -> Option<bool> {
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(parsed).ok()?;
    let expected = parsed.hash?;
    let mut salt = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
    let blocks_needed = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() < blocks_needed {
            blocks.resize(blocks_needed, Block::default());
        }
        argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut out,
                &mut blocks[..blocks_needed],
            )
            .ok()
    })?;
    // `Output`'s equality is constant-time.
    Some(Output::new(&out).ok()? == expected)
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
        assert!(!verify("correct horse", Some("not a hash")));
    }
}
