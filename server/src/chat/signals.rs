//! "The sessions of this account changed": raised when an account is disabled, a session or
//! every session is revoked, or the password changes. Each open socket of the account watches
//! it and checks its own credential again, closing itself when that no longer works. A watch
//! channel per account that has sockets: signals coalesce (a socket only needs to know that
//! something changed), and the entry goes when the last socket of the account does.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::sync::watch;
use uuid::Uuid;

#[derive(Default)]
pub struct AccountSignals {
    accounts: Mutex<HashMap<Uuid, watch::Sender<u64>>>,
}

/// A socket's view of its account's signal; leaving the last one drops the account's entry.
pub struct AccountWatch {
    signals: Arc<AccountSignals>,
    user_id: Uuid,
    receiver: watch::Receiver<u64>,
}

impl AccountSignals {
    pub fn watch(self: &Arc<Self>, user_id: Uuid) -> AccountWatch {
        let mut accounts = self.accounts.lock().expect("account signals lock");
        let receiver = accounts
            .entry(user_id)
            .or_insert_with(|| watch::channel(0).0)
            .subscribe();
        AccountWatch {
            signals: self.clone(),
            user_id,
            receiver,
        }
    }

    /// Tells this process's sockets of `user_id` to check their credential again.
    pub fn raise(&self, user_id: Uuid) {
        let accounts = self.accounts.lock().expect("account signals lock");
        if let Some(sender) = accounts.get(&user_id) {
            sender.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Accounts with a watcher on this process (for tests of the cleanup).
    pub fn watched(&self) -> usize {
        self.accounts.lock().expect("account signals lock").len()
    }
}

impl AccountWatch {
    /// Resolves at the next signal.
    pub async fn changed(&mut self) {
        if self.receiver.changed().await.is_err() {
            // The sender lives as long as any watcher: unreachable, but never spin.
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for AccountWatch {
    fn drop(&mut self) {
        let mut accounts = self.signals.accounts.lock().expect("account signals lock");
        // This watcher's receiver is still counted while it is being dropped.
        if accounts
            .get(&self.user_id)
            .is_some_and(|sender| sender.receiver_count() <= 1)
        {
            accounts.remove(&self.user_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_signal_reaches_every_watcher_of_the_account_and_the_last_one_cleans_up() {
        let signals = Arc::new(AccountSignals::default());
        let (ann, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let mut first = signals.watch(ann);
        let mut second = signals.watch(ann);
        let mut other = signals.watch(bob);
        signals.raise(ann);
        first.changed().await;
        second.changed().await;
        let quiet =
            tokio::time::timeout(std::time::Duration::from_millis(20), other.changed()).await;
        assert!(quiet.is_err(), "another account's socket was signalled");
        drop(first);
        assert_eq!(signals.watched(), 2);
        drop(second);
        drop(other);
        assert_eq!(signals.watched(), 0);
    }
}
