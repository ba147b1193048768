//! The bus seam, as the controller uses it: alert state and platform
//! metrics to read, and the downtime mirror to write.
//!
//! Redis implements it; an in-process bus for the embedded mode implements
//! the same trait later.

mod redis;

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use zmon_core::AlertStatus;
use zmon_core::downtime::Downtime;
use zmon_core::status::CheckResult;

pub use self::redis::RedisBus;

pub type BusResult<T> = Result<T, BusError>;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("redis connection timed out")]
    Timeout,
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

#[async_trait]
pub trait Bus: Send + Sync + 'static {
    async fn ping(&self) -> BusResult<()>;

    /// For each alert, the state of every entity it is raised on. Alerts
    /// raised nowhere are left out.
    async fn alert_states(
        &self,
        alert_ids: &[i64],
    ) -> BusResult<BTreeMap<i64, BTreeMap<String, AlertStatus>>>;
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

    /// Adds downtimes to the mirror the workers read.
    async fn mirror_downtimes(&self, downtimes: &[Downtime]) -> BusResult<()>;
    /// Removes downtimes from the mirror.
    async fn unmirror_downtimes(&self, downtimes: &[Downtime]) -> BusResult<()>;
    /// The store change counter the mirror was last rebuilt from; `None`
    /// when the mirror is missing (e.g. after a Redis restart).
    async fn downtime_mirror_version(&self) -> BusResult<Option<i64>>;
    /// Every downtime the mirror holds now.
    async fn mirrored_downtimes(&self) -> BusResult<Vec<Downtime>>;
    /// Records the store change counter the mirror now reflects.
    async fn set_downtime_mirror_version(&self, version: i64) -> BusResult<()>;
}
