//! The bus seam: everything that flows between controller, scheduler and
//! workers besides the database.
//!
//! - the scheduler puts [`Task`]s on queues and workers claim them, at least
//!   once: a claimed task stays claimed until it is acknowledged, and the
//!   tasks of a worker that stops living are handed back;
//! - workers store check results and alert state, read downtimes, publish
//!   alert state changes, and report heartbeats;
//! - the controller reads alert state, keeps the downtime mirror, consumes
//!   the events, and runs trial runs and instant evaluations;
//! - schedulers elect a leader.
//!
//! Two implementations, with the same observable behaviour (one behaviour
//! test suite, `tests/behaviour.rs`, runs against both):
//!
//! - [`RedisBus`] keeps everything in Redis with ZMON's key names, for
//!   distributed components;
//! - [`MemoryBus`] keeps it inside one process, for the zero-configuration
//!   standalone mode. Nothing survives a restart. Its bounds are set by
//!   [`MemoryBusConfig`]: a full queue drops its oldest waiting tasks, a
//!   full event backlog its oldest events, and events taken but not
//!   acknowledged within `event_claim_after` (60 s by default, as Redis's
//!   XAUTOCLAIM here) are delivered again.
//!
//! The trait speaks of what the loops need, not of Redis commands.

mod memory;
mod redis;
#[cfg(feature = "testing")]
pub mod testing;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use zmon_core::downtime::Downtime;
use zmon_core::event::AlertEvent;
use zmon_core::group::{Group, GroupChange, GroupSpec, Member};
use zmon_core::host::{HostRegistration, HostReport};
use zmon_core::monitor::ProbeSample;
use zmon_core::notification::NotificationRequest;
use zmon_core::status::CheckResult;
use zmon_core::task::TrialResult;
use zmon_core::{AlertStatus, Task};

pub use self::memory::{MemoryBus, MemoryBusConfig};
pub use self::redis::RedisBus;

/// Results kept per check and entity, as in ZMON.
pub(crate) const RESULTS_KEPT: usize = 20;

pub type BusResult<T> = Result<T, BusError>;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("redis connection timed out")]
    Timeout,
    #[error("cannot encode a message: {0}")]
    Encode(#[from] serde_json::Error),
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WorkerStatus {
    pub name: String,
    /// Epoch seconds of the worker's last heartbeat.
    pub last_execution_time: f64,
    pub check_invocations: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QueueStatus {
    pub name: String,
    pub size: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlatformStatus {
    pub alerts_active: i64,
    pub workers: Vec<WorkerStatus>,
    pub queues: Vec<QueueStatus>,
}

/// A task a worker has claimed. It stays claimed, and is handed to another
/// worker if this one dies, until it is acknowledged or released.
#[derive(Debug, Clone)]
pub struct ClaimedTask {
    /// The task, or why its payload could not be read.
    pub task: Result<Task, String>,
    pub queue: String,
    pub consumer: String,
    /// The payload as queued; identifies the claim.
    pub receipt: String,
}

/// Claims tasks from one queue for one consumer.
#[async_trait]
pub trait TaskConsumer: Send {
    /// Waits up to `wait` for a task and claims it.
    async fn next(&mut self, wait: Duration) -> BusResult<Option<ClaimedTask>>;
}

/// An alert's verdict on one entity, to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertUpdate {
    pub alert_id: i64,
    /// Captures (parameters included), kept for every evaluated entity.
    pub captures: Map<String, Value>,
    /// The state to show while raised; `None` when the alert is not raised
    /// (or outside its period). Its `start_time` is replaced by the time the
    /// alert started, which the bus keeps.
    pub raised: Option<AlertStatus>,
}

/// What changed when an alert update was recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertTransition {
    pub alert_id: i64,
    /// The alert started or ended on this entity.
    pub entity_changed: bool,
    /// The alert started or ended as a whole.
    pub alert_changed: bool,
    /// Epoch seconds the alert started on this entity, while raised.
    pub start_time: Option<f64>,
}

/// One check run to record: its result and the alerts' verdicts.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRecord {
    pub check_id: i64,
    pub entity: String,
    pub result: CheckResult,
    pub alerts: Vec<AlertUpdate>,
}

/// Reads a stream (alert events, probe samples) for one consumer of a
/// consumer group.
#[async_trait]
pub trait StreamConsumer<T>: Send {
    /// Waits up to `wait` for entries; each must be acknowledged.
    async fn next(
        &mut self,
        max: usize,
        wait: Duration,
    ) -> BusResult<Vec<(String, Result<T, String>)>>;
    async fn ack(&mut self, ids: &[String]) -> BusResult<()>;
}

#[async_trait]
pub trait Bus: Send + Sync + 'static {
    async fn ping(&self) -> BusResult<()>;

    // Task queues.

    /// Appends tasks to a queue (`default` → `zmon:queue:default`).
    async fn enqueue(&self, queue: &str, tasks: &[Task]) -> BusResult<()>;
    /// A consumer of `queue`, named `consumer`. Each consumer has its own
    /// connection, since waiting for a task blocks it.
    async fn consumer(&self, queue: &str, consumer: &str) -> BusResult<Box<dyn TaskConsumer>>;
    /// Marks a consumer alive for `ttl`; tasks of consumers that stop doing
    /// so are handed back by [`Bus::recover_abandoned`].
    async fn keep_consumer_alive(
        &self,
        queue: &str,
        consumer: &str,
        ttl: Duration,
    ) -> BusResult<()>;
    /// Finishes a claimed task.
    async fn ack(&self, task: &ClaimedTask) -> BusResult<()>;
    /// Hands an unfinished task back to the queue.
    async fn release(&self, task: &ClaimedTask) -> BusResult<()>;
    /// Hands back the tasks of consumers that are no longer alive; returns
    /// how many.
    async fn recover_abandoned(&self, queue: &str) -> BusResult<usize>;
    /// Hands back every task `consumer` holds: at start-up (what it holds
    /// is left from a previous life) and at shutdown (what it could not
    /// finish). Returns how many.
    async fn hand_back(&self, queue: &str, consumer: &str) -> BusResult<usize>;
    async fn queue_length(&self, queue: &str) -> BusResult<i64>;

    // Check results and alert state (workers).

    /// The newest results of a check on an entity, newest first.
    async fn recent_results(
        &self,
        check_id: i64,
        entity: &str,
        count: usize,
    ) -> BusResult<Vec<CheckResult>>;
    /// The newest results of a check on every entity an alert was evaluated on.
    async fn evaluated_entity_results(
        &self,
        alert_id: i64,
        check_id: i64,
        count: usize,
    ) -> BusResult<Vec<(String, Vec<CheckResult>)>>;
    /// What a task needs before it runs, in one round trip: the downtimes
    /// mirrored for each of its alerts on `entity`, and the newest
    /// `history` results of the check on it (newest first).
    async fn task_context(
        &self,
        check_id: i64,
        entity: &str,
        alert_ids: &[i64],
        history: usize,
    ) -> BusResult<(Vec<Vec<Downtime>>, Vec<CheckResult>)>;
    /// Stores a result and the alerts' verdicts, and finishes `claim` in
    /// the same step; returns what changed.
    async fn record(
        &self,
        record: &CheckRecord,
        claim: Option<&ClaimedTask>,
    ) -> BusResult<Vec<AlertTransition>>;
    async fn publish_events(&self, events: &[AlertEvent]) -> BusResult<()>;
    /// A worker or scheduler reports that it lives and how many checks it ran.
    async fn heartbeat(&self, name: &str, checks_run: u64, now: f64) -> BusResult<()>;

    // Trial runs.

    async fn start_trial_run(&self, id: &str, entities: &[String], ttl: Duration) -> BusResult<()>;
    async fn record_trial_result(
        &self,
        id: &str,
        result: &TrialResult,
        ttl: Duration,
    ) -> BusResult<()>;
    /// How many entities the trial run covers and the results so far;
    /// `None` once it expired or if it never existed.
    async fn trial_run(&self, id: &str) -> BusResult<Option<(usize, Vec<TrialResult>)>>;

    // Instant evaluation (controller to scheduler).

    async fn request_instant_evaluation(&self, check_id: i64) -> BusResult<()>;
    async fn take_instant_evaluations(&self) -> BusResult<Vec<i64>>;

    // Alert events (workers to controller).

    async fn event_consumer(
        &self,
        group: &str,
        consumer: &str,
    ) -> BusResult<Box<dyn StreamConsumer<AlertEvent>>>;

    // On-call groups (ZMON's keys; read when notifications are sent).

    async fn groups(&self) -> BusResult<Vec<Group>>;
    async fn group_member(&self, member: &str) -> BusResult<Member>;
    /// Applies a v1 change; answers Redis's integer reply.
    async fn change_group(&self, change: &GroupChange) -> BusResult<i64>;
    /// Replaces a group: name, members (with names and phones), on call.
    async fn put_group(&self, id: &str, spec: &GroupSpec) -> BusResult<()>;
    async fn delete_group(&self, id: &str) -> BusResult<bool>;

    // Notifications (workers to the notifier).

    /// The marks of notification entries sent for an alert on an entity
    /// (`scope`), or for the alert as a whole (`scope` empty): entry to
    /// the time its next repeat is due (0: none). Recording the end of an
    /// alert on an entity drops that entity's marks.
    async fn notification_marks(
        &self,
        alert_id: i64,
        scope: &str,
    ) -> BusResult<BTreeMap<String, f64>>;
    async fn update_notification_marks(
        &self,
        alert_id: i64,
        scope: &str,
        set: &[(String, f64)],
        remove: &[String],
    ) -> BusResult<()>;
    async fn publish_notifications(&self, requests: &[NotificationRequest]) -> BusResult<()>;
    async fn notification_consumer(
        &self,
        group: &str,
        consumer: &str,
    ) -> BusResult<Box<dyn StreamConsumer<NotificationRequest>>>;

    // Monitor probe samples (workers to controller).

    async fn publish_probe_samples(&self, samples: &[ProbeSample]) -> BusResult<()>;
    async fn probe_consumer(
        &self,
        group: &str,
        consumer: &str,
    ) -> BusResult<Box<dyn StreamConsumer<ProbeSample>>>;

    // Leadership (schedulers).

    /// Takes or keeps the lead of `role` for `ttl`; false when another
    /// holder has it.
    async fn lead(&self, role: &str, holder: &str, ttl: Duration) -> BusResult<bool>;
    async fn resign(&self, role: &str, holder: &str) -> BusResult<()>;

    // Clean-up (scheduler).

    /// Forgets the results of a check on an entity it no longer runs on.
    async fn forget_check_entity(&self, check_id: i64, entity: &str) -> BusResult<()>;
    /// Forgets the state of an alert on an entity it no longer applies to.
    async fn forget_alert_entity(&self, alert_id: i64, entity: &str) -> BusResult<()>;

    // Status (controller).

    /// For each alert, the state of every entity it is raised on. Alerts
    /// raised nowhere are left out.
    async fn alert_states(
        &self,
        alert_ids: &[i64],
    ) -> BusResult<BTreeMap<i64, BTreeMap<String, AlertStatus>>>;
    /// [`Bus::alert_states`] as the stored JSON documents, for callers that
    /// only pass them on (the status API): no document is parsed into
    /// values and written out again. A stored document that is not a JSON
    /// object is left out, as [`Bus::alert_states`] leaves it out.
    async fn alert_states_json(
        &self,
        alert_ids: &[i64],
    ) -> BusResult<BTreeMap<i64, BTreeMap<String, Box<RawValue>>>> {
        let mut out = BTreeMap::new();
        for (id, entities) in self.alert_states(alert_ids).await? {
            let mut docs = BTreeMap::new();
            for (entity, status) in entities {
                docs.insert(entity, serde_json::value::to_raw_value(&status)?);
            }
            out.insert(id, docs);
        }
        Ok(out)
    }
    /// Entities the alert is raised on.
    async fn raised_entities(&self, alert_id: i64) -> BusResult<BTreeSet<String>>;
    /// Every entity the alert was evaluated on, with its captures.
    async fn evaluated_entities(
        &self,
        alert_id: i64,
    ) -> BusResult<BTreeMap<String, Map<String, Value>>>;
    /// The newest result of a check per entity; entities without one are left out.
    async fn latest_results(
        &self,
        check_id: i64,
        entities: &[String],
    ) -> BusResult<BTreeMap<String, CheckResult>>;
    /// Alerts raised on at least one entity.
    async fn raised_alert_ids(&self) -> BusResult<BTreeSet<i64>>;
    async fn acknowledged_alert_ids(&self) -> BusResult<BTreeSet<i64>>;
    async fn platform_status(&self, queues: &[String]) -> BusResult<PlatformStatus>;

    // Hosts (workers publish, the controller reads).

    /// Publishes the registration of the host a worker runs on; the
    /// controller turns it into a `type: host` entity.
    async fn register_host(&self, registration: &HostRegistration) -> BusResult<()>;
    /// Every registration published so far, one per host.
    async fn host_registrations(&self) -> BusResult<Vec<HostRegistration>>;
    /// Stores a host's latest status; it expires after `ttl` without a
    /// newer one.
    async fn report_host_status(&self, report: &HostReport, ttl: Duration) -> BusResult<()>;
    /// The latest status of each host that has one.
    async fn host_reports(&self, ids: &[String]) -> BusResult<BTreeMap<String, HostReport>>;

    // The downtime mirror (controller writes, workers read).

    async fn mirror_downtimes(&self, downtimes: &[Downtime]) -> BusResult<()>;
    async fn unmirror_downtimes(&self, downtimes: &[Downtime]) -> BusResult<()>;
    /// The store change counter the mirror was last rebuilt from; `None`
    /// when the mirror is missing (e.g. after a Redis restart).
    async fn downtime_mirror_version(&self) -> BusResult<Option<i64>>;
    /// Every downtime the mirror holds now.
    async fn mirrored_downtimes(&self) -> BusResult<Vec<Downtime>>;
    /// Records the store change counter the mirror now reflects.
    async fn set_downtime_mirror_version(&self, version: i64) -> BusResult<()>;
}
