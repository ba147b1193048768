//! One task, start to finish: run the check, evaluate its alerts, record
//! the outcome, publish what changed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use zmon_bus::{AlertTransition, AlertUpdate, Bus, BusError, CheckRecord};
use zmon_checks::{
    ConditionInput, ConditionOutcome, History, Period, evaluate_condition, run_command,
};
use zmon_core::downtime::Downtime;
use zmon_core::event::{AlertEvent, AlertEventKind};
use zmon_core::status::CheckResult;
use zmon_core::task::{TaskAlert, TaskKind, TrialResult};
use zmon_core::time::Clock;
use zmon_core::{AlertStatus, Task};

use crate::cache::ScriptCache;

/// Results of this check a condition helper can look back on.
const HISTORY: usize = 20;
/// A condition gets at most this long.
const CONDITION_TIMEOUT: Duration = Duration::from_secs(5);
/// Trial-run results live this long, as in ZMON.
pub const TRIAL_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The check ran and produced a value.
    Ok,
    /// The check failed; its error was recorded like a value.
    CheckError,
    /// The task was stale and dropped.
    Expired,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::CheckError => "check_error",
            Self::Expired => "expired",
        }
    }
}

pub struct Executor {
    pub bus: Arc<dyn Bus>,
    pub clock: Arc<dyn Clock>,
    pub scripts: ScriptCache,
    pub worker: String,
}

fn now(clock: &dyn Clock) -> f64 {
    clock.now().timestamp_micros() as f64 / 1e6
}

/// A verdict of one alert before it is recorded.
struct Verdict {
    outcome: ConditionOutcome,
    in_period: bool,
}

impl Executor {
    pub async fn execute(&self, task: Task) -> Result<Outcome, BusError> {
        if task.is_expired_at(now(self.clock.as_ref())) {
            tracing::debug!(task = %task.id, "dropping an expired task");
            return Ok(Outcome::Expired);
        }
        let entity_id = task.entity_id().to_string();
        let (result, failed) = self.run_check(&task).await;
        let history = self.history(&task, &result).await?;
        let verdicts = self
            .evaluate(&task, &result, failed.as_deref(), history)
            .await;
        let outcome = if failed.is_some() {
            Outcome::CheckError
        } else {
            Outcome::Ok
        };
        if task.kind == TaskKind::TrialRun {
            self.record_trial(&task, &entity_id, &result, failed, verdicts)
                .await?;
        } else {
            self.record(&task, &entity_id, result, verdicts).await?;
        }
        Ok(outcome)
    }

    /// Runs the command on a blocking thread; an error becomes the value,
    /// marked with `exc`, as in ZMON.
    async fn run_check(&self, task: &Task) -> (CheckResult, Option<String>) {
        let ts = now(self.clock.as_ref());
        let started = Instant::now();
        let timeout = Duration::from_secs_f64(task.timeout.clamp(0.1, 3600.0));
        let outcome = match self.scripts.get(&task.check.command) {
            Err(e) => Err(e),
            Ok(compiled) => {
                let entity = task.check.entity.clone();
                tokio::task::spawn_blocking(move || {
                    run_command(&compiled, &entity, timeout).map_err(|e| e.0)
                })
                .await
                .unwrap_or_else(|e| Err(format!("the check crashed: {e}")))
            }
        };
        let td = started.elapsed().as_secs_f64();
        let (value, failed) = match outcome {
            Ok(v) => (v, None),
            Err(e) => (Value::String(e.clone()), Some(e)),
        };
        let result = CheckResult {
            ts,
            td,
            value,
            worker: self.worker.clone(),
            exc: failed.as_ref().map(|_| Value::from(1)),
        };
        (result, failed)
    }

    /// Loads what the conditions look back on, only if they do.
    async fn history(&self, task: &Task, current: &CheckResult) -> Result<Vec<History>, BusError> {
        let mut out = Vec::with_capacity(task.alerts.len());
        let mut previous: Option<Arc<Vec<CheckResult>>> = None;
        for alert in &task.alerts {
            let Ok(compiled) = self.scripts.get(&alert.condition) else {
                out.push(History::default());
                continue;
            };
            let mut history = History::default();
            if compiled.needs.history {
                if previous.is_none() && task.kind == TaskKind::CheckAndNotify {
                    let mut results = vec![current.clone()];
                    results.extend(
                        self.bus
                            .recent_results(task.check.check_id, task.entity_id(), HISTORY - 1)
                            .await?,
                    );
                    previous = Some(Arc::new(results));
                }
                history.results = previous
                    .clone()
                    .unwrap_or_else(|| Arc::new(vec![current.clone()]));
            }
            if let Some(count) = compiled.needs.entity_results {
                let results = self
                    .bus
                    .evaluated_entity_results(alert.id, task.check.check_id, count)
                    .await?;
                history.entity_results = Arc::new(results);
            }
            out.push(history);
        }
        Ok(out)
    }

    /// Evaluates every alert of the task on one blocking thread.
    async fn evaluate(
        &self,
        task: &Task,
        result: &CheckResult,
        failed: Option<&str>,
        histories: Vec<History>,
    ) -> Vec<Verdict> {
        let alerts = task.alerts.clone();
        let compiled: Vec<_> = alerts
            .iter()
            .map(|a| self.scripts.get(&a.condition))
            .collect();
        let entity = task.check.entity.clone();
        let value = result.value.clone();
        let failed = failed.map(str::to_string);
        let at = self.clock.now();
        let count = alerts.len();
        let evaluated = tokio::task::spawn_blocking(move || {
            alerts
                .iter()
                .zip(compiled)
                .zip(histories)
                .map(|((alert, compiled), history)| {
                    let (in_period, period_error) = match Period::parse(&alert.period) {
                        Ok(p) => (p.holds_at(&at), None),
                        Err(e) => (true, Some(format!("period: {e}"))),
                    };
                    let mut outcome = match (&failed, compiled) {
                        (Some(error), _) => forced(alert, error),
                        (None, Err(error)) => forced(alert, &error),
                        (None, Ok(compiled)) => evaluate_condition(
                            &compiled,
                            ConditionInput {
                                value: &value,
                                entity: &entity,
                                parameters: &alert.parameters,
                                history,
                                timeout: CONDITION_TIMEOUT,
                            },
                        ),
                    };
                    if let Some(e) = period_error {
                        outcome
                            .captures
                            .insert("exception".into(), Value::String(e));
                    }
                    Verdict { outcome, in_period }
                })
                .collect::<Vec<_>>()
        })
        .await;
        evaluated.unwrap_or_else(|e| {
            let error = format!("the evaluation crashed: {e}");
            task.alerts
                .iter()
                .take(count)
                .map(|a| Verdict {
                    outcome: forced(a, &error),
                    in_period: true,
                })
                .collect()
        })
    }

    async fn record(
        &self,
        task: &Task,
        entity_id: &str,
        result: CheckResult,
        verdicts: Vec<Verdict>,
    ) -> Result<(), BusError> {
        let now = result.ts;
        let downtimes = if task.alerts.is_empty() {
            Vec::new()
        } else {
            let pairs: Vec<(i64, String)> = task
                .alerts
                .iter()
                .map(|a| (a.id, entity_id.to_string()))
                .collect();
            self.bus.downtimes_for(&pairs).await?
        };
        let mut updates = Vec::with_capacity(verdicts.len());
        for (i, (alert, verdict)) in task.alerts.iter().zip(&verdicts).enumerate() {
            let active: Vec<Value> = downtimes
                .get(i)
                .map(|list| {
                    list.iter()
                        .filter(|d| d.is_active_at(now as i64))
                        .map(downtime_json)
                        .collect()
                })
                .unwrap_or_default();
            let raised = (verdict.in_period && verdict.outcome.is_alert).then(|| AlertStatus {
                td: result.td,
                downtimes: active,
                captures: verdict.outcome.captures.clone(),
                start_time: now,
                worker: result.worker.clone(),
                ts: result.ts,
                value: result.value.clone(),
                exc: result.exc.clone(),
            });
            updates.push(AlertUpdate {
                alert_id: alert.id,
                captures: verdict.outcome.captures.clone(),
                raised,
            });
        }
        let record = CheckRecord {
            check_id: task.check.check_id,
            entity: entity_id.to_string(),
            result: result.clone(),
            alerts: updates,
        };
        let transitions = self.bus.record(&record).await?;
        let events = events(&transitions, &record, &result);
        self.bus.publish_events(&events).await?;
        Ok(())
    }

    async fn record_trial(
        &self,
        task: &Task,
        entity_id: &str,
        result: &CheckResult,
        failed: Option<String>,
        verdicts: Vec<Verdict>,
    ) -> Result<(), BusError> {
        let Some(id) = &task.trial_run else {
            return Ok(());
        };
        let verdict = verdicts.into_iter().next();
        let trial = TrialResult {
            entity: entity_id.to_string(),
            value: result.value.clone(),
            captures: verdict
                .as_ref()
                .map(|v| v.outcome.captures.clone())
                .unwrap_or_default(),
            is_alert: verdict.as_ref().is_some_and(|v| v.outcome.is_alert),
            in_period: verdict.as_ref().is_none_or(|v| v.in_period),
            exc: failed.or_else(|| verdict.and_then(|v| v.outcome.error)),
        };
        self.bus.record_trial_result(id, &trial, TRIAL_TTL).await
    }
}

/// ZMON raises every alert of a failed check, with the error as capture.
fn forced(alert: &TaskAlert, error: &str) -> ConditionOutcome {
    let mut captures = Map::new();
    for (name, p) in &alert.parameters {
        captures.insert(name.clone(), p.value.clone());
    }
    captures.insert("exception".into(), Value::String(error.to_string()));
    ConditionOutcome {
        is_alert: true,
        captures,
        error: Some(error.to_string()),
    }
}

fn downtime_json(d: &Downtime) -> Value {
    serde_json::to_value(d).unwrap_or(Value::Null)
}

/// The events that recorded transitions stand for.
fn events(
    transitions: &[AlertTransition],
    record: &CheckRecord,
    result: &CheckResult,
) -> Vec<AlertEvent> {
    let mut out = Vec::new();
    for (t, update) in transitions.iter().zip(&record.alerts) {
        let started = update.raised.is_some();
        let event = |kind| AlertEvent {
            kind,
            alert_id: t.alert_id,
            entity: record.entity.clone(),
            ts: result.ts,
            captures: update.captures.clone(),
            value: result.value.clone(),
            worker: result.worker.clone(),
        };
        if t.alert_changed && started {
            out.push(event(AlertEventKind::AlertStarted));
        }
        if t.entity_changed {
            out.push(event(if started {
                AlertEventKind::AlertEntityStarted
            } else {
                AlertEventKind::AlertEntityEnded
            }));
        }
        if t.alert_changed && !started {
            out.push(event(AlertEventKind::AlertEnded));
        }
    }
    out
}
