//! Domain types that can only hold valid input: an [`Email`] is normalised and well formed, a
//! [`NewPassword`] is long enough and not one of the passwords every attacker tries first; and
//! the random secrets (API tokens, invite codes) the database keeps only a digest of.

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::Invalid;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let email = raw.trim().to_lowercase();
        let invalid = || Invalid::new("invalid_email", "That does not look like an email address.");
        if email.len() > 254 || email.chars().any(char::is_whitespace) {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !domain.contains("..");
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A fresh random secret: `bytes` bytes from the OS, as lower-case hex, after `prefix`.
pub fn random_secret(prefix: &str, bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    format!("{prefix}{}", hex::encode(raw))
}

/// What the database keeps of a random secret: its SHA-256, as hex. The secrets are 128+ bits
/// of randomness, so a fast hash is enough (a password needs argon2; these cannot be guessed).
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub struct NewPassword(String);

/// A few of the passwords that top every breach list; a length rule alone lets them through.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password123",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyui",
    "qwerty123",
    "iloveyou",
    "11111111",
    "00000000",
    "abc12345",
    "letmein1",
    "welcome1",
    "admin123",
    "passw0rd",
    "sunshine",
    "football",
    "baseball",
    "princess",
];

impl NewPassword {
    pub const MIN_CHARS: usize = 8;
    /// Argon2 hashes whatever it is given; a cap keeps one request from costing a second of CPU.
    pub const MAX_BYTES: usize = 1024;

    pub fn parse(raw: String, email: &Email) -> Result<Self, Invalid> {
        let weak = |why: &str| {
            Invalid::new(
                "weak_password",
                format!("Choose a stronger password: {why}."),
            )
        };
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(weak("use at least 8 characters"));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(weak("use at most 1024 bytes"));
        }
        let lower = raw.to_lowercase();
        if COMMON_PASSWORDS.contains(&lower.as_str()) {
            return Err(weak("this one is among the most common passwords"));
        }
        if lower == email.as_str() || lower == email.as_str().split('@').next().unwrap_or("") {
            return Err(weak("it must not be your email address"));
        }
        let mut chars = raw.chars();
        let first = chars.next();
        if chars.all(|c| Some(c) == first) {
            return Err(weak("it must not repeat one character"));
        }
        Ok(Self(raw))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A display name: trimmed, at most 100 characters; the email's local part when empty.
pub fn display_name(raw: Option<&str>, email: &Email) -> Result<String, Invalid> {
    let name = raw.map(str::trim).unwrap_or_default();
    if name.chars().count() > 100 {
        return Err(Invalid::new(
            "invalid_name",
            "Your name can be at most 100 characters.",
        ));
    }
    if name.is_empty() {
        return Ok(email
            .as_str()
            .split('@')
            .next()
            .unwrap_or_default()
            .to_owned());
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@.com",
            "ada@example..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        let email = Email::parse("ada@example.com").unwrap();
        for weak in ["short", "password123", "aaaaaaaaaa", "ada@example.com"] {
            let err = NewPassword::parse(weak.into(), &email).err().expect(weak);
            assert_eq!(err.code, "weak_password");
        }
        assert!(NewPassword::parse("correct horse battery".into(), &email).is_ok());
    }

    #[test]
    fn empty_names_fall_back_to_the_email() {
        let email = Email::parse("grace@example.com").unwrap();
        assert_eq!(display_name(None, &email).unwrap(), "grace");
        assert_eq!(display_name(Some("  Grace H "), &email).unwrap(), "Grace H");
        assert!(display_name(Some(&"x".repeat(101)), &email).is_err());
    }

    #[test]
    fn random_secrets_differ_and_only_their_digest_is_fixed() {
        let a = random_secret("rc_", 32);
        let b = random_secret("rc_", 32);
        assert!(a.starts_with("rc_") && a.len() == 3 + 64, "{a}");
        assert_ne!(a, b);
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest(&b));
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
