//! Deletion codes: shown once to the person who submitted answers, kept only as a hash, so
//! they can erase their answers while staying anonymous. 16 characters of Crockford base32
//! (80 random bits): guessing one is hopeless even before the rate limit.

use rand::Rng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Crockford's alphabet: no I, L, O or U, so a code read aloud or copied by hand survives.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LENGTH: usize = 16;

/// A new code, grouped for reading: `ABCD-EFGH-JKMN-PQRS`.
pub fn generate() -> Zeroizing<String> {
    let mut rng = rand::rngs::OsRng;
    let mut code = Zeroizing::new(String::with_capacity(LENGTH + 3));
    for i in 0..LENGTH {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        code.push(ALPHABET[rng.gen_range(0..32)] as char);
    }
    code
}

/// The stored form of a code as a person may type it (any case, with or without dashes or
/// spaces, O for 0 and I or L for 1); `None` when it cannot be a code.
pub fn hash(typed: &str) -> Option<String> {
    if typed.len() > 64 {
        return None;
    }
    let mut normal = Zeroizing::new(String::with_capacity(LENGTH));
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if ALPHABET.contains(&(c as u8)) && c.is_ascii() => c,
            _ => return None,
        };
        normal.push(c);
    }
    (normal.len() == LENGTH).then(|| hex::encode(Sha256::digest(normal.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_itself_however_it_is_typed() {
        let code = generate();
        assert_eq!(code.len(), 19);
        let stored = hash(&code).unwrap();
        assert_eq!(hash(&code.to_lowercase().replace('-', " ")), Some(stored));
        assert_eq!(hash("0000-1111-2222-3333"), hash("oooo-iiii-2222-3333"));
    }

    #[test]
    fn malformed_codes_hash_to_nothing() {
        for bad in [
            "",
            "ABC",
            "ABCD-EFGH-JKMN-PQR!",
            &"A".repeat(100),
            "ABCD-EFGH-JKMN-PQRSU",
        ] {
            assert_eq!(hash(bad), None, "{bad}");
        }
    }
}
