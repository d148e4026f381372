//! An optional proof of work at `hello`, for a program under attack: each chatter socket gets
//! a fresh random challenge when it opens, and `hello` must carry a nonce such that
//! SHA-256(challenge ‖ nonce) starts with `bits` zero bits. A real page pays a second or two
//! once; a script that opens thousands of chats pays it every time, and cannot compute answers
//! ahead because the challenge is new on every socket.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Longest nonce accepted, in bytes (the page sends a decimal counter).
pub const MAX_NONCE_LEN: usize = 64;

/// One socket's challenge.
pub struct Challenge {
    /// 128 random bits, hex: what the client hashes in front of its nonce.
    text: String,
    bits: u8,
}

impl Challenge {
    pub fn new(bits: u8) -> Challenge {
        let mut random = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut random);
        Challenge {
            text: hex::encode(random),
            bits,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Whether `nonce` solves this challenge.
    pub fn accepts(&self, nonce: &str) -> bool {
        if nonce.is_empty() || nonce.len() > MAX_NONCE_LEN {
            return false;
        }
        let digest = Sha256::new()
            .chain_update(self.text.as_bytes())
            .chain_update(nonce.as_bytes())
            .finalize();
        leading_zero_bits(&digest) >= u32::from(self.bits)
    }
}

fn leading_zero_bits(bytes: &[u8]) -> u32 {
    let mut zeros = 0;
    for byte in bytes {
        zeros += byte.leading_zeros();
        if *byte != 0 {
            break;
        }
    }
    zeros
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solve(challenge: &Challenge) -> String {
        (0u64..)
            .map(|n| n.to_string())
            .find(|nonce| challenge.accepts(nonce))
            .unwrap()
    }

    #[test]
    fn a_solved_challenge_is_accepted_and_only_by_its_own_socket() {
        let challenge = Challenge::new(12);
        let nonce = solve(&challenge);
        assert!(challenge.accepts(&nonce));
        let digest = Sha256::digest(format!("{}{nonce}", challenge.text()).as_bytes());
        assert!(leading_zero_bits(&digest) >= 12);
        // Another socket's challenge: the same nonce is (almost surely) worthless there.
        let others = (0..8)
            .filter(|_| Challenge::new(12).accepts(&nonce))
            .count();
        assert!(others < 2);
        assert!(!challenge.accepts(""));
        assert!(!challenge.accepts(&"0".repeat(MAX_NONCE_LEN + 1)));
    }

    #[test]
    fn zero_bits_are_counted_across_bytes() {
        assert_eq!(leading_zero_bits(&[0, 0, 0x80]), 16);
        assert_eq!(leading_zero_bits(&[0, 0x0f]), 12);
        assert_eq!(leading_zero_bits(&[0xff]), 0);
    }
}
