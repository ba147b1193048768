//! The bus inside one process, for the zero-configuration standalone mode.
//!
//! It keeps what `RedisBus` keeps, with the same observable behaviour, in
//! memory: nothing survives a restart, which the standalone mode accepts
//! (the scheduler re-enqueues, alert state is rebuilt by the next runs).
//!
//! Each area has its own lock, held only for short synchronous sections and
//! never across an `.await`. `record` takes the state lock and then the
//! queue lock so a result and its acknowledgement land together; nothing
//! takes them in the other order.
//!
//! TTLs run on `tokio::time::Instant`. Expired entries are dropped when
//! read, and a sweep that runs at most every [`SWEEP_EVERY`] on writes keeps
//! entries nobody reads again from piling up.

mod control;
mod events;
mod groups;
mod hosts;
mod queue;
mod state;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};
use zmon_core::downtime::Downtime;
use zmon_core::event::AlertEvent;
use zmon_core::group::{Group, GroupChange, GroupSpec, Member};
use zmon_core::host::{HostRegistration, HostReport};
use zmon_core::monitor::ProbeSample;
use zmon_core::notification::NotificationRequest;
use zmon_core::status::CheckResult;
use zmon_core::task::TrialResult;
use zmon_core::{AlertStatus, Task};

use crate::{
    AlertTransition, Bus, BusResult, CheckRecord, ClaimedTask, PlatformStatus, StreamConsumer,
    TaskConsumer,
};

/// The least time between two sweeps of expired entries.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// Limits of the in-process bus.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryBusConfig {
    /// Tasks waiting on one queue (claimed tasks not counted). Beyond it,
    /// `enqueue` drops the oldest waiting tasks: they are the most likely
    /// to have expired, and the scheduler enqueues them again anyway.
    pub max_queue_length: usize,
    /// Entries each stream (alert events, probe samples) keeps; beyond it
    /// the oldest are dropped, as Redis trims a stream.
    pub max_events: usize,
    /// Events a consumer took but did not acknowledge for this long go to
    /// the next consumer of the group that reads (Redis: XAUTOCLAIM).
    pub event_claim_after: Duration,
}

impl Default for MemoryBusConfig {
    fn default() -> Self {
        Self {
            max_queue_length: 100_000,
            max_events: 100_000,
            event_claim_after: Duration::from_secs(60),
        }
    }
}

/// The bus in memory. Clones share the same bus.
#[derive(Clone)]
pub struct MemoryBus {
    shared: Arc<Shared>,
}

impl Default for MemoryBus {
    fn default() -> Self {
        Self::new(MemoryBusConfig::default())
    }
}

struct Shared {
    queues: queue::Queues,
    state: Mutex<state::State>,
    events: Arc<events::Events<AlertEvent>>,
    probes: Arc<events::Events<ProbeSample>>,
    notifications: Arc<events::Events<NotificationRequest>>,
    control: Mutex<control::Control>,
    hosts: Mutex<hosts::Hosts>,
    groups: Mutex<groups::Groups>,
}

impl MemoryBus {
    pub fn new(config: MemoryBusConfig) -> Self {
        Self {
            shared: Arc::new(Shared {
                queues: queue::Queues::new(config.max_queue_length),
                state: Mutex::default(),
                events: Arc::new(events::Events::new(
                    config.max_events,
                    config.event_claim_after,
                )),
                probes: Arc::new(events::Events::new(
                    config.max_events,
                    config.event_claim_after,
                )),
                notifications: Arc::new(events::Events::new(
                    config.max_events,
                    config.event_claim_after,
                )),
                control: Mutex::default(),
                hosts: Mutex::default(),
                groups: Mutex::default(),
            }),
        }
    }

    /// Marks an alert acknowledged (or not). With Redis, ZMON's tooling
    /// writes the acknowledgement set directly; in process, this is the way.
    pub fn set_alert_acknowledged(&self, alert_id: i64, acknowledged: bool) {
        lock(&self.shared.state).set_acknowledged(alert_id, acknowledged);
    }
}

/// A panic while locked leaves data that is still consistent enough for a
/// monitoring bus (every section updates plain collections), so poisoning
/// is ignored rather than spreading the panic to every caller.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl Bus for MemoryBus {
    async fn ping(&self) -> BusResult<()> {
        Ok(())
    }

    async fn enqueue(&self, queue: &str, tasks: &[Task]) -> BusResult<()> {
        self.shared.queues.enqueue(queue, tasks);
        Ok(())
    }

    async fn consumer(&self, queue: &str, consumer: &str) -> BusResult<Box<dyn TaskConsumer>> {
        Ok(Box::new(queue::MemoryConsumer::new(
            Arc::clone(&self.shared),
            queue,
            consumer,
        )))
    }

    async fn keep_consumer_alive(
        &self,
        queue: &str,
        consumer: &str,
        ttl: Duration,
    ) -> BusResult<()> {
        self.shared.queues.keep_alive(queue, consumer, ttl);
        Ok(())
    }

    async fn ack(&self, task: &ClaimedTask) -> BusResult<()> {
        self.shared.queues.ack(task);
        Ok(())
    }

    async fn release(&self, task: &ClaimedTask) -> BusResult<()> {
        self.shared.queues.release(task);
        Ok(())
    }

    async fn recover_abandoned(&self, queue: &str) -> BusResult<usize> {
        Ok(self.shared.queues.recover_abandoned(queue))
    }

    async fn hand_back(&self, queue: &str, consumer: &str) -> BusResult<usize> {
        Ok(self.shared.queues.hand_back(queue, consumer))
    }

    async fn queue_length(&self, queue: &str) -> BusResult<i64> {
        Ok(self.shared.queues.length(queue) as i64)
    }

    async fn recent_results(
        &self,
        check_id: i64,
        entity: &str,
        count: usize,
    ) -> BusResult<Vec<CheckResult>> {
        Ok(lock(&self.shared.state).recent_results(check_id, entity, count))
    }

    async fn evaluated_entity_results(
        &self,
        alert_id: i64,
        check_id: i64,
        count: usize,
    ) -> BusResult<Vec<(String, Vec<CheckResult>)>> {
        Ok(lock(&self.shared.state).evaluated_entity_results(alert_id, check_id, count))
    }

    async fn task_context(
        &self,
        check_id: i64,
        entity: &str,
        alert_ids: &[i64],
        history: usize,
    ) -> BusResult<(Vec<Vec<Downtime>>, Vec<CheckResult>)> {
        Ok(lock(&self.shared.state).task_context(check_id, entity, alert_ids, history))
    }

    async fn record(
        &self,
        record: &CheckRecord,
        claim: Option<&ClaimedTask>,
    ) -> BusResult<Vec<AlertTransition>> {
        let mut state = lock(&self.shared.state);
        let transitions = state.record(record);
        // Under the state lock, so nobody sees the result with the task
        // still claimed.
        if let Some(claim) = claim {
            self.shared.queues.ack(claim);
        }
        Ok(transitions)
    }

    async fn publish_events(&self, events: &[AlertEvent]) -> BusResult<()> {
        self.shared.events.publish(events);
        Ok(())
    }

    async fn heartbeat(&self, name: &str, checks_run: u64, now: f64) -> BusResult<()> {
        lock(&self.shared.control).heartbeat(name, checks_run, now);
        Ok(())
    }

    async fn start_trial_run(&self, id: &str, entities: &[String], ttl: Duration) -> BusResult<()> {
        lock(&self.shared.control).start_trial_run(id, entities, ttl);
        Ok(())
    }

    async fn record_trial_result(
        &self,
        id: &str,
        result: &TrialResult,
        ttl: Duration,
    ) -> BusResult<()> {
        lock(&self.shared.control).record_trial_result(id, result, ttl);
        Ok(())
    }

    async fn trial_run(&self, id: &str) -> BusResult<Option<(usize, Vec<TrialResult>)>> {
        Ok(lock(&self.shared.control).trial_run(id))
    }

    async fn request_instant_evaluation(&self, check_id: i64) -> BusResult<()> {
        lock(&self.shared.control).request_instant_evaluation(check_id);
        Ok(())
    }

    async fn take_instant_evaluations(&self) -> BusResult<Vec<i64>> {
        Ok(lock(&self.shared.control).take_instant_evaluations())
    }

    async fn event_consumer(
        &self,
        group: &str,
        consumer: &str,
    ) -> BusResult<Box<dyn StreamConsumer<AlertEvent>>> {
        Ok(Box::new(events::MemoryStreamConsumer::new(
            Arc::clone(&self.shared.events),
            group,
            consumer,
        )))
    }

    async fn groups(&self) -> BusResult<Vec<Group>> {
        Ok(lock(&self.shared.groups).all())
    }

    async fn group_member(&self, member: &str) -> BusResult<Member> {
        Ok(lock(&self.shared.groups).member(member))
    }

    async fn change_group(&self, change: &GroupChange) -> BusResult<i64> {
        Ok(lock(&self.shared.groups).change(change))
    }

    async fn put_group(&self, id: &str, spec: &GroupSpec) -> BusResult<()> {
        lock(&self.shared.groups).put(id, spec);
        Ok(())
    }

    async fn delete_group(&self, id: &str) -> BusResult<bool> {
        Ok(lock(&self.shared.groups).delete(id))
    }

    async fn notification_marks(
        &self,
        alert_id: i64,
        scope: &str,
    ) -> BusResult<BTreeMap<String, f64>> {
        Ok(lock(&self.shared.state).notification_marks(alert_id, scope))
    }

    async fn update_notification_marks(
        &self,
        alert_id: i64,
        scope: &str,
        set: &[(String, f64)],
        remove: &[String],
    ) -> BusResult<()> {
        lock(&self.shared.state).update_notification_marks(alert_id, scope, set, remove);
        Ok(())
    }

    async fn publish_notifications(&self, requests: &[NotificationRequest]) -> BusResult<()> {
        self.shared.notifications.publish(requests);
        Ok(())
    }

    async fn notification_consumer(
        &self,
        group: &str,
        consumer: &str,
    ) -> BusResult<Box<dyn StreamConsumer<NotificationRequest>>> {
        Ok(Box::new(events::MemoryStreamConsumer::new(
            Arc::clone(&self.shared.notifications),
            group,
            consumer,
        )))
    }

    async fn publish_probe_samples(&self, samples: &[ProbeSample]) -> BusResult<()> {
        self.shared.probes.publish(samples);
        Ok(())
    }

    async fn probe_consumer(
        &self,
        group: &str,
        consumer: &str,
    ) -> BusResult<Box<dyn StreamConsumer<ProbeSample>>> {
        Ok(Box::new(events::MemoryStreamConsumer::new(
            Arc::clone(&self.shared.probes),
            group,
            consumer,
        )))
    }

    async fn lead(&self, role: &str, holder: &str, ttl: Duration) -> BusResult<bool> {
        Ok(lock(&self.shared.control).lead(role, holder, ttl))
    }

    async fn resign(&self, role: &str, holder: &str) -> BusResult<()> {
        lock(&self.shared.control).resign(role, holder);
        Ok(())
    }

    async fn forget_check_entity(&self, check_id: i64, entity: &str) -> BusResult<()> {
        lock(&self.shared.state).forget_check_entity(check_id, entity);
        Ok(())
    }

    async fn forget_alert_entity(&self, alert_id: i64, entity: &str) -> BusResult<()> {
        lock(&self.shared.state).forget_alert_entity(alert_id, entity);
        Ok(())
    }

    async fn alert_states(
        &self,
        alert_ids: &[i64],
    ) -> BusResult<BTreeMap<i64, BTreeMap<String, AlertStatus>>> {
        Ok(lock(&self.shared.state).alert_states(alert_ids))
    }

    async fn raised_entities(&self, alert_id: i64) -> BusResult<BTreeSet<String>> {
        Ok(lock(&self.shared.state).raised_entities(alert_id))
    }

    async fn evaluated_entities(
        &self,
        alert_id: i64,
    ) -> BusResult<BTreeMap<String, Map<String, Value>>> {
        Ok(lock(&self.shared.state).evaluated_entities(alert_id))
    }

    async fn latest_results(
        &self,
        check_id: i64,
        entities: &[String],
    ) -> BusResult<BTreeMap<String, CheckResult>> {
        Ok(lock(&self.shared.state).latest_results(check_id, entities))
    }

    async fn raised_alert_ids(&self) -> BusResult<BTreeSet<i64>> {
        Ok(lock(&self.shared.state).raised_alert_ids())
    }

    async fn acknowledged_alert_ids(&self) -> BusResult<BTreeSet<i64>> {
        Ok(lock(&self.shared.state).acknowledged_alert_ids())
    }

    async fn platform_status(&self, queues: &[String]) -> BusResult<PlatformStatus> {
        let alerts_active = lock(&self.shared.state).raised_alert_count();
        let workers = lock(&self.shared.control).workers();
        let queues = self.shared.queues.status(queues);
        Ok(PlatformStatus {
            alerts_active: alerts_active as i64,
            workers,
            queues,
        })
    }

    async fn register_host(&self, registration: &HostRegistration) -> BusResult<()> {
        lock(&self.shared.hosts).register(registration);
        Ok(())
    }

    async fn host_registrations(&self) -> BusResult<Vec<HostRegistration>> {
        Ok(lock(&self.shared.hosts).registrations())
    }

    async fn report_host_status(&self, report: &HostReport, ttl: Duration) -> BusResult<()> {
        lock(&self.shared.hosts).report_status(report, ttl);
        Ok(())
    }

    async fn host_reports(&self, ids: &[String]) -> BusResult<BTreeMap<String, HostReport>> {
        Ok(lock(&self.shared.hosts).reports(ids))
    }

    async fn mirror_downtimes(&self, downtimes: &[Downtime]) -> BusResult<()> {
        lock(&self.shared.state).mirror_downtimes(downtimes);
        Ok(())
    }

    async fn unmirror_downtimes(&self, downtimes: &[Downtime]) -> BusResult<()> {
        lock(&self.shared.state).unmirror_downtimes(downtimes);
        Ok(())
    }

    async fn downtime_mirror_version(&self) -> BusResult<Option<i64>> {
        Ok(lock(&self.shared.state).downtime_mirror_version())
    }

    async fn mirrored_downtimes(&self) -> BusResult<Vec<Downtime>> {
        Ok(lock(&self.shared.state).mirrored_downtimes())
    }

    async fn set_downtime_mirror_version(&self, version: i64) -> BusResult<()> {
        lock(&self.shared.state).set_downtime_mirror_version(version);
        Ok(())
    }
}
