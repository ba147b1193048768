//! Downtimes: stored durably, mirrored to Redis for the workers.
//!
//! The database is the source of truth. Each change is written to the
//! mirror right after it commits; if Redis is down at that moment, the
//! reconciler ([`sync_mirror`]) rebuilds the mirror from the database as
//! soon as Redis is back, or whenever the mirror's version marker is missing
//! (a Redis restart) or behind the database.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use uuid::Uuid;
use zmon_core::check::DefinitionStatus;
use zmon_core::downtime::{Downtime, DowntimeGroup, DowntimeRequest, covered_pairs};
use zmon_core::event::{AlertEvent, AlertEventKind};

use super::{alerts, audit_entry};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AuditAction, AuditKind};

/// Schedules a downtime for the (alert, entity) pairs the request covers.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    request: DowntimeRequest,
) -> Result<DowntimeGroup, ApiError> {
    caller.require_write()?;
    let now = state.clock.now();
    let spec = request.validate(now.timestamp())?;
    let active_alerts = alerts::all_active(state).await?;
    if let Some(wanted) = &spec.alert_definitions {
        let known: BTreeSet<i64> = state
            .store
            .alert_nodes()
            .await?
            .iter()
            .map(|a| a.id)
            .collect();
        if let Some(unknown) = wanted.iter().find(|id| !known.contains(id)) {
            return Err(ApiError::bad_request(format!(
                "alert_definitions: alert definition {unknown} does not exist"
            )));
        }
    }
    let entities: Vec<_> = state
        .store
        .entities_by_ids(&spec.entities)
        .await?
        .into_iter()
        .map(|e| e.entity)
        .collect();
    let checks: HashMap<_, _> = state
        .store
        .checks(Some(DefinitionStatus::Active))
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let pairs = covered_pairs(
        &entities,
        &active_alerts,
        &checks,
        spec.alert_definitions.as_deref(),
    );
    let group_id = Uuid::new_v4();
    let downtimes: Vec<Downtime> = pairs
        .iter()
        .map(|(alert_id, entity)| Downtime {
            id: Uuid::new_v4(),
            alert_id: *alert_id,
            entity: entity.clone(),
            group_id,
            comment: spec.comment.clone(),
            start_time: spec.start_time,
            end_time: spec.end_time,
            created_by: caller.uid.clone(),
        })
        .collect();
    let group = DowntimeGroup {
        id: group_id,
        comment: Some(spec.comment.clone()),
        start_time: Some(spec.start_time),
        end_time: Some(spec.end_time),
        created_by: Some(caller.uid.clone()),
        entities: pairs
            .iter()
            .map(|(_, e)| e.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        alert_definitions: pairs
            .iter()
            .map(|(a, _)| *a)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    let mut tx = state.store.begin().await?;
    tx.insert_downtime_group(&group, &spec, &downtimes).await?;
    tx.append_audit(&audit_entry(
        now,
        caller,
        AuditKind::Downtime,
        group_id,
        AuditAction::Create,
        None,
        Some(&group),
    )?)
    .await?;
    tx.commit().await?;
    if let Err(e) = state.bus.mirror_downtimes(&downtimes).await {
        tracing::warn!(error = %e, group = %group_id, "downtime stored; the Redis mirror will catch up");
    }
    let (at, ts) = (now.timestamp(), now.timestamp_micros() as f64 / 1e6);
    let mut history = downtime_events(
        &downtimes,
        AlertEventKind::DowntimeCreated,
        &caller.uid,
        None,
        ts,
    );
    let started: Vec<Downtime> = downtimes
        .iter()
        .filter(|d| d.is_active_at(at))
        .cloned()
        .collect();
    history.extend(downtime_events(
        &started,
        AlertEventKind::DowntimeStarted,
        &caller.uid,
        None,
        ts,
    ));
    record_history(state, history).await;
    Ok(group)
}

/// One event per (alert, entity) a downtime covers.
fn downtime_events(
    downtimes: &[Downtime],
    kind: AlertEventKind,
    actor: &str,
    reason: Option<&str>,
    ts: f64,
) -> Vec<(String, AlertEvent)> {
    downtimes
        .iter()
        .map(|d| {
            let mut data = json!({
                "downtime_id": d.id,
                "group_id": d.group_id,
                "comment": d.comment,
                "start_time": d.start_time,
                "end_time": d.end_time,
                "created_by": d.created_by,
            });
            if let Some(reason) = reason {
                data["reason"] = json!(reason);
            }
            (
                // One id per downtime and kind, so several controllers
                // recording the same change store it once.
                format!("downtime-{}-{}", kind.as_str().to_ascii_lowercase(), d.id),
                AlertEvent {
                    kind,
                    alert_id: d.alert_id,
                    entity: d.entity.clone(),
                    ts,
                    captures: Map::new(),
                    value: Value::Null,
                    worker: actor.to_string(),
                    data: Some(data),
                },
            )
        })
        .collect()
}

/// The change is committed; the history is best effort.
async fn record_history(state: &AppState, events: Vec<(String, AlertEvent)>) {
    if events.is_empty() {
        return;
    }
    if let Err(e) = state.store.append_alert_events(&events).await {
        tracing::warn!(error = %e, "downtime changed; recording it in the event history failed");
    }
}

/// Ends a downtime group early. An unknown id succeeds with nothing
/// covered, as the ZMON documentation specifies.
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> Result<DowntimeGroup, ApiError> {
    caller.require_write()?;
    let mut tx = state.store.begin().await?;
    let Some((group, downtimes)) = tx.lock_downtime_group(id).await? else {
        return Ok(DowntimeGroup::empty(id));
    };
    let now = state.clock.now();
    tx.mark_downtime_group_deleted(id, &caller.uid, now).await?;
    tx.append_audit(&audit_entry(
        now,
        caller,
        AuditKind::Downtime,
        id,
        AuditAction::Delete,
        Some(&group),
        None,
    )?)
    .await?;
    tx.commit().await?;
    if let Err(e) = state.bus.unmirror_downtimes(&downtimes).await {
        tracing::warn!(error = %e, group = %id, "downtime deleted; the Redis mirror will catch up");
    }
    let (at, ts) = (now.timestamp(), now.timestamp_micros() as f64 / 1e6);
    let mut history = downtime_events(
        &downtimes,
        AlertEventKind::DowntimeDeleted,
        &caller.uid,
        None,
        ts,
    );
    let cut_short: Vec<Downtime> = downtimes
        .iter()
        .filter(|d| d.is_active_at(at))
        .cloned()
        .collect();
    history.extend(downtime_events(
        &cut_short,
        AlertEventKind::DowntimeEnded,
        &caller.uid,
        Some("deleted"),
        ts,
    ));
    record_history(state, history).await;
    Ok(group)
}

/// Downtime groups in force now or scheduled for later.
pub async fn list(state: &AppState) -> Result<Vec<DowntimeGroup>, ApiError> {
    Ok(state
        .store
        .live_downtime_groups(state.clock.now().timestamp())
        .await?)
}

/// Rebuilds the Redis mirror when it is missing or behind the database.
/// Returns whether it rebuilt.
pub async fn sync_mirror(state: &AppState, force: bool) -> Result<bool, ApiError> {
    let version = state.store.change_counter(&[AuditKind::Downtime]).await?;
    let mirrored_version = state.bus.downtime_mirror_version().await?;
    if !force && mirrored_version == Some(version) {
        return Ok(false);
    }
    // Read the mirror before the database: a downtime written to the mirror
    // before this point was committed before it, so it is in `desired` and
    // never mistaken for a stale one.
    let mirrored = state.bus.mirrored_downtimes().await?;
    let desired = state
        .store
        .live_downtimes(state.clock.now().timestamp())
        .await?;
    let wanted: HashSet<Uuid> = desired.iter().map(|d| d.id).collect();
    let stale: Vec<Downtime> = mirrored
        .into_iter()
        .filter(|d| !wanted.contains(&d.id))
        .collect();
    state.bus.unmirror_downtimes(&stale).await?;
    state.bus.mirror_downtimes(&desired).await?;
    state.bus.set_downtime_mirror_version(version).await?;
    tracing::debug!(
        downtimes = desired.len(),
        removed = stale.len(),
        version,
        "downtime mirror rebuilt"
    );
    Ok(true)
}

/// Keeps the mirror in step until the process ends. A full rebuild also
/// runs every `full_every`, clearing expired entries.
/// Records downtimes that came into force or ran out since the last look.
/// Event ids are per downtime and kind, so what a create or delete already
/// recorded, another controller, or a restart is stored once.
async fn record_starts_and_ends(
    state: &AppState,
    in_force: &mut HashMap<Uuid, Downtime>,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let at = now.timestamp();
    let current: HashMap<Uuid, Downtime> = state
        .store
        .live_downtimes(at)
        .await?
        .into_iter()
        .filter(|d| d.is_active_at(at))
        .map(|d| (d.id, d))
        .collect();
    let started: Vec<Downtime> = current
        .values()
        .filter(|d| !in_force.contains_key(&d.id))
        .cloned()
        .collect();
    let ended: Vec<Downtime> = in_force
        .values()
        .filter(|d| !current.contains_key(&d.id))
        .cloned()
        .collect();
    let ts = now.timestamp_micros() as f64 / 1e6;
    let mut history = downtime_events(
        &started,
        AlertEventKind::DowntimeStarted,
        "controller",
        None,
        ts,
    );
    history.extend(downtime_events(
        &ended,
        AlertEventKind::DowntimeEnded,
        "controller",
        Some("expired"),
        ts,
    ));
    record_history(state, history).await;
    *in_force = current;
    Ok(())
}

pub async fn mirror_loop(
    state: actix_web::web::Data<AppState>,
    every: Duration,
    full_every: Duration,
) {
    let mut last_full = Instant::now();
    let mut healthy = true;
    let mut in_force: HashMap<Uuid, Downtime> = HashMap::new();
    loop {
        if let Err(e) = record_starts_and_ends(&state, &mut in_force).await {
            tracing::debug!(error = %e, "cannot check which downtimes started or ended");
        }
        let force = last_full.elapsed() >= full_every;
        match sync_mirror(&state, force).await {
            Ok(rebuilt) => {
                if !healthy {
                    tracing::info!("downtime mirror sync recovered");
                }
                healthy = true;
                if force || rebuilt {
                    last_full = Instant::now();
                }
            }
            Err(e) => {
                if healthy {
                    tracing::warn!(error = %e, "downtime mirror sync failed; retrying");
                }
                healthy = false;
            }
        }
        tokio::time::sleep(every).await;
    }
}
