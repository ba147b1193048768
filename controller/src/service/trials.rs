//! Trial runs and instant evaluation: try a check and a condition on real
//! entities without changing any state, or run a check now.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use zmon_core::alert::Parameter;
use zmon_core::filter::matches_any;
use zmon_core::task::{MAX_CHECK_TIMEOUT_SECONDS, TaskAlert, TaskCheck, TaskKind, TrialResult};
use zmon_core::{EntityFilter, Task, ValidationError};

use super::{alerts, checks, language};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::EntityQuery;

/// Trial runs and their results live this long, as in ZMON.
pub const TRIAL_TTL: Duration = Duration::from_secs(300);
/// A trial run covers at most this many entities.
pub const MAX_TRIAL_ENTITIES: usize = 1_000;
const TRIAL_TEAM: &str = "TRIAL RUN";

#[derive(Debug, Deserialize, ToSchema)]
pub struct TrialRunRequest {
    pub name: Option<String>,
    pub check_command: Option<String>,
    pub alert_condition: Option<String>,
    /// Entity filters (OR), as in a check definition.
    pub entities: Option<Vec<EntityFilter>>,
    #[serde(default)]
    pub entities_exclude: Vec<EntityFilter>,
    #[serde(default)]
    pub parameters: BTreeMap<String, Parameter>,
    #[serde(default)]
    pub period: String,
    /// Seconds the check may take at most (capped at 60).
    pub interval: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrialRunStarted {
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrialRunView {
    /// Share of the covered entities that have a result.
    pub percentage: f64,
    pub results: Vec<TrialResult>,
}

fn mandatory(field: &str, value: Option<String>) -> Result<String, ApiError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ValidationError::mandatory(field).into())
}

pub async fn start(
    state: &AppState,
    caller: &Caller,
    request: TrialRunRequest,
) -> Result<TrialRunStarted, ApiError> {
    caller.require_write()?;
    let command = mandatory("check_command", request.check_command)?;
    let condition = mandatory("alert_condition", request.alert_condition)?;
    language::check_script("check_command", &command)?;
    language::check_script("alert_condition", &condition)?;
    language::check_period(&request.period)?;
    for (name, p) in &request.parameters {
        p.validate(name)?;
    }
    let filters = request
        .entities
        .filter(|f| !f.is_empty())
        .ok_or_else(|| ApiError::bad_request("entities must contain at least one filter"))?;
    let mut entities: Vec<_> = state
        .store
        .entities(&EntityQuery {
            filters: Some(filters.clone()),
            exclude_key: None,
        })
        .await?
        .into_iter()
        .map(|e| e.entity.into_document())
        .filter(|doc| !matches_any(&request.entities_exclude, doc))
        .collect();
    if entities.len() > MAX_TRIAL_ENTITIES {
        return Err(ApiError::bad_request(format!(
            "entities: the filters select {} entities; a trial run covers at most {MAX_TRIAL_ENTITIES}",
            entities.len()
        )));
    }
    let id = Uuid::new_v4().to_string();
    let now = state.clock.now().timestamp_micros() as f64 / 1e6;
    let interval = request.interval.unwrap_or(60).max(1);
    let name = request.name.unwrap_or_else(|| "trial run".into());
    let alert = TaskAlert {
        id: 0,
        check_id: 0,
        name: name.clone(),
        condition,
        period: request.period,
        notifications: Vec::new(),
        parameters: request.parameters,
        entities_map: filters,
        team: TRIAL_TEAM.into(),
        responsible_team: TRIAL_TEAM.into(),
        priority: 1,
        tags: Vec::new(),
    };
    let ids: Vec<String> = entities
        .iter()
        .filter_map(|e| e.get("id").and_then(|v| v.as_str()).map(str::to_string))
        .collect();
    let tasks: Vec<Task> = entities
        .drain(..)
        .zip(&ids)
        .map(|(entity, entity_id)| Task {
            id: format!("trial-{id}-{entity_id}"),
            kind: TaskKind::TrialRun,
            check: TaskCheck {
                check_id: 0,
                check_name: name.clone(),
                interval,
                command: command.clone(),
                entity,
                schedule_time: now,
            },
            alerts: vec![alert.clone()],
            expires_at: now + TRIAL_TTL.as_secs_f64(),
            timeout: (interval as f64).min(MAX_CHECK_TIMEOUT_SECONDS),
            trial_run: Some(id.clone()),
        })
        .collect();
    state.bus.start_trial_run(&id, &ids, TRIAL_TTL).await?;
    let queue = state.queues.first().map_or("default", String::as_str);
    state.bus.enqueue(queue, &tasks).await?;
    Ok(TrialRunStarted { id })
}

pub async fn results(state: &AppState, id: &str) -> Result<TrialRunView, ApiError> {
    let (expected, results) =
        state.bus.trial_run(id).await?.ok_or_else(|| {
            ApiError::not_found(format!("trial run {id} does not exist or expired"))
        })?;
    let percentage = if expected == 0 {
        100.0
    } else {
        (100.0 * results.len() as f64 / expected as f64).min(100.0)
    };
    Ok(TrialRunView {
        percentage,
        results,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstantEvaluation {
    /// The check that will run now.
    pub check_definition_id: i64,
}

/// Asks the scheduler to run a check now.
pub async fn evaluate_check(
    state: &AppState,
    caller: &Caller,
    check_id: i64,
) -> Result<InstantEvaluation, ApiError> {
    caller.require_write()?;
    checks::get(state, check_id).await?;
    state.bus.request_instant_evaluation(check_id).await?;
    Ok(InstantEvaluation {
        check_definition_id: check_id,
    })
}

/// Asks the scheduler to run an alert's check now.
pub async fn evaluate_alert(
    state: &AppState,
    caller: &Caller,
    alert_id: i64,
) -> Result<InstantEvaluation, ApiError> {
    let alert = alerts::get(state, alert_id).await?;
    let check_id = alert.check_definition_id.ok_or_else(|| {
        ApiError::bad_request(format!(
            "alert definition {alert_id} has no check (it is an incomplete template)"
        ))
    })?;
    evaluate_check(state, caller, check_id).await
}
