//! Turns a recorded run into notification requests on the bus: reads the
//! marks before the run is recorded, decides after, then publishes the
//! requests and updates the marks. Alerts without notifications cost no
//! bus round trip.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};
use zmon_bus::{AlertTransition, Bus, BusError, CheckRecord};
use zmon_core::Task;
use zmon_core::event::{AlertEvent, AlertEventKind};
use zmon_core::notification::{NotificationRequest, NotificationSpec, NotifiedAlert, NotifyEvent};

use super::{Moment, NotificationCache, decide};

/// What the alert's verdict said besides being raised.
#[derive(Debug, Clone, Copy)]
pub struct Situation {
    pub out_of_period: bool,
    pub in_downtime: bool,
}

/// Parsed entries and marks of the task's notifying alerts.
pub struct Prepared {
    alerts: Vec<PreparedAlert>,
}

struct PreparedAlert {
    index: usize,
    entries: Vec<(String, NotificationSpec)>,
    entity_marks: BTreeMap<String, f64>,
    alert_marks: BTreeMap<String, f64>,
}

#[derive(Default)]
pub struct Notifications {
    cache: NotificationCache,
}

impl Notifications {
    pub async fn prepare(
        &self,
        bus: &Arc<dyn Bus>,
        task: &Task,
        entity_id: &str,
    ) -> Result<Prepared, BusError> {
        let mut alerts = Vec::new();
        for (index, alert) in task.alerts.iter().enumerate() {
            let entries: Vec<(String, NotificationSpec)> = alert
                .notifications
                .iter()
                .filter_map(|e| Some((e.clone(), self.cache.get(e)?)))
                .filter(|(_, spec)| spec.kind != zmon_core::notification::NotifyKind::Nothing)
                .collect();
            if entries.is_empty() {
                continue;
            }
            let entity_marks = bus.notification_marks(alert.id, entity_id).await?;
            let alert_marks = if entries.iter().any(|(_, s)| !s.per_entity()) {
                bus.notification_marks(alert.id, "").await?
            } else {
                BTreeMap::new()
            };
            alerts.push(PreparedAlert {
                index,
                entries,
                entity_marks,
                alert_marks,
            });
        }
        Ok(Prepared { alerts })
    }

    pub async fn dispatch(
        &self,
        bus: &Arc<dyn Bus>,
        task: &Task,
        record: &CheckRecord,
        transitions: &[AlertTransition],
        situations: &[Situation],
        prepared: Prepared,
    ) -> Result<(), BusError> {
        let now = record.result.ts;
        let mut requests = Vec::new();
        let mut held_back = Vec::new();
        for p in prepared.alerts {
            let (Some(alert), Some(update), Some(transition), Some(situation)) = (
                task.alerts.get(p.index),
                record.alerts.get(p.index),
                transitions.get(p.index),
                situations.get(p.index),
            ) else {
                continue;
            };
            let moment = Moment {
                raised: update.raised.is_some(),
                out_of_period: situation.out_of_period,
                entity_changed: transition.entity_changed,
                alert_changed: transition.alert_changed,
                in_downtime: situation.in_downtime,
                now,
            };
            let decision = decide(&p.entries, moment, &p.entity_marks, &p.alert_marks);
            for (expr, reason) in &decision.suppressed {
                tracing::debug!(alert = alert.id, entity = %record.entity, expr, reason, "notification held back");
                held_back.push(AlertEvent {
                    kind: AlertEventKind::NotificationSuppressed,
                    alert_id: alert.id,
                    entity: record.entity.clone(),
                    ts: now,
                    captures: update.captures.clone(),
                    value: Value::Null,
                    worker: record.result.worker.clone(),
                    data: Some(json!({
                        "expr": expr,
                        "event": if moment.raised { "NEW" } else { "ENDED" },
                        "reason": reason,
                    })),
                });
            }
            let duration = transition
                .start_time
                .map_or(0.0, |start| (now - start).max(0.0));
            for send in decision.sends {
                requests.push(NotificationRequest {
                    id: uuid::Uuid::new_v4().to_string(),
                    event: send.event,
                    expr: send.expr,
                    spec: send.spec,
                    alert: NotifiedAlert::from(alert),
                    entity_id: record.entity.clone(),
                    entity: task.check.entity.clone(),
                    captures: update.captures.clone(),
                    value: serde_json::to_value(&record.result).unwrap_or_default(),
                    worker: record.result.worker.clone(),
                    ts: now,
                    duration_secs: if send.event == NotifyEvent::New {
                        0.0
                    } else {
                        duration
                    },
                    alert_changed: transition.alert_changed,
                    reason: send.reason.map(str::to_string),
                });
            }
            if !decision.entity_marks.is_empty() {
                bus.update_notification_marks(
                    alert.id,
                    &record.entity,
                    &decision.entity_marks.set,
                    &decision.entity_marks.remove,
                )
                .await?;
            }
            if !decision.alert_marks.is_empty() {
                bus.update_notification_marks(
                    alert.id,
                    "",
                    &decision.alert_marks.set,
                    &decision.alert_marks.remove,
                )
                .await?;
            }
        }
        if !requests.is_empty() {
            bus.publish_notifications(&requests).await?;
        }
        if !held_back.is_empty() {
            bus.publish_events(&held_back).await?;
        }
        Ok(())
    }
}
