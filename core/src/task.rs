//! The task wire format: what the scheduler puts on a queue and a worker
//! runs. One task is one check on one entity, with the alerts to evaluate
//! on its result.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::alert::{AlertDefinition, Parameter};
use crate::check::CheckDefinition;
use crate::filter::EntityFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A scheduled check: store the result, update alert state.
    CheckAndNotify,
    /// A trial run: report the outcome only, change no state.
    TrialRun,
}

/// The check half of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskCheck {
    pub check_id: i64,
    pub check_name: String,
    /// Seconds between runs.
    pub interval: i64,
    pub command: String,
    pub entity: Map<String, Value>,
    /// Epoch seconds the scheduler meant the run for.
    pub schedule_time: f64,
}

/// An alert to evaluate on the check's result (merged definition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskAlert {
    pub id: i64,
    pub check_id: i64,
    pub name: String,
    pub condition: String,
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub notifications: Vec<String>,
    #[serde(default)]
    pub parameters: BTreeMap<String, Parameter>,
    #[serde(default)]
    pub entities_map: Vec<EntityFilter>,
    pub team: String,
    pub responsible_team: String,
    pub priority: i32,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl TaskAlert {
    /// The task view of an effective (merged, complete) definition.
    pub fn from_definition(def: &AlertDefinition) -> Self {
        Self {
            id: def.id,
            check_id: def.check_definition_id.unwrap_or_default(),
            name: def.name.clone().unwrap_or_default(),
            condition: def.condition.clone().unwrap_or_default(),
            period: def.period.clone().unwrap_or_default(),
            notifications: def.notifications.clone().unwrap_or_default(),
            parameters: def.parameters.clone().unwrap_or_default(),
            entities_map: def.entities.clone().unwrap_or_default(),
            team: def.team.clone(),
            responsible_team: def.responsible_team.clone(),
            priority: def.priority.unwrap_or(3),
            tags: def.tags.clone().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Unique per run, e.g. `check-510-host01-1584000000000`.
    pub id: String,
    pub kind: TaskKind,
    pub check: TaskCheck,
    pub alerts: Vec<TaskAlert>,
    /// Epoch seconds after which the task is stale and is dropped.
    pub expires_at: f64,
    /// Seconds the check may run.
    pub timeout: f64,
    /// The trial run this task belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_run: Option<String>,
}

/// Checks longer than this are cut off whatever their interval.
pub const MAX_CHECK_TIMEOUT_SECONDS: f64 = 60.0;

impl Task {
    /// A scheduled check of `check` on `entity` with its matching alerts.
    pub fn scheduled(
        check: &CheckDefinition,
        entity: &Map<String, Value>,
        alerts: &[&AlertDefinition],
        now: f64,
    ) -> Self {
        let entity_id = entity.get("id").and_then(Value::as_str).unwrap_or_default();
        let interval = check.interval.max(1);
        Self {
            id: format!("check-{}-{}-{}", check.id, entity_id, (now * 1000.0) as i64),
            kind: TaskKind::CheckAndNotify,
            check: TaskCheck {
                check_id: check.id,
                check_name: check.name.clone(),
                interval,
                command: check.command.clone(),
                entity: entity.clone(),
                schedule_time: now,
            },
            alerts: alerts
                .iter()
                .map(|a| TaskAlert::from_definition(a))
                .collect(),
            expires_at: now + interval as f64,
            timeout: (interval as f64).min(MAX_CHECK_TIMEOUT_SECONDS),
            trial_run: None,
        }
    }

    pub fn entity_id(&self) -> &str {
        self.check
            .entity
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn is_expired_at(&self, now: f64) -> bool {
        now > self.expires_at
    }
}

/// The outcome of one trial-run task, as `GET /trial-runs/{id}` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrialResult {
    pub entity: String,
    #[schema(value_type = Object)]
    pub value: Value,
    #[schema(value_type = Object)]
    pub captures: Map<String, Value>,
    pub is_alert: bool,
    pub in_period: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exc: Option<String>,
}
