//! Remembers successful Basic logins for a short while.
//!
//! Verifying an argon2 hash takes tens of milliseconds on purpose, which is
//! right for a login and wrong for every request of a script that sends
//! `--user` each time. A hit here skips the verification; failed logins are
//! never cached, so guessing stays slow. Entries are keyed by a SHA-256 of
//! user and password, and a changed role or team list shows after at most
//! the TTL.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::Caller;

pub struct LoginCache {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<[u8; 32], (Caller, Instant)>>,
}

impl LoginCache {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn key(user: &str, password: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(user.as_bytes());
        hasher.update([0u8]);
        hasher.update(password.as_bytes());
        hasher.finalize().into()
    }

    pub fn get(&self, key: &[u8; 32]) -> Option<Caller> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(caller, _)| caller.clone())
    }

    pub fn put(&self, key: [u8; 32], caller: Caller) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.capacity {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (caller, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zmon_core::Role;

    fn caller() -> Caller {
        Caller {
            uid: "alice".into(),
            role: Role::User,
            teams: vec![],
        }
    }

    #[test]
    fn hits_until_the_ttl_and_keys_bind_user_and_password() {
        let cache = LoginCache::new(Duration::from_millis(50), 10);
        let key = LoginCache::key("alice", "pw");
        assert_ne!(key, LoginCache::key("alice", "pw2"));
        assert_ne!(
            LoginCache::key("a", "lice:pw"),
            LoginCache::key("a:lice", "pw")
        );
        assert!(cache.get(&key).is_none());
        cache.put(key, caller());
        assert_eq!(cache.get(&key).map(|c| c.uid), Some("alice".into()));
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get(&key).is_none());
    }

    #[test]
    fn stays_within_its_capacity() {
        let cache = LoginCache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            cache.put(LoginCache::key(&i.to_string(), "pw"), caller());
        }
        assert!(cache.entries.lock().map(|e| e.len()).unwrap_or(99) <= 3);
    }
}
