//! Heartbeats, trial runs, instant evaluation and leadership.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use tokio::time::Instant;
use zmon_core::task::TrialResult;

use super::SWEEP_EVERY;
use crate::WorkerStatus;

#[derive(Default)]
pub(super) struct Control {
    /// Per worker: last heartbeat (epoch seconds) and checks run.
    heartbeats: BTreeMap<String, (f64, i64)>,
    /// As in Redis, the entities of a trial run and its results expire
    /// separately: the results' TTL is renewed with each result.
    trial_entities: HashMap<String, (BTreeSet<String>, Instant)>,
    trial_results: HashMap<String, (BTreeMap<String, TrialResult>, Instant)>,
    instant_evaluations: Vec<i64>,
    /// Per role: holder and the end of its lease.
    leaders: HashMap<String, (String, Instant)>,
    last_sweep: Option<Instant>,
}

impl Control {
    pub(super) fn heartbeat(&mut self, name: &str, checks_run: u64, now: f64) {
        let beat = self.heartbeats.entry(name.to_string()).or_default();
        beat.0 = now;
        beat.1 = beat
            .1
            .saturating_add(i64::try_from(checks_run).unwrap_or(i64::MAX));
    }

    /// Sorted by name.
    pub(super) fn workers(&self) -> Vec<WorkerStatus> {
        self.heartbeats
            .iter()
            .map(|(name, (ts, count))| WorkerStatus {
                name: name.clone(),
                last_execution_time: *ts,
                check_invocations: *count,
            })
            .collect()
    }

    pub(super) fn start_trial_run(&mut self, id: &str, entities: &[String], ttl: Duration) {
        self.sweep();
        self.trial_entities.insert(
            id.to_string(),
            (entities.iter().cloned().collect(), Instant::now() + ttl),
        );
    }

    pub(super) fn record_trial_result(&mut self, id: &str, result: &TrialResult, ttl: Duration) {
        self.sweep();
        let now = Instant::now();
        let results = self
            .trial_results
            .entry(id.to_string())
            .or_insert_with(|| (BTreeMap::new(), now));
        if results.1 <= now {
            results.0.clear();
        }
        results.0.insert(result.entity.clone(), result.clone());
        results.1 = now + ttl;
    }

    pub(super) fn trial_run(&mut self, id: &str) -> Option<(usize, Vec<TrialResult>)> {
        let now = Instant::now();
        let entities = live(&mut self.trial_entities, id, now);
        let expected = entities.map_or(0, |(e, _)| e.iter().filter(|e| !e.is_empty()).count());
        let known = entities.is_some();
        let results: Vec<TrialResult> = live(&mut self.trial_results, id, now)
            .map(|(r, _)| r.values().cloned().collect())
            .unwrap_or_default();
        (known || !results.is_empty()).then_some((expected, results))
    }

    pub(super) fn request_instant_evaluation(&mut self, check_id: i64) {
        self.instant_evaluations.push(check_id);
    }

    pub(super) fn take_instant_evaluations(&mut self) -> Vec<i64> {
        std::mem::take(&mut self.instant_evaluations)
    }

    pub(super) fn lead(&mut self, role: &str, holder: &str, ttl: Duration) -> bool {
        let now = Instant::now();
        match self.leaders.get_mut(role) {
            Some((current, until)) if *until > now && current != holder => false,
            Some((current, until)) => {
                *current = holder.to_string();
                *until = now + ttl;
                true
            }
            None => {
                self.leaders
                    .insert(role.to_string(), (holder.to_string(), now + ttl));
                true
            }
        }
    }

    pub(super) fn resign(&mut self, role: &str, holder: &str) {
        if self.leaders.get(role).is_some_and(|(h, _)| h == holder) {
            self.leaders.remove(role);
        }
    }

    /// Drops expired trial runs and leases nobody asks about any more.
    fn sweep(&mut self) {
        let now = Instant::now();
        if self
            .last_sweep
            .is_some_and(|last| now.duration_since(last) < SWEEP_EVERY)
        {
            return;
        }
        self.last_sweep = Some(now);
        self.trial_entities.retain(|_, (_, until)| *until > now);
        self.trial_results.retain(|_, (_, until)| *until > now);
        self.leaders.retain(|_, (_, until)| *until > now);
    }
}

/// The entry under `id` if it has not expired; an expired one is dropped.
fn live<'a, T>(
    map: &'a mut HashMap<String, (T, Instant)>,
    id: &str,
    now: Instant,
) -> Option<&'a (T, Instant)> {
    if map.get(id).is_some_and(|(_, until)| *until <= now) {
        map.remove(id);
    }
    map.get(id)
}
