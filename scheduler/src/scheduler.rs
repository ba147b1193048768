//! The scheduler's loop: lead (or wait), keep the plan current, and put
//! each check's tasks on the queues when it is due.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::sync::{Notify, watch};
use zmon_bus::{Bus, BusError};
use zmon_core::inheritance::AlertTree;
use zmon_core::task::TaskAlert;
use zmon_core::time::Clock;
use zmon_core::{Entity, Task};
use zmon_store::{AuditKind, EntityQuery, Store, StoreError};

use crate::config::SchedulerConfig;
use crate::incidents::{self, StaleAlert};
use crate::metrics::SchedulerMetrics;
use crate::plan::Plan;
use crate::timing::Schedule;

const ROLE: &str = "scheduler";
/// The loop wakes at least this often (instant evaluations, leadership).
const MAX_SLEEP: Duration = Duration::from_millis(500);
/// Change notifications cause at most one reload per this long.
const MIN_RELOAD_GAP: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
enum LoopError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// A removed pair whose keys go after the clean-up delay.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Stale {
    Check(i64, String),
    Alert(i64, String),
}

struct Scheduler {
    config: SchedulerConfig,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
    metrics: SchedulerMetrics,
    plan: Plan,
    schedule: Schedule,
    leader: bool,
    loaded_version: Option<i64>,
    last_reload: Option<Instant>,
    cleanup: BTreeMap<Stale, f64>,
    /// The alert and entity of each stale alert pair, from the plan they
    /// left, so incidents can be closed when the pair is forgotten.
    stale_alerts: HashMap<(i64, String), StaleAlert>,
    tasks_since_heartbeat: u64,
}

pub struct RunningScheduler {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    metrics: SchedulerMetrics,
}

#[derive(Clone)]
pub struct Stopper(watch::Sender<bool>);

impl Stopper {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

impl RunningScheduler {
    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop.clone())
    }

    pub fn metrics(&self) -> SchedulerMetrics {
        self.metrics.clone()
    }

    pub async fn run(self) {
        let _ = self.task.await;
    }

    /// Stops at once without resigning, as a crash would; the lease then
    /// expires on its own.
    pub fn kill(self) {
        self.task.abort();
    }
}

pub fn start(
    config: SchedulerConfig,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
) -> RunningScheduler {
    let (stop_tx, stop_rx) = watch::channel(false);
    let metrics = SchedulerMetrics::default();
    let changed = Arc::new(Notify::new());
    tokio::spawn(listen(store.clone(), changed.clone(), stop_rx.clone()));
    let scheduler = Scheduler {
        config,
        store,
        bus,
        clock,
        metrics: metrics.clone(),
        plan: Plan::default(),
        schedule: Schedule::default(),
        leader: false,
        loaded_version: None,
        last_reload: None,
        cleanup: BTreeMap::new(),
        stale_alerts: HashMap::new(),
        tasks_since_heartbeat: 0,
    };
    let task = tokio::spawn(scheduler.run(changed, stop_rx));
    RunningScheduler {
        stop: stop_tx,
        task,
        metrics,
    }
}

/// Forwards the store's change notifications; reconnects after failures.
/// Each time listening starts, it also asks for a reload: whatever changed
/// before (between the scheduler's first load and the listener connecting,
/// or while the connection was down) sent notifications nobody heard.
async fn listen(store: Arc<dyn Store>, changed: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        match store.listen_changes().await {
            Ok(mut listener) => {
                changed.notify_one();
                loop {
                    tokio::select! {
                        r = listener.changed() => match r {
                            Ok(()) => changed.notify_one(),
                            Err(e) => {
                                tracing::debug!(error = %e, "change listener lost its connection");
                                break;
                            }
                        },
                        _ = stop.wait_for(|s| *s) => return,
                    }
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "cannot listen for changes; relying on periodic reloads")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

impl Scheduler {
    fn now(&self) -> f64 {
        self.clock.now().timestamp_micros() as f64 / 1e6
    }

    async fn run(mut self, changed: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        let renew_every = self.config.leader_ttl / 3;
        let mut next_renew = Instant::now();
        let mut next_heartbeat = Instant::now();
        let mut reload_requested = true;
        let mut failing = false;
        while !*stop.borrow() {
            if Instant::now() >= next_renew {
                self.renew_leadership().await;
                next_renew = Instant::now() + renew_every;
            }
            if self.leader {
                let outcome = self.lead_once(&mut reload_requested).await;
                match outcome {
                    Ok(()) => failing = false,
                    Err(e) => {
                        if !failing {
                            tracing::warn!(error = %e, "scheduling step failed; retrying");
                        }
                        failing = true;
                        reload_requested = true;
                    }
                }
            }
            if Instant::now() >= next_heartbeat {
                let emitted = std::mem::take(&mut self.tasks_since_heartbeat);
                if let Err(e) = self
                    .bus
                    .heartbeat(&self.config.name, emitted, self.now())
                    .await
                {
                    tracing::debug!(error = %e, "heartbeat failed");
                }
                next_heartbeat = Instant::now() + self.config.heartbeat_interval;
            }
            let until_due = self
                .schedule
                .next_due()
                .filter(|_| self.leader)
                .map(|due| Duration::from_secs_f64((due - self.now()).max(0.0)))
                .unwrap_or(MAX_SLEEP);
            let sleep = until_due
                .min(MAX_SLEEP)
                .min(next_renew.saturating_duration_since(Instant::now()));
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = changed.notified() => reload_requested = true,
                _ = stop.wait_for(|s| *s) => {}
            }
        }
        if self.leader
            && let Err(e) = self.bus.resign(ROLE, &self.config.name).await
        {
            tracing::debug!(error = %e, "could not resign; the lease expires instead");
        }
        self.metrics.leader.set(0);
        tracing::info!(scheduler = %self.config.name, "scheduler stopped");
    }

    async fn renew_leadership(&mut self) {
        let led = self
            .bus
            .lead(ROLE, &self.config.name, self.config.leader_ttl)
            .await
            .unwrap_or_else(|e| {
                tracing::debug!(error = %e, "leader election failed");
                false
            });
        if led != self.leader {
            if led {
                tracing::info!(scheduler = %self.config.name, "leading: scheduling checks");
                self.loaded_version = None;
            } else {
                tracing::info!(scheduler = %self.config.name, "no longer leading: waiting");
                self.schedule = Schedule::default();
            }
        }
        self.leader = led;
        self.metrics.leader.set(i64::from(led));
    }

    async fn lead_once(&mut self, reload_requested: &mut bool) -> Result<(), LoopError> {
        let since_reload = self.last_reload.map(|t| t.elapsed());
        let periodic = since_reload.is_none_or(|e| e >= self.config.reload_interval);
        // Bursts of changes (an agent pushing many entities) cause one
        // reload per gap, not one per change.
        let notified = *reload_requested && since_reload.is_none_or(|e| e >= MIN_RELOAD_GAP);
        if notified || periodic || self.loaded_version.is_none() {
            *reload_requested = false;
            self.reload(notified || self.loaded_version.is_none())
                .await?;
        }
        let now = self.now();
        let mut due = self.schedule.take_due(now);
        for id in self.bus.take_instant_evaluations().await? {
            if self.schedule.contains(id) && !due.contains(&id) {
                due.push(id);
            }
        }
        if !due.is_empty() {
            self.emit(&due, now).await?;
        }
        self.clean_up(now).await?;
        Ok(())
    }

    /// Rebuilds the plan: always when `force` (a change was notified),
    /// otherwise only if the store's change counter moved.
    async fn reload(&mut self, force: bool) -> Result<(), LoopError> {
        let version = self
            .store
            .change_counter(&[
                AuditKind::Entity,
                AuditKind::CheckDefinition,
                AuditKind::AlertDefinition,
            ])
            .await?;
        self.last_reload = Some(Instant::now());
        if !force && self.loaded_version == Some(version) {
            return Ok(());
        }
        let checks = self
            .store
            .checks(Some(zmon_core::DefinitionStatus::Active))
            .await?;
        let alerts = AlertTree::new(self.store.alert_nodes().await?).all_effective();
        let mut entities: Vec<Entity> = self
            .store
            .entities(&EntityQuery::default())
            .await?
            .into_iter()
            .map(|e| e.entity)
            .collect();
        if self.config.global_entity {
            entities.push(global_entity());
        }
        let plan = Plan::build(&checks, &alerts, &entities, &self.config.routing);
        let now = self.now();
        if self.loaded_version.is_some() {
            self.schedule_cleanup(&plan, now);
        }
        self.schedule.update(
            plan.checks.values().map(|p| (p.check.id, p.check.interval)),
            now,
        );
        for id in checks_with_new_alerts(&self.plan, &plan) {
            self.schedule.run_now(id, now);
        }
        self.metrics.targets.set(plan.target_count() as i64);
        self.metrics.reloads.inc();
        tracing::debug!(
            checks = plan.checks.len(),
            targets = plan.target_count(),
            version,
            "plan reloaded"
        );
        self.plan = plan;
        self.loaded_version = Some(version);
        Ok(())
    }

    fn schedule_cleanup(&mut self, next: &Plan, now: f64) {
        let due = now + self.config.cleanup_delay.as_secs_f64();
        let gone_checks = self.plan.check_pairs();
        let kept_checks = next.check_pairs();
        for (c, e) in gone_checks.difference(&kept_checks) {
            self.cleanup
                .entry(Stale::Check(*c, e.clone()))
                .or_insert(due);
        }
        let gone_alerts = self.plan.alert_pairs();
        let kept_alerts = next.alert_pairs();
        let gone: BTreeSet<&(i64, String)> = gone_alerts.difference(&kept_alerts).collect();
        for (a, e) in &gone {
            self.cleanup
                .entry(Stale::Alert(*a, e.clone()))
                .or_insert(due);
        }
        if gone.is_empty() {
            // A reload that drops nothing needs no walk over every target.
            return;
        }
        for plan in self.plan.checks.values() {
            for target in &plan.targets {
                for &i in &target.alerts {
                    let Some(alert) = plan.alerts.get(i) else {
                        continue;
                    };
                    let key = (alert.id, target.entity_id.clone());
                    if gone.contains(&key) {
                        self.stale_alerts.entry(key).or_insert_with(|| StaleAlert {
                            alert: TaskAlert::from_definition(alert),
                            entity: (*target.entity).clone(),
                        });
                    }
                }
            }
        }
    }

    /// Forgets pairs whose delay passed and that did not come back.
    async fn clean_up(&mut self, now: f64) -> Result<(), LoopError> {
        if self.cleanup.is_empty() {
            return Ok(());
        }
        let due: Vec<Stale> = self
            .cleanup
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(s, _)| s.clone())
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        let checks: BTreeSet<(i64, String)> = self.plan.check_pairs();
        let alerts: BTreeSet<(i64, String)> = self.plan.alert_pairs();
        for stale in due {
            match &stale {
                Stale::Check(c, e) if !checks.contains(&(*c, e.clone())) => {
                    self.bus.forget_check_entity(*c, e).await?;
                }
                Stale::Alert(a, e) if !alerts.contains(&(*a, e.clone())) => {
                    let known = self.stale_alerts.get(&(*a, e.clone()));
                    incidents::forget_and_close(
                        self.bus.as_ref(),
                        known,
                        *a,
                        e,
                        &self.config.name,
                        now,
                    )
                    .await?;
                }
                _ => {}
            }
            if let Stale::Alert(a, e) = &stale {
                self.stale_alerts.remove(&(*a, e.clone()));
            }
            self.cleanup.remove(&stale);
        }
        Ok(())
    }

    async fn emit(&mut self, check_ids: &[i64], now: f64) -> Result<(), LoopError> {
        let mut by_queue: BTreeMap<&str, Vec<Task>> = BTreeMap::new();
        for id in check_ids {
            let Some(plan) = self.plan.checks.get(id) else {
                continue;
            };
            for target in &plan.targets {
                let alerts: Vec<_> = target.alerts.iter().map(|&i| &plan.alerts[i]).collect();
                by_queue
                    .entry(target.queue.as_str())
                    .or_default()
                    .push(Task::scheduled(&plan.check, &target.entity, &alerts, now));
            }
        }
        for (queue, tasks) in by_queue {
            self.bus.enqueue(queue, &tasks).await?;
            self.tasks_since_heartbeat += tasks.len() as u64;
            self.metrics.tasks.inc_by(tasks.len() as u64);
        }
        Ok(())
    }
}

/// Checks in both plans whose alerts in `next` include one that `previous`
/// did not have, or had with another definition. (Checks new to the plan
/// are the schedule's business.) Per check, not per target, so it stays
/// cheap at millions of pairs.
fn checks_with_new_alerts(previous: &Plan, next: &Plan) -> Vec<i64> {
    next.checks
        .iter()
        .filter(|(id, plan)| {
            previous
                .checks
                .get(id)
                .is_some_and(|old| plan.alerts.iter().any(|a| !old.alerts.contains(a)))
        })
        .map(|(id, _)| *id)
        .collect()
}

/// ZMON's synthetic `GLOBAL` entity, for checks that are not about one
/// entity (e.g. counting instances).
fn global_entity() -> Entity {
    let mut doc = Map::new();
    doc.insert("id".into(), Value::String("GLOBAL".into()));
    doc.insert("type".into(), Value::String("GLOBAL".into()));
    Entity::from_stored(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zmon_store::testing::TestDatabase;

    #[tokio::test]
    async fn a_listener_asks_for_a_reload_as_soon_as_it_listens() {
        let db = TestDatabase::create().await.expect("database");
        let store: Arc<dyn Store> = Arc::new(db.store().await.expect("store"));
        let changed = Arc::new(Notify::new());
        let (stop, stop_rx) = watch::channel(false);
        let listener = tokio::spawn(listen(store, changed.clone(), stop_rx));
        // Nothing changes in the store: the request covers what changed
        // before listening began.
        tokio::time::timeout(Duration::from_secs(10), changed.notified())
            .await
            .expect("a reload was asked for");
        let _ = stop.send(true);
        listener.await.expect("listener stops");
    }
}
