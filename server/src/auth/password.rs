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

/// Each hash holds 19 MiB while it runs: at most one per core runs at once, and a bounded
/// queue waits its turn, so a burst of log-ins cannot take the server's memory nor make a
/// queue that grows without end. Past the queue's room, or after [`SLOT_WAIT`] in it, a request
/// is refused at once ([`AuthError::Busy`], 503 `server_busy`): under a flood, a person finds
/// out in a second rather than behind thousands of hashes.
struct HashingSlots {
    running: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    max_waiting: usize,
}

/// Requests that may wait per slot: a few dozen hashes, well under a second of work.
const WAITING_PER_SLOT: usize = 32;
/// The longest a request waits in the queue, for when hashes run slow (a starved machine).
const SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

fn hashing_slots() -> &'static HashingSlots {
    static SLOTS: std::sync::OnceLock<HashingSlots> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        HashingSlots::new(cores.max(2), cores.max(2) * WAITING_PER_SLOT)
    })
}

impl HashingSlots {
    fn new(slots: usize, max_waiting: usize) -> Self {
        Self {
            running: tokio::sync::Semaphore::new(slots),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            max_waiting,
        }
    }

    async fn acquire(
        &self,
        wait: std::time::Duration,
    ) -> Result<tokio::sync::SemaphorePermit<'_>, AuthError> {
        use std::sync::atomic::Ordering;
        if let Ok(permit) = self.running.try_acquire() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            tracing::warn!("the password-hashing queue is full; refusing a request");
            return Err(AuthError::Busy);
        }
        let waited = tokio::time::timeout(wait, self.running.acquire()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        match waited {
            Ok(permit) => permit.map_err(|e| AuthError::Internal(format!("hashing slots: {e}"))),
            Err(_) => {
                tracing::warn!("no password-hashing slot came free in time; refusing a request");
                Err(AuthError::Busy)
            }
        }
    }
}

async fn slot() -> Result<tokio::sync::SemaphorePermit<'static>, AuthError> {
    hashing_slots().acquire(SLOT_WAIT).await
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
    async fn a_full_queue_refuses_at_once_and_a_long_wait_gives_up() {
        let slots = std::sync::Arc::new(HashingSlots::new(1, 1));
        let wait = std::time::Duration::from_millis(300);
        let held = slots.acquire(wait).await.unwrap();
        // One may wait: it gets the slot when it comes free.
        let waiter = tokio::spawn({
            let slots = slots.clone();
            async move { slots.acquire(wait).await.map(drop) }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // The queue is full: refused without waiting.
        let started = std::time::Instant::now();
        assert!(matches!(slots.acquire(wait).await, Err(AuthError::Busy)));
        assert!(started.elapsed() < wait);
        drop(held);
        assert!(waiter.await.unwrap().is_ok());

        // A wait longer than `wait` is given up.
        let held = slots.acquire(wait).await.unwrap();
        assert!(matches!(slots.acquire(wait).await, Err(AuthError::Busy)));
        drop(held);
        assert!(slots.acquire(wait).await.is_ok());
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
