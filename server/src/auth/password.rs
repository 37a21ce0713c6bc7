//! argon2id with the crate's defaults (OWASP's recommended m=19 MiB, t=2, p=1). Hashing
//! takes tens of milliseconds of CPU, so it runs on the blocking pool, never on the runtime.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use super::AuthError;

/// Verified against when the email is unknown, so a miss costs as much time as a wrong
/// password and the response time does not reveal who has an account. A well-formed hash with
/// the same parameters as ours (verifying costs the same whatever the bytes) that no password
/// matches; a constant, so the server does not spend argon2's 19 MiB making one at start.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$cnVzdGNoYXQtZHVtbXktc2FsdCE$dGltaW5nIG9ubHk6IG1hdGNoZXMgbm8gcGFzc3dvcmQ";

/// Each hash holds 19 MiB while it runs: at most this many run at once (one per core), and
/// the rest wait their turn, so a burst of logins cannot take the server's memory.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores.max(2))
    })
}

/// How long a request waits for a hashing slot. A few dozen hashes' time: a burst is absorbed,
/// but a flood makes the queue refuse ([`AuthError::Busy`]) instead of growing without end, so
/// a waiting log-in never holds its connection for long.
const SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

async fn slot() -> Result<tokio::sync::SemaphorePermit<'static>, AuthError> {
    acquire_within(hashing_slots(), SLOT_WAIT).await
}

async fn acquire_within(
    slots: &tokio::sync::Semaphore,
    wait: std::time::Duration,
) -> Result<tokio::sync::SemaphorePermit<'_>, AuthError> {
    match tokio::time::timeout(wait, slots.acquire()).await {
        Ok(permit) => permit.map_err(|e| AuthError::Internal(format!("hashing slots: {e}"))),
        Err(_) => {
            tracing::warn!("every password-hashing slot stayed busy; refusing a request");
            Err(AuthError::Busy)
        }
    }
}

pub async fn hash(password: String) -> Result<String, AuthError> {
    let _slot = slot().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| AuthError::Internal(format!("argon2 hash: {e}")))
    })
    .await
    .map_err(|e| AuthError::Internal(format!("hashing task: {e}")))?
}

/// True when `password` matches the stored PHC string.
pub async fn verify(password: String, stored: String) -> Result<bool, AuthError> {
    let _slot = slot().await?;
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| AuthError::Internal(format!("stored hash unreadable: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| AuthError::Internal(format!("hashing task: {e}")))?
}

#[cfg(test)]
mod dummy_tests {
    use super::*;

    #[tokio::test]
    async fn a_saturated_server_refuses_instead_of_queueing_forever() {
        let slots = tokio::sync::Semaphore::new(1);
        let wait = std::time::Duration::from_millis(50);
        let held = acquire_within(&slots, wait).await.unwrap();
        assert!(matches!(
            acquire_within(&slots, wait).await,
            Err(AuthError::Busy)
        ));
        drop(held);
        assert!(acquire_within(&slots, wait).await.is_ok());
    }

    #[tokio::test]
    async fn the_dummy_hash_costs_what_a_real_one_does_and_matches_nothing() {
        let real = hash("correct horse battery".into()).await.unwrap();
        let params = |phc: &str| {
            let parsed = PasswordHash::new(phc).unwrap();
            (
                parsed.algorithm.to_string(),
                parsed.version,
                parsed.params.to_string(),
            )
        };
        assert_eq!(params(DUMMY_HASH), params(&real));
        assert!(!verify("correct horse battery".into(), DUMMY_HASH.into())
            .await
            .unwrap());
        assert!(!verify(String::new(), DUMMY_HASH.into()).await.unwrap());
    }
}
