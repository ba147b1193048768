//! Slows down password guessing, per user name.
//!
//! The first few failed logins of a name cost nothing extra. After that,
//! each further attempt must wait twice as long as the one before, up to a
//! cap, and an attempt inside the wait is refused without verifying the
//! password, so it costs neither a guess nor an argon2 run. A success, or a
//! quiet spell, forgets the failures.
//!
//! The key is the name, not the client address: behind an ingress every
//! client has the same address, and a forwarded-for header is whatever the
//! client says. The price is that someone guessing a name delays its real
//! owner by at most the cap; scripts using Basic auth keep working meanwhile,
//! because a login verified in the last minute is answered from the login
//! cache before the throttle is asked.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed before any wait.
pub const FREE_ATTEMPTS: u32 = 5;
/// The wait after the first failure past the free ones; it doubles after
/// each further failure.
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// Failures are forgotten after this long without another one.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    fn wait(&self) -> Duration {
        if self.count < FREE_ATTEMPTS {
            return Duration::ZERO;
        }
        let doublings = (self.count - FREE_ATTEMPTS).min(16);
        FIRST_WAIT.saturating_mul(1 << doublings).min(MAX_WAIT)
    }

    fn forgotten_at(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last) >= FORGET_AFTER
    }
}

/// Refused: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, rounded up, for a `Retry-After` header.
    pub fn seconds(&self) -> u64 {
        self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)
    }
}

pub struct LoginThrottle {
    capacity: usize,
    failures: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn key(user: &str) -> String {
        user.trim().to_lowercase()
    }

    /// May `user` try a password now?
    pub fn check(&self, user: &str, now: Instant) -> Result<(), RetryAfter> {
        let Ok(failures) = self.failures.lock() else {
            return Ok(());
        };
        let Some(f) = failures.get(&Self::key(user)) else {
            return Ok(());
        };
        if f.forgotten_at(now) {
            return Ok(());
        }
        let open_at = f.last + f.wait();
        match open_at.checked_duration_since(now) {
            Some(left) if !left.is_zero() => Err(RetryAfter(left)),
            _ => Ok(()),
        }
    }

    pub fn failed(&self, user: &str, now: Instant) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        let key = Self::key(user);
        if !failures.contains_key(&key) && failures.len() >= self.capacity {
            make_room(&mut failures, now);
            if failures.len() >= self.capacity {
                // Every entry is throttling someone; evicting one would
                // let a flood of made-up names free the real target.
                return;
            }
        }
        let entry = failures.entry(key).or_insert(Failures {
            count: 0,
            last: now,
        });
        if entry.forgotten_at(now) {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
    }

    pub fn succeeded(&self, user: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&Self::key(user));
        }
    }
}

/// Keeps only the entries that are throttling someone.
fn make_room(failures: &mut HashMap<String, Failures>, now: Instant) {
    failures.retain(|_, f| !f.forgotten_at(now) && f.count >= FREE_ATTEMPTS);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(t: &LoginThrottle, user: &str, times: u32, now: Instant) {
        for _ in 0..times {
            t.failed(user, now);
        }
    }

    #[test]
    fn the_free_attempts_cost_nothing_then_waits_double_up_to_the_cap() {
        let t = LoginThrottle::new(100);
        let start = Instant::now();
        fail(&t, "alice", FREE_ATTEMPTS - 1, start);
        assert_eq!(t.check("alice", start), Ok(()));
        t.failed("alice", start);
        assert_eq!(t.check("alice", start), Err(RetryAfter(FIRST_WAIT)));
        assert_eq!(t.check("alice", start + FIRST_WAIT), Ok(()));

        let later = start + FIRST_WAIT;
        t.failed("alice", later);
        assert_eq!(t.check("alice", later), Err(RetryAfter(FIRST_WAIT * 2)));
        fail(&t, "alice", 20, later);
        assert_eq!(t.check("alice", later), Err(RetryAfter(MAX_WAIT)));
        assert_eq!(t.check("alice", later + MAX_WAIT), Ok(()));
    }

    #[test]
    fn names_are_throttled_apart_and_case_blind() {
        let t = LoginThrottle::new(100);
        let now = Instant::now();
        fail(&t, "Alice", FREE_ATTEMPTS, now);
        assert!(t.check(" alice", now).is_err());
        assert_eq!(t.check("bob", now), Ok(()));
    }

    #[test]
    fn a_success_or_a_quiet_spell_forgets_the_failures() {
        let t = LoginThrottle::new(100);
        let now = Instant::now();
        fail(&t, "alice", FREE_ATTEMPTS + 3, now);
        t.succeeded("alice");
        assert_eq!(t.check("alice", now), Ok(()));

        fail(&t, "bob", FREE_ATTEMPTS + 3, now);
        let quiet = now + FORGET_AFTER;
        assert_eq!(t.check("bob", quiet), Ok(()));
        t.failed("bob", quiet);
        assert_eq!(t.check("bob", quiet), Ok(()), "counting starts again");
    }

    #[test]
    fn a_flood_of_names_does_not_free_a_throttled_one() {
        let t = LoginThrottle::new(10);
        let now = Instant::now();
        fail(&t, "alice", FREE_ATTEMPTS, now);
        for i in 0..1000 {
            t.failed(&format!("made-up-{i}"), now);
        }
        assert!(t.check("alice", now).is_err());
        assert!(t.failures.lock().map(|f| f.len()).unwrap_or(usize::MAX) <= 10);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(RetryAfter(Duration::from_millis(1)).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_secs(2)).seconds(), 2);
        assert_eq!(RetryAfter(Duration::from_millis(2001)).seconds(), 3);
    }
}
