//! OWASP "device cookies": after a successful login a browser gets `NONCE.SIGNATURE`, an HMAC
//! over the user name and the nonce with a key Haven keeps in its store. A login that presents
//! a valid device cookie for that user name is judged by that device's own failures instead of
//! the account's, so that someone guessing from elsewhere cannot keep the person out of the
//! browser they always use. The cookie holds no user name.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const NONCE_BYTES: usize = 16;

pub struct DeviceKeys {
    key: [u8; 32],
}

impl DeviceKeys {
    pub fn new(key: [u8; 32]) -> DeviceKeys {
        DeviceKeys { key }
    }

    fn mac(&self, username: &str, nonce: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"haven-device-cookie\0");
        mac.update(username.to_lowercase().as_bytes());
        mac.update(b"\0");
        mac.update(nonce);
        mac
    }

    /// A new device cookie value for `username`.
    pub fn issue(&self, username: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
        let tag = self.mac(username, &nonce).finalize().into_bytes();
        format!("{}.{}", hex::encode(nonce), hex::encode(tag))
    }

    /// The nonce of `value` when it is a valid device cookie for `username` (the nonce names
    /// the device for its own failure count).
    pub fn verify(&self, username: &str, value: &str) -> Option<[u8; NONCE_BYTES]> {
        let (nonce, tag) = value.split_once('.')?;
        let nonce: [u8; NONCE_BYTES] = hex::decode(nonce).ok()?.try_into().ok()?;
        let tag = hex::decode(tag).ok()?;
        // verify_slice compares in constant time.
        self.mac(username, &nonce).verify_slice(&tag).ok()?;
        Some(nonce)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_valid_only_for_its_user_and_key() {
        let keys = DeviceKeys::new([7; 32]);
        let cookie = keys.issue("Sam");
        assert!(keys.verify("sam", &cookie).is_some());
        assert!(keys.verify("alex", &cookie).is_none());
        assert!(DeviceKeys::new([8; 32]).verify("sam", &cookie).is_none());
        let mut forged = cookie.clone();
        forged.replace_range(0..2, if &cookie[0..2] == "00" { "11" } else { "00" });
        assert!(keys.verify("sam", &forged).is_none());
        assert!(keys.verify("sam", "nonsense").is_none());
    }
}
