//! One task, start to finish: run the check, evaluate its alerts, record
//! the outcome, publish what changed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use zmon_bus::{AlertTransition, AlertUpdate, Bus, BusError, CheckRecord, ClaimedTask};
use zmon_checks::{
    Compiled, ConditionInput, ConditionOutcome, History, HostReports, Period, ProbeOutcome,
    evaluate_condition, run_command_probing,
};
use zmon_core::downtime::Downtime;
use zmon_core::event::{AlertEvent, AlertEventKind};
use zmon_core::monitor::ProbeSample;
use zmon_core::status::CheckResult;
use zmon_core::task::{TaskAlert, TaskKind, TrialResult};
use zmon_core::time::Clock;
use zmon_core::{AlertStatus, Task};

use crate::cache::ScriptCache;
use crate::metrics::{KindLabel, WorkerMetrics};
use crate::notify::dispatch::{Notifications, Situation};

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
    pub metrics: WorkerMetrics,
    pub notifications: Notifications,
}

fn now(clock: &dyn Clock) -> f64 {
    clock.now().timestamp_micros() as f64 / 1e6
}

/// A verdict of one alert before it is recorded.
struct Verdict {
    outcome: ConditionOutcome,
    in_period: bool,
}

/// Latest results of the entities an alert was evaluated on.
type EntityResults = Arc<Vec<(String, Vec<CheckResult>)>>;

/// Everything a task run produced before it is recorded.
struct Run {
    result: CheckResult,
    failed: Option<String>,
    verdicts: Vec<Verdict>,
    /// Monitor probes the command made, published as samples.
    probes: Vec<ProbeOutcome>,
}

impl Executor {
    /// Runs a task. Returns the outcome and whether `claim` was finished
    /// along with the record (otherwise the caller acknowledges it).
    pub async fn execute(
        &self,
        task: Task,
        claim: &ClaimedTask,
    ) -> Result<(Outcome, bool), BusError> {
        if task.is_expired_at(now(self.clock.as_ref())) {
            tracing::debug!(task = %task.id, "dropping an expired task");
            return Ok((Outcome::Expired, false));
        }
        let entity_id = task.entity_id().to_string();
        let compiled: Vec<Result<Arc<Compiled>, String>> = task
            .alerts
            .iter()
            .map(|a| self.scripts.get(&a.condition))
            .collect();
        let scheduled = task.kind == TaskKind::CheckAndNotify;
        let wants_history = scheduled && compiled.iter().flatten().any(|c| c.needs.history);
        // Downtimes and history in one round trip, before the check runs.
        let (downtimes, previous) = if scheduled && (!task.alerts.is_empty() || wants_history) {
            let ids: Vec<i64> = task.alerts.iter().map(|a| a.id).collect();
            let depth = if wants_history { HISTORY - 1 } else { 0 };
            self.bus
                .task_context(task.check.check_id, &entity_id, &ids, depth)
                .await?
        } else {
            (Vec::new(), Vec::new())
        };
        let mut entity_results = Vec::with_capacity(task.alerts.len());
        for (alert, c) in task.alerts.iter().zip(&compiled) {
            let wanted = c.as_ref().ok().and_then(|c| c.needs.entity_results);
            entity_results.push(match wanted {
                Some(count) => Arc::new(
                    self.bus
                        .evaluated_entity_results(alert.id, task.check.check_id, count)
                        .await?,
                ),
                None => Arc::default(),
            });
        }
        let host_reports = self.host_reports_for(&task).await?;
        let run = self
            .run(&task, compiled, previous, entity_results, host_reports)
            .await;
        let outcome = if run.failed.is_some() {
            Outcome::CheckError
        } else {
            Outcome::Ok
        };
        if scheduled {
            self.record(&task, &entity_id, run, &downtimes, claim)
                .await?;
            Ok((outcome, true))
        } else {
            self.record_trial(&task, &entity_id, run).await?;
            Ok((outcome, false))
        }
    }

    /// The latest report of every registered host, when the check's
    /// command reads them (`host_reports()`); nothing otherwise.
    async fn host_reports_for(&self, task: &Task) -> Result<HostReports, BusError> {
        let wanted = self
            .scripts
            .get(&task.check.command)
            .is_ok_and(|c| c.needs.host_reports);
        if !wanted {
            return Ok(HostReports::default());
        }
        let ids: Vec<String> = self
            .bus
            .host_registrations()
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
        let mut reports = self.bus.host_reports(&ids).await?;
        Ok(Arc::new(
            ids.into_iter()
                .map(|id| {
                    let report = reports.remove(&id);
                    (id, report)
                })
                .collect(),
        ))
    }

    /// Runs the command, then the conditions, on one blocking thread. A
    /// failed command raises every alert with its error (ZMON's rule).
    async fn run(
        &self,
        task: &Task,
        compiled: Vec<Result<Arc<Compiled>, String>>,
        previous: Vec<CheckResult>,
        entity_results: Vec<EntityResults>,
        host_reports: HostReports,
    ) -> Run {
        let command = self.scripts.get(&task.check.command);
        let task = task.clone();
        let worker = self.worker.clone();
        let clock = self.clock.clone();
        let alerts = task.alerts.clone();
        let fallback_alerts = alerts.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let ts = now(clock.as_ref());
            let started = Instant::now();
            let timeout = Duration::from_secs_f64(task.timeout.clamp(0.1, 3600.0));
            let mut probes = Vec::new();
            let outcome = command.and_then(|c| {
                let run = run_command_probing(&c, &task.check.entity, host_reports, timeout);
                probes = run.probes;
                run.value.map_err(|e| e.0)
            });
            let (value, failed) = match outcome {
                Ok(v) => (v, None),
                Err(e) => (Value::String(e.clone()), Some(e)),
            };
            let result = CheckResult {
                ts,
                td: started.elapsed().as_secs_f64(),
                value,
                worker,
                exc: failed.as_ref().map(|_| Value::from(1)),
            };
            let mut history = vec![result.clone()];
            history.extend(previous);
            let history = Arc::new(history);
            let at = clock.now();
            let verdicts = alerts
                .iter()
                .zip(compiled)
                .zip(entity_results)
                .map(|((alert, compiled), entity_results)| {
                    verdict(
                        alert,
                        compiled,
                        &failed,
                        &result,
                        &task,
                        &history,
                        entity_results,
                        &at,
                    )
                })
                .collect();
            Run {
                result,
                failed,
                verdicts,
                probes,
            }
        })
        .await;
        joined.unwrap_or_else(|e| {
            let error = format!("the check crashed: {e}");
            let result = CheckResult {
                ts: now(self.clock.as_ref()),
                td: 0.0,
                value: Value::String(error.clone()),
                worker: self.worker.clone(),
                exc: Some(Value::from(1)),
            };
            let verdicts = fallback_alerts
                .iter()
                .map(|a| Verdict {
                    outcome: forced(a, &error),
                    in_period: true,
                })
                .collect();
            Run {
                result,
                failed: Some(error),
                verdicts,
                probes: Vec::new(),
            }
        })
    }

    async fn record(
        &self,
        task: &Task,
        entity_id: &str,
        run: Run,
        downtimes: &[Vec<Downtime>],
        claim: &ClaimedTask,
    ) -> Result<(), BusError> {
        let result = run.result;
        let now = result.ts;
        let samples: Vec<ProbeSample> = run
            .probes
            .into_iter()
            .map(|p| ProbeSample {
                check_id: task.check.check_id,
                entity: entity_id.to_string(),
                at: now,
                delay_ms: p.delay_ms,
                error: p.error,
            })
            .collect();
        let mut updates = Vec::with_capacity(run.verdicts.len());
        let mut situations = Vec::with_capacity(run.verdicts.len());
        for (i, (alert, verdict)) in task.alerts.iter().zip(run.verdicts).enumerate() {
            let active: Vec<Value> = downtimes
                .get(i)
                .map(|list| {
                    list.iter()
                        .filter(|d| d.is_active_at(now as i64))
                        .map(downtime_json)
                        .collect()
                })
                .unwrap_or_default();
            situations.push(Situation {
                out_of_period: verdict.outcome.is_alert && !verdict.in_period,
                in_downtime: !active.is_empty(),
            });
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
                captures: verdict.outcome.captures,
                raised,
            });
        }
        let record = CheckRecord {
            check_id: task.check.check_id,
            entity: entity_id.to_string(),
            result,
            alerts: updates,
        };
        // Read before recording: the end of an alert drops its marks.
        let notifying = self
            .notifications
            .prepare(&self.bus, task, entity_id)
            .await?;
        let transitions = self.bus.record(&record, Some(claim)).await?;
        self.notifications
            .dispatch(
                &self.bus,
                task,
                &record,
                &transitions,
                &situations,
                notifying,
            )
            .await?;
        let events = events(&transitions, &record);
        for event in &events {
            self.metrics
                .alert_transitions
                .get_or_create(&KindLabel {
                    kind: event.kind.as_str(),
                })
                .inc();
        }
        if !events.is_empty() {
            self.bus.publish_events(&events).await?;
        }
        if !samples.is_empty() {
            self.bus.publish_probe_samples(&samples).await?;
        }
        Ok(())
    }

    async fn record_trial(&self, task: &Task, entity_id: &str, run: Run) -> Result<(), BusError> {
        let Some(id) = &task.trial_run else {
            return Ok(());
        };
        let verdict = run.verdicts.into_iter().next();
        let trial = TrialResult {
            entity: entity_id.to_string(),
            value: run.result.value,
            captures: verdict
                .as_ref()
                .map(|v| v.outcome.captures.clone())
                .unwrap_or_default(),
            is_alert: verdict.as_ref().is_some_and(|v| v.outcome.is_alert),
            in_period: verdict.as_ref().is_none_or(|v| v.in_period),
            exc: run.failed.or_else(|| verdict.and_then(|v| v.outcome.error)),
        };
        self.bus.record_trial_result(id, &trial, TRIAL_TTL).await
    }
}

/// One alert's verdict on the task's result.
#[allow(clippy::too_many_arguments)]
fn verdict(
    alert: &TaskAlert,
    compiled: Result<Arc<Compiled>, String>,
    failed: &Option<String>,
    result: &CheckResult,
    task: &Task,
    history: &Arc<Vec<CheckResult>>,
    entity_results: EntityResults,
    at: &chrono::DateTime<chrono::Utc>,
) -> Verdict {
    let (in_period, period_error) = match Period::parse(&alert.period) {
        Ok(p) => (p.holds_at(at), None),
        Err(e) => (true, Some(format!("period: {e}"))),
    };
    let mut outcome = match (failed, compiled) {
        (Some(error), _) => forced(alert, error),
        (None, Err(error)) => forced(alert, &error),
        (None, Ok(compiled)) => {
            let history = History {
                results: if compiled.needs.history {
                    history.clone()
                } else {
                    Arc::default()
                },
                entity_results,
            };
            evaluate_condition(
                &compiled,
                ConditionInput {
                    value: &result.value,
                    entity: &task.check.entity,
                    parameters: &alert.parameters,
                    history,
                    timeout: CONDITION_TIMEOUT,
                },
            )
        }
    };
    if let Some(e) = period_error {
        outcome
            .captures
            .insert("exception".into(), Value::String(e));
    }
    Verdict { outcome, in_period }
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
fn events(transitions: &[AlertTransition], record: &CheckRecord) -> Vec<AlertEvent> {
    let result = &record.result;
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
            data: None,
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
