//! Monitor history: folds the probe samples workers publish into
//! per-minute counts per (monitor, server), and prunes old minutes.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use actix_web::web;
use async_trait::async_trait;
use zmon_core::monitor::{MonitorMinute, ProbeSample, minute_of};

use super::streams::{GROUP, StreamSink};
use crate::bus::{BusResult, StreamConsumer};
use crate::state::AppState;
use crate::store::StoreResult;

pub struct ProbeSamples;

#[async_trait]
impl StreamSink for ProbeSamples {
    type Entry = ProbeSample;
    const WHAT: &'static str = "monitor probe samples";

    async fn open(
        &self,
        state: &AppState,
        consumer: &str,
    ) -> BusResult<Box<dyn StreamConsumer<ProbeSample>>> {
        state.bus.probe_consumer(GROUP, consumer).await
    }

    async fn keep(&self, state: &AppState, entries: Vec<(String, ProbeSample)>) -> StoreResult<()> {
        let samples: Vec<ProbeSample> = entries.into_iter().map(|(_, s)| s).collect();
        record(state, &samples).await
    }
}

/// Adds samples to their minutes. Samples of checks no monitor manages
/// (any more) are dropped.
pub async fn record(state: &AppState, samples: &[ProbeSample]) -> StoreResult<()> {
    let monitor_of: HashMap<i64, i64> = state
        .store
        .monitors()
        .await?
        .into_iter()
        .map(|m| (m.check_definition_id, m.id))
        .collect();
    let known: Vec<&ProbeSample> = samples
        .iter()
        .filter(|s| monitor_of.contains_key(&s.check_id))
        .collect();
    if known.len() < samples.len() {
        tracing::debug!(
            dropped = samples.len() - known.len(),
            "probe samples of checks no monitor manages"
        );
    }
    if known.is_empty() {
        return Ok(());
    }
    let entities: Vec<String> = known
        .iter()
        .map(|s| s.entity.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let server_of: HashMap<String, i64> = state
        .store
        .fleet_server_ids(&entities)
        .await?
        .into_iter()
        .collect();
    let minutes: Vec<MonitorMinute> = known
        .iter()
        .filter_map(|s| {
            Some(MonitorMinute {
                monitor_id: *monitor_of.get(&s.check_id)?,
                server_id: *server_of.get(&s.entity)?,
                minute: minute_of(s.at),
                successes: i64::from(s.delay_ms.is_some()),
                failures: i64::from(s.delay_ms.is_none()),
                delay_sum_ms: s.delay_ms.unwrap_or(0.0),
            })
        })
        .collect();
    state.store.add_monitor_minutes(&minutes).await
}

/// How long each history is kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub monitor_minutes: Duration,
    pub events: Duration,
}

/// Deletes monitor minutes and events past their retention now, then
/// every `every`.
pub async fn prune_loop(state: web::Data<AppState>, retention: Retention, every: Duration) {
    loop {
        let now = state.clock.now();
        let cutoff = now.timestamp() - retention.monitor_minutes.as_secs() as i64;
        match state.store.prune_monitor_minutes(cutoff).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "pruned monitor history past its retention"),
            Err(e) => tracing::warn!(error = %e, "cannot prune monitor history; will retry"),
        }
        let cutoff = now.timestamp_micros() - retention.events.as_micros() as i64;
        match state.store.prune_events(cutoff).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "pruned events past their retention"),
            Err(e) => tracing::warn!(error = %e, "cannot prune events; will retry"),
        }
        tokio::time::sleep(every).await;
    }
}
