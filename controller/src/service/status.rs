//! Alert status and platform health, read from the bus.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use zmon_core::AlertStatus;
use zmon_core::alert::AlertDefinition;
use zmon_core::check::DefinitionStatus;
use zmon_core::message::format_alert_title;
use zmon_core::status::CheckResult;

use super::alerts;
use crate::auth::Caller;
use crate::bus::{QueueStatus, WorkerStatus};
use crate::error::ApiError;
use crate::state::AppState;

/// A worker counts as active when its heartbeat is this recent.
const WORKER_ACTIVE_SECONDS: f64 = 24.0;

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceLevelStatus {
    pub ingest_max_check_tier: i32,
    pub query_distance_hours_limit: i32,
    pub query_max_check_tier: i32,
    pub sampled_check_tier: i32,
    pub sampled_check_rate: i32,
    pub message: String,
}

impl Default for ServiceLevelStatus {
    /// No tiering: everything is ingested and queryable.
    fn default() -> Self {
        Self {
            ingest_max_check_tier: 3,
            query_distance_hours_limit: 0,
            query_max_check_tier: 3,
            sampled_check_tier: 3,
            sampled_check_rate: 100,
            message: String::new(),
        }
    }
}

/// `GET /api/v1/status`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformStatusView {
    pub alerts_active: i64,
    pub workers_active: i64,
    pub workers_total: i64,
    pub check_invocations: i64,
    pub queue_size: i64,
    pub workers: Vec<WorkerStatus>,
    pub queues: Vec<QueueStatus>,
    pub service_level_status: ServiceLevelStatus,
}

pub async fn platform(state: &AppState) -> Result<PlatformStatusView, ApiError> {
    let status = state.bus.platform_status(&state.queues).await?;
    let now = state.clock.now().timestamp_millis() as f64 / 1000.0;
    let active = status
        .workers
        .iter()
        .filter(|w| now - w.last_execution_time < WORKER_ACTIVE_SECONDS)
        .count();
    Ok(PlatformStatusView {
        alerts_active: status.alerts_active,
        workers_active: active as i64,
        workers_total: status.workers.len() as i64,
        check_invocations: status.workers.iter().map(|w| w.check_invocations).sum(),
        queue_size: status.queues.iter().map(|q| q.size).sum(),
        workers: status.workers,
        queues: status.queues,
        service_level_status: ServiceLevelStatus::default(),
    })
}

/// Parses `69,3454` into alert ids.
pub fn parse_ids(raw: &str) -> Result<Vec<i64>, ApiError> {
    let ids: Result<Vec<i64>, _> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!("alert ids: '{s}' is not an integer id"))
            })
        })
        .collect();
    let ids = ids?;
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            "alert ids: at least one id is required",
        ));
    }
    if ids.len() > 1000 {
        return Err(ApiError::bad_request(
            "alert ids: at most 1000 ids per request",
        ));
    }
    Ok(ids)
}

/// `GET /api/v1/status/alert/{ids}/`, keyed by alert id as a string. The
/// workers' state documents are passed through as stored: dashboards poll
/// this route for hundreds of entities, and parsing each document only to
/// write it out again was most of its cost.
pub async fn alert_states(
    state: &AppState,
    ids: &[i64],
) -> Result<BTreeMap<String, BTreeMap<String, Box<RawValue>>>, ApiError> {
    Ok(state
        .bus
        .alert_states_json(ids)
        .await?
        .into_iter()
        .map(|(id, entities)| (id.to_string(), entities))
        .collect())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntityResult {
    pub ts: f64,
    pub td: f64,
    #[schema(value_type = Object)]
    pub value: Value,
    pub worker: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i32>)]
    pub exc: Option<Value>,
    #[schema(value_type = Object)]
    pub captures: Map<String, Value>,
}

/// One element of `GET /api/v1/status/alert/{id}/all-entities`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertEntityData {
    pub entity: String,
    pub results: Vec<EntityResult>,
    pub active_alert_ids: Vec<i64>,
    pub entities_count: Option<i64>,
}

pub async fn all_entities(
    state: &AppState,
    alert_id: i64,
) -> Result<Vec<AlertEntityData>, ApiError> {
    let alert = alerts::get(state, alert_id).await?;
    let Some(check_id) = alert.check_definition_id else {
        return Ok(Vec::new());
    };
    if alert.status != DefinitionStatus::Active || alert.template {
        return Ok(Vec::new());
    }
    let evaluated = state.bus.evaluated_entities(alert_id).await?;
    let raised = state.bus.raised_entities(alert_id).await?;
    let entities: Vec<String> = evaluated.keys().cloned().collect();
    let mut latest = state.bus.latest_results(check_id, &entities).await?;
    Ok(evaluated
        .into_iter()
        .map(|(entity, captures)| {
            let results = latest
                .remove(&entity)
                .map(|r: CheckResult| EntityResult {
                    ts: r.ts,
                    td: r.td,
                    value: r.value,
                    worker: r.worker,
                    exc: r.exc,
                    captures,
                })
                .into_iter()
                .collect();
            let active_alert_ids = if raised.contains(&entity) {
                vec![alert_id]
            } else {
                Vec::new()
            };
            AlertEntityData {
                entity,
                results,
                active_alert_ids,
                entities_count: None,
            }
        })
        .collect())
}

/// An alert definition as the dashboard shows it, with what the caller may do.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertDefinitionView {
    #[serde(flatten)]
    pub definition: AlertDefinition,
    pub editable: bool,
    pub cloneable: bool,
    pub deletable: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RaisedEntity {
    pub entity: String,
    pub result: AlertStatus,
}

/// One element of `GET /api/v1/status/active-alerts`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActiveAlert {
    pub alert_definition: AlertDefinitionView,
    pub entities: Vec<RaisedEntity>,
    pub message: String,
    pub notifications_ack: bool,
    pub entities_count: i64,
}

/// Team patterns (`*` matches anything, case-insensitive), comma-separated.
fn team_matches(patterns: &[String], alert: &AlertDefinition) -> bool {
    patterns.is_empty()
        || patterns
            .iter()
            .any(|p| wildcard_match(p, &alert.team) || wildcard_match(p, &alert.responsible_team))
}

fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern = pattern.to_lowercase();
    let text = text.to_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(pos) = rest.find(part) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    true
}

/// Tags: an alert needs one of the plain tags (if any) and none of the
/// `!`-prefixed ones.
fn tags_match(filter: &[String], alert: &AlertDefinition) -> bool {
    let tags: BTreeSet<String> = alert
        .tags
        .iter()
        .flatten()
        .map(|t| t.to_lowercase())
        .collect();
    let (excluded, wanted): (Vec<&String>, Vec<&String>) =
        filter.iter().partition(|t| t.starts_with('!'));
    let none_excluded = excluded
        .iter()
        .all(|t| !tags.contains(&t[1..].to_lowercase()));
    let any_wanted = wanted.is_empty() || wanted.iter().any(|t| tags.contains(&t.to_lowercase()));
    none_excluded && any_wanted
}

pub fn split_list(raw: Option<&str>) -> Vec<String> {
    raw.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn active_alerts(
    state: &AppState,
    caller: &Caller,
    teams: &[String],
    tags: &[String],
) -> Result<Vec<ActiveAlert>, ApiError> {
    let raised = state.bus.raised_alert_ids().await?;
    let acks = state.bus.acknowledged_alert_ids().await?;
    let candidates: Vec<AlertDefinition> = alerts::all_active(state)
        .await?
        .into_iter()
        .filter(|a| raised.contains(&a.id) && team_matches(teams, a) && tags_match(tags, a))
        .collect();
    let ids: Vec<i64> = candidates.iter().map(|a| a.id).collect();
    let mut states = state.bus.alert_states(&ids).await?;
    let mut out = Vec::with_capacity(candidates.len());
    for definition in candidates {
        let Some(entities) = states.remove(&definition.id) else {
            continue;
        };
        // The title shows entities that are not silenced by a downtime.
        let live: Vec<(&str, &Map<String, Value>)> = entities
            .iter()
            .filter(|(_, s)| s.downtimes.is_empty())
            .map(|(e, s)| (e.as_str(), &s.captures))
            .collect();
        let message = format_alert_title(definition.name.as_deref().unwrap_or_default(), &live);
        let ownership = (&definition).into();
        let view = AlertDefinitionView {
            editable: caller.can_edit_alert(ownership),
            cloneable: caller.role.can_write(),
            deletable: caller.can_delete_alert(ownership),
            definition,
        };
        let notifications_ack = acks.contains(&view.definition.id);
        let entities: Vec<RaisedEntity> = entities
            .into_iter()
            .map(|(entity, result)| RaisedEntity { entity, result })
            .collect();
        out.push(ActiveAlert {
            alert_definition: view,
            entities_count: entities.len() as i64,
            entities,
            message,
            notifications_ack,
        });
    }
    // Most urgent first: priority 1 is red.
    out.sort_by_key(|a| {
        (
            a.alert_definition.definition.priority.unwrap_or(3),
            a.alert_definition.definition.id,
        )
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_ids() {
        assert!(wildcard_match("Platform/*", "platform/software"));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("*soft*", "Platform/Software"));
        assert!(!wildcard_match("Platform", "Platform/Software"));
        assert_eq!(parse_ids("69,3454").expect("ids"), [69, 3454]);
        assert!(parse_ids("69,abc").is_err());
        assert!(parse_ids(",").is_err());
    }
}
