//! The bus on Redis, with ZMON's key names (see `zmon_core::keys`).

mod control;
mod events;
mod groups;
mod hosts;
mod notify;
mod queue;
mod state;

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use ::redis::{AsyncConnectionConfig, FromRedisValue, Pipeline};
use async_trait::async_trait;
use serde_json::{Map, Value};
use tokio::sync::OnceCell;
use zmon_core::downtime::Downtime;
use zmon_core::event::AlertEvent;
use zmon_core::group::{Group, GroupChange, GroupSpec, Member};
use zmon_core::host::{HostRegistration, HostReport};
use zmon_core::monitor::ProbeSample;
use zmon_core::notification::NotificationRequest;
use zmon_core::status::CheckResult;
use zmon_core::task::TrialResult;
use zmon_core::{AlertStatus, KeySpace, Task};

use super::*;

pub struct RedisBus {
    client: ::redis::Client,
    connection: OnceCell<ConnectionManager>,
    keys: KeySpace,
    /// The alert-state script is in Redis's script cache.
    scripts_loaded: AtomicBool,
}

impl RedisBus {
    fn event_stream(&self) -> events::StreamKey {
        events::StreamKey {
            key: self.keys.events(),
            field: "event",
        }
    }

    fn notify_stream(&self) -> events::StreamKey {
        events::StreamKey {
            key: self.keys.notify_stream(),
            field: "request",
        }
    }

    fn probe_stream(&self) -> events::StreamKey {
        events::StreamKey {
            key: self.keys.probe_samples(),
            field: "sample",
        }
    }

    /// Does not connect yet: components start (and report not ready)
    /// while Redis is down, and connect on first use.
    pub fn new(url: &str, keys: KeySpace) -> BusResult<Self> {
        Ok(Self {
            client: ::redis::Client::open(url)?,
            connection: OnceCell::new(),
            keys,
            scripts_loaded: AtomicBool::new(false),
        })
    }

    pub fn keys(&self) -> &KeySpace {
        &self.keys
    }

    /// The shared, multiplexed connection for short commands.
    async fn conn(&self) -> BusResult<ConnectionManager> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(1);
        let conn = self
            .connection
            .get_or_try_init(|| async {
                tokio::time::timeout(
                    Duration::from_secs(3),
                    ConnectionManager::new_with_config(self.client.clone(), config),
                )
                .await
                .map_err(|_| BusError::Timeout)?
                .map_err(BusError::from)
            })
            .await?;
        Ok(conn.clone())
    }

    /// A connection of its own for a blocking read. It has no response
    /// timeout (the server-side wait bounds it) and carries nothing else,
    /// so a blocked read never delays other commands.
    async fn blocking_conn(&self) -> BusResult<MultiplexedConnection> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(None);
        Ok(self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?)
    }
}

/// Runs a pipeline; an empty one answers nothing instead of an error.
async fn run_pipe<T: FromRedisValue + Default>(
    pipe: &Pipeline,
    conn: &mut ConnectionManager,
) -> BusResult<T> {
    if pipe.is_empty() {
        return Ok(T::default());
    }
    Ok(pipe.query_async(conn).await?)
}

fn parse_json<T: serde::de::DeserializeOwned>(key: &str, raw: &str) -> Option<T> {
    match serde_json::from_str(raw) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(key, error = %e, "skipping unreadable JSON in redis");
            None
        }
    }
}

#[async_trait]
impl Bus for RedisBus {
    async fn ping(&self) -> BusResult<()> {
        let mut conn = self.conn().await?;
        let _: String = ::redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }

    async fn enqueue(&self, queue: &str, tasks: &[Task]) -> BusResult<()> {
        queue::enqueue(self, queue, tasks).await
    }

    async fn consumer(&self, queue: &str, consumer: &str) -> BusResult<Box<dyn TaskConsumer>> {
        queue::consumer(self, queue, consumer).await
    }

    async fn keep_consumer_alive(
        &self,
        queue: &str,
        consumer: &str,
        ttl: Duration,
    ) -> BusResult<()> {
        queue::keep_alive(self, queue, consumer, ttl).await
    }

    async fn ack(&self, task: &ClaimedTask) -> BusResult<()> {
        queue::ack(self, task).await
    }

    async fn release(&self, task: &ClaimedTask) -> BusResult<()> {
        queue::release(self, task).await
    }

    async fn recover_abandoned(&self, queue: &str) -> BusResult<usize> {
        queue::recover_abandoned(self, queue).await
    }

    async fn hand_back(&self, queue: &str, consumer: &str) -> BusResult<usize> {
        queue::hand_back(self, queue, consumer).await
    }

    async fn queue_length(&self, queue: &str) -> BusResult<i64> {
        queue::length(self, queue).await
    }

    async fn recent_results(
        &self,
        check_id: i64,
        entity: &str,
        count: usize,
    ) -> BusResult<Vec<CheckResult>> {
        state::recent_results(self, check_id, entity, count).await
    }

    async fn evaluated_entity_results(
        &self,
        alert_id: i64,
        check_id: i64,
        count: usize,
    ) -> BusResult<Vec<(String, Vec<CheckResult>)>> {
        state::evaluated_entity_results(self, alert_id, check_id, count).await
    }

    async fn task_context(
        &self,
        check_id: i64,
        entity: &str,
        alert_ids: &[i64],
        history: usize,
    ) -> BusResult<(Vec<Vec<Downtime>>, Vec<CheckResult>)> {
        state::task_context(self, check_id, entity, alert_ids, history).await
    }

    async fn record(
        &self,
        record: &CheckRecord,
        claim: Option<&ClaimedTask>,
    ) -> BusResult<Vec<AlertTransition>> {
        state::record(self, record, claim).await
    }

    async fn publish_events(&self, events: &[AlertEvent]) -> BusResult<()> {
        events::publish(self, &self.event_stream(), events).await
    }

    async fn heartbeat(&self, name: &str, checks_run: u64, now: f64) -> BusResult<()> {
        control::heartbeat(self, name, checks_run, now).await
    }

    async fn start_trial_run(&self, id: &str, entities: &[String], ttl: Duration) -> BusResult<()> {
        control::start_trial_run(self, id, entities, ttl).await
    }

    async fn record_trial_result(
        &self,
        id: &str,
        result: &TrialResult,
        ttl: Duration,
    ) -> BusResult<()> {
        control::record_trial_result(self, id, result, ttl).await
    }

    async fn trial_run(&self, id: &str) -> BusResult<Option<(usize, Vec<TrialResult>)>> {
        control::trial_run(self, id).await
    }

    async fn request_instant_evaluation(&self, check_id: i64) -> BusResult<()> {
        control::request_instant_evaluation(self, check_id).await
    }

    async fn take_instant_evaluations(&self) -> BusResult<Vec<i64>> {
        control::take_instant_evaluations(self).await
    }

    async fn event_consumer(
        &self,
        group: &str,
        consumer: &str,
    ) -> BusResult<Box<dyn StreamConsumer<AlertEvent>>> {
        events::consumer(self, self.event_stream(), group, consumer).await
    }

    async fn groups(&self) -> BusResult<Vec<Group>> {
        groups::groups(self).await
    }

    async fn group_member(&self, member: &str) -> BusResult<Member> {
        groups::member(self, member).await
    }

    async fn change_group(&self, change: &GroupChange) -> BusResult<i64> {
        groups::change(self, change).await
    }

    async fn put_group(&self, id: &str, spec: &GroupSpec) -> BusResult<()> {
        groups::put(self, id, spec).await
    }

    async fn delete_group(&self, id: &str) -> BusResult<bool> {
        groups::delete(self, id).await
    }

    async fn notification_marks(
        &self,
        alert_id: i64,
        scope: &str,
    ) -> BusResult<BTreeMap<String, f64>> {
        notify::marks(self, alert_id, scope).await
    }

    async fn update_notification_marks(
        &self,
        alert_id: i64,
        scope: &str,
        set: &[(String, f64)],
        remove: &[String],
    ) -> BusResult<()> {
        notify::update_marks(self, alert_id, scope, set, remove).await
    }

    async fn publish_notifications(&self, requests: &[NotificationRequest]) -> BusResult<()> {
        events::publish(self, &self.notify_stream(), requests).await
    }

    async fn notification_consumer(
        &self,
        group: &str,
        consumer: &str,
    ) -> BusResult<Box<dyn StreamConsumer<NotificationRequest>>> {
        events::consumer(self, self.notify_stream(), group, consumer).await
    }

    async fn publish_probe_samples(&self, samples: &[ProbeSample]) -> BusResult<()> {
        events::publish(self, &self.probe_stream(), samples).await
    }

    async fn probe_consumer(
        &self,
        group: &str,
        consumer: &str,
    ) -> BusResult<Box<dyn StreamConsumer<ProbeSample>>> {
        events::consumer(self, self.probe_stream(), group, consumer).await
    }

    async fn lead(&self, role: &str, holder: &str, ttl: Duration) -> BusResult<bool> {
        control::lead(self, role, holder, ttl).await
    }

    async fn resign(&self, role: &str, holder: &str) -> BusResult<()> {
        control::resign(self, role, holder).await
    }

    async fn forget_check_entity(&self, check_id: i64, entity: &str) -> BusResult<()> {
        state::forget_check_entity(self, check_id, entity).await
    }

    async fn forget_alert_entity(&self, alert_id: i64, entity: &str) -> BusResult<()> {
        state::forget_alert_entity(self, alert_id, entity).await
    }

    async fn alert_states(
        &self,
        alert_ids: &[i64],
    ) -> BusResult<BTreeMap<i64, BTreeMap<String, AlertStatus>>> {
        state::alert_states(self, alert_ids).await
    }

    async fn alert_states_json(
        &self,
        alert_ids: &[i64],
    ) -> BusResult<BTreeMap<i64, BTreeMap<String, Box<RawValue>>>> {
        state::alert_states_json(self, alert_ids).await
    }

    async fn raised_entities(&self, alert_id: i64) -> BusResult<BTreeSet<String>> {
        state::raised_entities(self, alert_id).await
    }

    async fn evaluated_entities(
        &self,
        alert_id: i64,
    ) -> BusResult<BTreeMap<String, Map<String, Value>>> {
        state::evaluated_entities(self, alert_id).await
    }

    async fn latest_results(
        &self,
        check_id: i64,
        entities: &[String],
    ) -> BusResult<BTreeMap<String, CheckResult>> {
        state::latest_results(self, check_id, entities).await
    }

    async fn raised_alert_ids(&self) -> BusResult<BTreeSet<i64>> {
        state::id_set(self, &self.keys.active_alerts()).await
    }

    async fn acknowledged_alert_ids(&self) -> BusResult<BTreeSet<i64>> {
        state::id_set(self, &self.keys.alert_acks()).await
    }

    async fn platform_status(&self, queues: &[String]) -> BusResult<PlatformStatus> {
        control::platform_status(self, queues).await
    }

    async fn register_host(&self, registration: &HostRegistration) -> BusResult<()> {
        hosts::register(self, registration).await
    }

    async fn host_registrations(&self) -> BusResult<Vec<HostRegistration>> {
        hosts::registrations(self).await
    }

    async fn report_host_status(&self, report: &HostReport, ttl: Duration) -> BusResult<()> {
        hosts::report_status(self, report, ttl).await
    }

    async fn host_reports(&self, ids: &[String]) -> BusResult<BTreeMap<String, HostReport>> {
        hosts::reports(self, ids).await
    }

    async fn mirror_downtimes(&self, downtimes: &[Downtime]) -> BusResult<()> {
        state::mirror_downtimes(self, downtimes).await
    }

    async fn unmirror_downtimes(&self, downtimes: &[Downtime]) -> BusResult<()> {
        state::unmirror_downtimes(self, downtimes).await
    }

    async fn downtime_mirror_version(&self) -> BusResult<Option<i64>> {
        state::downtime_mirror_version(self).await
    }

    async fn mirrored_downtimes(&self) -> BusResult<Vec<Downtime>> {
        state::mirrored_downtimes(self).await
    }

    async fn set_downtime_mirror_version(&self, version: i64) -> BusResult<()> {
        state::set_downtime_mirror_version(self, version).await
    }
}
