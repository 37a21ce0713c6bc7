//! Session tokens: HS256 JWTs whose subject is the user id and whose `sid` names the
//! server-side session (the `sessions` table) that can revoke them.

use std::time::Duration;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::Secret;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    /// The session this token belongs to. Tokens issued before sessions existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime: Duration,
}

/// Who a verified token speaks for, and through which session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenSubject {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
}

impl TokenKeys {
    pub fn new(secret: &Secret, lifetime: Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            lifetime,
        }
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    pub fn issue(&self, subject: TokenSubject) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: subject.user_id,
            sid: Some(subject.session_id),
            iat: now,
            exp: now + self.lifetime.as_secs() as i64,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with an in-memory key cannot fail")
    }

    /// A token without a `sid` was issued before sessions were revocable: it counts as
    /// expired, so its holder logs in again and gets a session that can be revoked.
    pub fn verify(&self, token: &str) -> Result<TokenSubject, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        let claims = decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?
            .claims;
        let session_id = claims.sid.ok_or(TokenError::Expired)?;
        Ok(TokenSubject {
            user_id: claims.sub,
            session_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_with_its_key_and_not_with_another() {
        let keys = TokenKeys::new(&Secret::new("a".repeat(40)), Duration::from_secs(3600));
        let other = TokenKeys::new(&Secret::new("b".repeat(40)), Duration::from_secs(3600));
        let subject = TokenSubject {
            user_id: Uuid::now_v7(),
            session_id: Uuid::now_v7(),
        };
        let token = keys.issue(subject);
        assert_eq!(keys.verify(&token), Ok(subject));
        assert_eq!(other.verify(&token), Err(TokenError::Invalid));
        assert_eq!(keys.verify("not.a.jwt"), Err(TokenError::Invalid));
    }

    #[test]
    fn an_expired_token_is_reported_as_expired() {
        let keys = TokenKeys::new(&Secret::new("a".repeat(40)), Duration::from_secs(3600));
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: Uuid::nil(),
            sid: Some(Uuid::nil()),
            iat: now - 7200,
            exp: now - 3600,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        assert_eq!(keys.verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_from_before_sessions_counts_as_expired() {
        let keys = TokenKeys::new(&Secret::new("a".repeat(40)), Duration::from_secs(3600));
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: Uuid::now_v7(),
            sid: None,
            iat: now,
            exp: now + 3600,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        assert_eq!(keys.verify(&token), Err(TokenError::Expired));
    }
}
