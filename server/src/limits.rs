//! How much one client or one account may ask of the server (ARCHITECTURE.md, "Accounts and
//! access"): log-in and register attempts per address and per email, sends per user, and live
//! sockets per user. Each refusal says how long to wait. The replies streaming at once per user
//! are counted in the database instead, where every process sees them (`chat::send`).
//!
//! The counters are `governor`'s keyed GCRA limiters: one small cell per key, no timers.
//! Keys that have fully recovered are swept every minute, so memory follows the clients of the
//! last minute or two, not every client ever seen.

use std::{
    collections::HashMap,
    hash::BuildHasher,
    net::IpAddr,
    num::NonZeroU32,
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

/// What the limits are; each is off when zero.
#[derive(Clone, Debug)]
pub struct LimitSettings {
    /// `AUTH_ATTEMPTS_PER_MINUTE`: log-in and register attempts per client address and per email.
    pub auth_attempts_per_minute: u32,
    /// `SENDS_PER_MINUTE`: messages one user may send. Off by default: the replies one user may
    /// have streaming at once already bound what an account can make the server do, and
    /// clients that script many sends (test suites, benchmarks) keep working unconfigured.
    pub sends_per_minute: u32,
    /// `MAX_ACTIVE_REPLIES_PER_USER`: replies streaming at once, counted across processes.
    pub max_active_replies_per_user: u32,
    /// `MAX_SOCKETS_PER_USER`: live-feed sockets one user may hold open on one process.
    pub max_sockets_per_user: u32,
    /// `TRUSTED_PROXIES`: peers whose `X-Forwarded-For` names the real client.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            auth_attempts_per_minute: 10,
            sends_per_minute: 0,
            max_active_replies_per_user: 4,
            max_sockets_per_user: 20,
            trusted_proxies: Vec::new(),
        }
    }
}

/// A refusal: try again after this long (never less than a second).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, rounded up, for a `Retry-After` header.
    pub fn seconds(self) -> u64 {
        let whole = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        whole.max(1)
    }
}

/// One keyed limiter, or none when its rate is zero.
struct Keyed<K: std::hash::Hash + Eq + Clone>(Option<DefaultKeyedRateLimiter<K>>);

impl<K: std::hash::Hash + Eq + Clone> Keyed<K> {
    fn per_minute(rate: u32) -> Self {
        Self(NonZeroU32::new(rate).map(|rate| RateLimiter::keyed(Quota::per_minute(rate))))
    }

    fn check(&self, key: &K) -> Result<(), RetryAfter> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        limiter
            .check_key(key)
            .map_err(|refused| RetryAfter(refused.wait_time_from(limiter.clock().now())))
    }

    /// Forgets keys whose cell is back to full: they behave exactly like unseen keys.
    fn sweep(&self) {
        if let Some(limiter) = &self.0 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |limiter| limiter.len())
    }
}

pub struct Limits {
    pub settings: LimitSettings,
    attempts_by_address: Keyed<IpAddr>,
    /// Keyed by a hash of the email, so an attacker's megabyte-long "emails" cost 8 bytes each.
    attempts_by_email: Keyed<u64>,
    email_hasher: std::hash::RandomState,
    sends: Keyed<Uuid>,
    sockets: Mutex<HashMap<Uuid, u32>>,
}

/// Beyond this many tracked keys, a check sweeps at once rather than waiting for the minute.
const SWEEP_ABOVE_KEYS: usize = 100_000;

impl Limits {
    pub fn new(settings: LimitSettings) -> Arc<Self> {
        let limits = Arc::new(Self {
            attempts_by_address: Keyed::per_minute(settings.auth_attempts_per_minute),
            attempts_by_email: Keyed::per_minute(settings.auth_attempts_per_minute),
            email_hasher: std::hash::RandomState::new(),
            sends: Keyed::per_minute(settings.sends_per_minute),
            sockets: Mutex::new(HashMap::new()),
            settings,
        });
        tokio::spawn(sweep_every_minute(Arc::downgrade(&limits)));
        limits
    }

    /// One log-in or register attempt from `client` for `email` (when the request names one).
    /// The address is checked first, so a client past its limit cannot grow the email table.
    pub fn check_auth_attempt(
        &self,
        client: IpAddr,
        email: Option<&str>,
    ) -> Result<(), RetryAfter> {
        self.attempts_by_address.check(&address_key(client))?;
        if let Some(email) = email {
            let key = self.email_hasher.hash_one(email.trim().to_lowercase());
            self.attempts_by_email.check(&key)?;
        }
        if self.attempts_by_address.len() + self.attempts_by_email.len() > SWEEP_ABOVE_KEYS {
            self.sweep();
        }
        Ok(())
    }

    /// One message sent by `user_id`.
    pub fn check_send(&self, user_id: Uuid) -> Result<(), RetryAfter> {
        self.sends.check(&user_id)
    }

    /// A slot for one more live socket of `user_id` on this process, held until the guard drops;
    /// `None` when they have all they may.
    pub fn open_socket(self: &Arc<Self>, user_id: Uuid) -> Option<SocketSlot> {
        let mut sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        let open = sockets.entry(user_id).or_insert(0);
        if self.settings.max_sockets_per_user != 0 && *open >= self.settings.max_sockets_per_user {
            return None;
        }
        *open += 1;
        Some(SocketSlot {
            limits: Arc::clone(self),
            user_id,
        })
    }

    fn sweep(&self) {
        self.attempts_by_address.sweep();
        self.attempts_by_email.sweep();
        self.sends.sweep();
    }
}

/// One open socket, counted until dropped.
pub struct SocketSlot {
    limits: Arc<Limits>,
    user_id: Uuid,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut sockets = self
            .limits
            .sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(open) = sockets.get_mut(&self.user_id) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                sockets.remove(&self.user_id);
            }
        }
    }
}

/// Ends with the server: it holds the limits only weakly.
async fn sweep_every_minute(limits: Weak<Limits>) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    every.tick().await;
    loop {
        every.tick().await;
        match limits.upgrade() {
            Some(limits) => limits.sweep(),
            None => return,
        }
    }
}

/// The key of a client address: an IPv6 client gets a whole /64 (one customer's usual share,
/// free to hop across), and an IPv4 client seen through an IPv6 socket counts as itself.
fn address_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(
                    segments[0],
                    segments[1],
                    segments[2],
                    segments[3],
                    0,
                    0,
                    0,
                    0,
                ))
            }
        },
    }
}

/// The address a request comes from: the socket's peer, or, when the peer is one of
/// `trusted_proxies`, the nearest address in `X-Forwarded-For` that is not a trusted proxy
/// (the ones before it could be anything the client wrote).
pub fn client_address(
    peer: IpAddr,
    forwarded_for: Option<&str>,
    trusted_proxies: &[IpAddr],
) -> IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let Some(chain) = forwarded_for else {
        return peer;
    };
    chain
        .rsplit(',')
        .map_while(|hop| hop.trim().parse::<IpAddr>().ok())
        .find(|hop| !trusted_proxies.contains(hop))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(attempts: u32, sockets: u32) -> LimitSettings {
        LimitSettings {
            auth_attempts_per_minute: attempts,
            max_sockets_per_user: sockets,
            ..LimitSettings::default()
        }
    }

    #[tokio::test]
    async fn attempts_are_limited_per_address_and_per_email() {
        let limits = Limits::new(settings(2, 0));
        let (a, b, c) = (
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            "10.0.0.3".parse().unwrap(),
        );
        assert!(limits
            .check_auth_attempt(a, Some("ann@example.com"))
            .is_ok());
        assert!(limits
            .check_auth_attempt(a, Some("ANN@example.com "))
            .is_ok());
        let refused = limits
            .check_auth_attempt(b, Some("ann@example.com"))
            .unwrap_err();
        assert!(
            refused.seconds() >= 1 && refused.seconds() <= 30,
            "{refused:?}"
        );
        assert!(limits
            .check_auth_attempt(a, Some("bob@example.com"))
            .is_err());
        assert!(limits
            .check_auth_attempt(c, Some("bob@example.com"))
            .is_ok());
    }

    #[tokio::test]
    async fn zero_turns_a_limit_off() {
        let limits = Limits::new(settings(0, 0));
        let address = "10.0.0.1".parse().unwrap();
        for _ in 0..100 {
            assert!(limits
                .check_auth_attempt(address, Some("a@example.com"))
                .is_ok());
        }
        let _slots: Vec<_> = (0..100).map(|_| limits.open_socket(Uuid::nil())).collect();
        assert!(limits.open_socket(Uuid::nil()).is_some());
    }

    #[tokio::test]
    async fn a_closed_socket_frees_its_slot() {
        let limits = Limits::new(settings(0, 2));
        let user = Uuid::now_v7();
        let first = limits.open_socket(user).unwrap();
        let _second = limits.open_socket(user).unwrap();
        assert!(limits.open_socket(user).is_none());
        assert!(limits.open_socket(Uuid::now_v7()).is_some());
        drop(first);
        assert!(limits.open_socket(user).is_some());
    }

    #[test]
    fn ipv6_clients_share_their_64_and_mapped_ipv4_counts_as_ipv4() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(address_key(one), address_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let stranger: IpAddr = "203.0.113.5".parse().unwrap();
        let chain = Some("198.51.100.1, 192.0.2.44, 10.0.0.1");
        assert_eq!(client_address(stranger, chain, &[proxy]), stranger);
        assert_eq!(
            client_address(proxy, chain, &[proxy]),
            "192.0.2.44".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(proxy, None, &[proxy]), proxy);
        assert_eq!(client_address(proxy, Some("nonsense"), &[proxy]), proxy);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(RetryAfter(Duration::from_millis(10)).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(6_001)).seconds(), 7);
        assert_eq!(RetryAfter(Duration::ZERO).seconds(), 1);
    }
}
