//! The TOTP second factor (RFC 6238: HMAC-SHA1, six digits, 30-second steps, one step of
//! clock drift either way), enrolment with a QR code Haven draws itself (SVG, no third-party
//! request), and ten single-use recovery codes.

use qrcode::{render::svg, QrCode};
use rand::{Rng, RngCore};
use totp_rs::{Algorithm, Secret, TOTP};

const STEP_SECS: u64 = 30;
const SECRET_BYTES: usize = 20;
pub const RECOVERY_CODES: usize = 10;

fn totp(secret: &[u8]) -> Option<TOTP> {
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECS, secret.to_vec()).ok()
}

pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

/// The time step whose code `code` is, within one step of `now`; `None` if it is none of them.
pub fn matching_step(secret: &[u8], code: &str, now: u64) -> Option<u64> {
    let totp = totp(secret)?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = now / STEP_SECS;
    [step.saturating_sub(1), step, step + 1]
        .into_iter()
        .find(|s| {
            let expected = totp.generate(s * STEP_SECS);
            // Constant-time comparison of two six-digit strings.
            expected
                .bytes()
                .zip(code.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
        })
}

/// What an authenticator app needs: the secret in base32, the `otpauth://` address, and the
/// same address as an SVG QR code.
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

pub fn enrolment(secret: &[u8], issuer: &str, username: &str) -> Enrolment {
    let secret_base32 = match Secret::Raw(secret.to_vec()).to_encoded() {
        Secret::Encoded(text) => text,
        Secret::Raw(_) => String::new(),
    };
    let label = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                    (b as char).to_string()
                }
                other => format!("%{other:02X}"),
            })
            .collect()
    };
    let otpauth_uri = format!(
        "otpauth://totp/{}:{}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits=6&period={STEP_SECS}",
        label(issuer),
        label(username),
        label(issuer)
    );
    let qr_svg = QrCode::new(otpauth_uri.as_bytes())
        .map(|code| {
            code.render::<svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default();
    Enrolment {
        secret_base32,
        otpauth_uri,
        qr_svg,
    }
}

/// Ten codes like `7kq2-m9xd-4tpa`, each usable once instead of a TOTP code.
pub fn recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODES)
        .map(|_| {
            (0..3)
                .map(|_| {
                    (0..4)
                        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                        .collect::<String>()
                })
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// Whether `code` looks like a recovery code rather than a TOTP code.
pub fn is_recovery_code(code: &str) -> bool {
    code.trim().len() > 6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_its_neighbours_only() {
        let secret = new_secret();
        let t = totp(&secret).unwrap();
        let now = 1_800_000_000;
        let code = t.generate(now);
        assert_eq!(matching_step(&secret, &code, now), Some(now / 30));
        assert!(
            matching_step(&secret, &code, now + 30).is_some(),
            "one step of drift"
        );
        assert!(matching_step(&secret, &code, now + 300).is_none());
        assert!(matching_step(&secret, "abcdef", now).is_none());
    }

    #[test]
    fn enrolment_draws_a_qr_code_of_the_otpauth_address() {
        let e = enrolment(&new_secret(), "Haven", "sam@example");
        assert!(e
            .otpauth_uri
            .starts_with("otpauth://totp/Haven:sam%40example?secret="));
        assert!(e.qr_svg.contains("<svg"));
        assert_eq!(recovery_codes().len(), 10);
    }
}
