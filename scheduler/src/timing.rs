//! When each check runs next.
//!
//! Each check runs at a fixed rate. The checks of the first plan (a
//! scheduler starting, or taking over as leader) start at random offsets
//! within their intervals, so thousands of checks do not all fire in the
//! same second. A check added later runs at once, as in ZMON, so whoever
//! just saved it sees a result. A reload keeps the phase of unchanged
//! checks; a changed interval runs the check at once, and so does a check
//! whose alerts were added or edited, so a new condition is evaluated within
//! seconds rather than after up to one interval.

use std::collections::BTreeMap;

use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Slot {
    interval: f64,
    due: f64,
}

#[derive(Debug, Default)]
pub struct Schedule {
    slots: BTreeMap<i64, Slot>,
    started: bool,
}

impl Schedule {
    /// Adopts the current checks as (id, interval in seconds).
    pub fn update(&mut self, checks: impl IntoIterator<Item = (i64, i64)>, now: f64) {
        let mut rng = rand::rng();
        let mut next = BTreeMap::new();
        for (id, interval) in checks {
            let interval = interval.max(1) as f64;
            let slot = match self.slots.get(&id) {
                Some(s) if s.interval == interval => *s,
                Some(_) => Slot { interval, due: now },
                None if self.started => Slot { interval, due: now },
                None => Slot {
                    interval,
                    due: now + rng.random_range(0.0..interval),
                },
            };
            next.insert(id, slot);
        }
        self.slots = next;
        self.started = true;
    }

    /// Makes a known check due at `now`; its phase restarts from there.
    ///
    /// A check already overdue restarts too: keeping its older due time
    /// would schedule the next run less than an interval after this one.
    pub fn run_now(&mut self, id: i64, now: f64) {
        if let Some(slot) = self.slots.get_mut(&id) {
            slot.due = now;
        }
    }

    /// Checks due at `now`; each is moved to its next run. A check that fell
    /// more than an interval behind (the scheduler was paused) runs once,
    /// not once per missed interval.
    pub fn take_due(&mut self, now: f64) -> Vec<i64> {
        let mut due = Vec::new();
        for (id, slot) in self.slots.iter_mut() {
            if slot.due <= now {
                due.push(*id);
                slot.due += slot.interval;
                if slot.due <= now {
                    slot.due = now + slot.interval;
                }
            }
        }
        due
    }

    /// When the next check is due.
    pub fn next_due(&self) -> Option<f64> {
        self.slots
            .values()
            .map(|s| s.due)
            .min_by(|a, b| a.total_cmp(b))
    }

    pub fn contains(&self, id: i64) -> bool {
        self.slots.contains_key(&id)
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_checks_start_within_their_first_interval_then_run_at_a_fixed_rate() {
        let mut s = Schedule::default();
        s.update([(1, 60)], 1000.0);
        let first = s.next_due().expect("scheduled");
        assert!((1000.0..1060.0).contains(&first));
        assert!(s.take_due(first - 0.001).is_empty());
        assert_eq!(s.take_due(first), [1]);
        assert_eq!(s.next_due(), Some(first + 60.0));
        assert!(s.take_due(first + 30.0).is_empty());
    }

    #[test]
    fn reloads_keep_the_phase_and_changed_intervals_run_now() {
        let mut s = Schedule::default();
        s.update([(1, 60), (2, 60)], 1000.0);
        let due_1 = s.slots[&1].due;
        s.update([(1, 60), (2, 30), (3, 10)], 1005.0);
        assert_eq!(s.slots[&1].due, due_1, "unchanged");
        assert_eq!(s.slots[&2].due, 1005.0, "interval changed: now");
        assert_eq!(s.slots[&3].due, 1005.0, "added after the start: now");
        s.update([(3, 10)], 1006.0);
        assert_eq!(s.len(), 1, "removed checks are forgotten");
    }

    #[test]
    fn run_now_brings_a_known_check_forward_only() {
        let mut s = Schedule::default();
        s.update([(1, 60)], 1000.0);
        s.run_now(1, 1001.0);
        s.run_now(7, 1001.0);
        assert_eq!(s.take_due(1001.0), [1]);
        assert_eq!(s.next_due(), Some(1061.0));
        assert!(!s.contains(7));
    }

    #[test]
    fn run_now_restarts_the_phase_of_an_overdue_check() {
        let mut s = Schedule::default();
        s.update([(1, 60)], 1000.0);
        s.slots.get_mut(&1).expect("scheduled").due = 1000.5;
        s.run_now(1, 1001.0);
        assert_eq!(s.take_due(1001.0), [1]);
        assert_eq!(s.next_due(), Some(1061.0));
    }

    #[test]
    fn a_long_pause_runs_a_check_once_not_per_missed_interval() {
        let mut s = Schedule::default();
        s.update([(1, 10)], 0.0);
        assert_eq!(s.take_due(10_000.0), [1]);
        assert!(s.take_due(10_000.0).is_empty());
        assert_eq!(s.next_due(), Some(10_010.0));
    }
}
