//! Secrets for credentials: 256 random bits from the system's generator, written as
//! base64url without padding behind a readable prefix (`bosun_...`), and stored only
//! as their SHA-256. A secret is found by its hash (an index lookup on a value the
//! caller cannot steer), so no secret is ever compared byte by byte.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bosun_core::auth::SECRET_PREFIX;
use ring::rand::{SecureRandom, SystemRandom};

/// A new secret and the hash to store for it.
pub struct Secret {
    pub secret: String,
    pub hash: String,
}

/// Why no secret could be made: the system's random generator failed.
#[derive(Debug, thiserror::Error)]
#[error("the system's random number generator failed")]
pub struct NoRandom;

impl Secret {
    /// A fresh 256-bit secret.
    pub fn generate() -> Result<Secret, NoRandom> {
        let mut bytes = [0u8; 32];
        SystemRandom::new().fill(&mut bytes).map_err(|_| NoRandom)?;
        let secret = format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let hash = hash(&secret);
        Ok(Secret { secret, hash })
    }
}

/// The stored form of a secret: SHA-256, base64url.
pub fn hash(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, secret.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_stored_hashed() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with("bosun_") && a.secret.len() == "bosun_".len() + 43, "{}", a.secret);
        assert_eq!(hash(&a.secret), a.hash);
        assert_ne!(a.hash, a.secret);
        assert!(!a.hash.contains(&a.secret[6..]));
    }
}
