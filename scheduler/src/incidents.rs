//! Closing incidents when an alert stops applying to an entity (the
//! entity was removed, the alert's filters or status changed, or it was
//! deleted). ZMON left PagerDuty and OpsGenie incidents open then; here
//! the entries that track incidents get their ENDED before the alert's
//! state on the entity is forgotten.

use serde_json::{Map, Value};
use zmon_bus::{Bus, BusResult};
use zmon_core::notification::{NotificationRequest, NotifiedAlert, NotifyEvent};
use zmon_core::task::TaskAlert;

/// What the scheduler knew of a pair when it went stale.
#[derive(Debug, Clone)]
pub struct StaleAlert {
    pub alert: TaskAlert,
    pub entity: Map<String, Value>,
}

/// Forgets the alert on the entity, first publishing ENDED for every
/// incident-tracking entry that announced it (per entity), and for those
/// per alert when no entity is left in the alert.
pub async fn forget_and_close(
    bus: &dyn Bus,
    stale: Option<&StaleAlert>,
    alert_id: i64,
    entity_id: &str,
    actor: &str,
    now: f64,
) -> BusResult<()> {
    let trackers: Vec<(String, zmon_core::notification::NotificationSpec)> = stale
        .map(|s| {
            s.alert
                .notifications
                .iter()
                .filter_map(|e| Some((e.clone(), zmon_checks::notification::parse(e).ok()?)))
                .filter(|(_, spec)| spec.tracks_incidents())
                .collect()
        })
        .unwrap_or_default();
    let entity_marks = if trackers.iter().any(|(_, s)| s.per_entity()) {
        bus.notification_marks(alert_id, entity_id).await?
    } else {
        Default::default()
    };
    bus.forget_alert_entity(alert_id, entity_id).await?;
    let Some(stale) = stale else {
        return Ok(());
    };
    let mut ended = Vec::new();
    let mut alert_marks_done = Vec::new();
    let alert_is_over = bus.raised_entities(alert_id).await?.is_empty();
    let alert_marks = if alert_is_over && trackers.iter().any(|(_, s)| !s.per_entity()) {
        bus.notification_marks(alert_id, "").await?
    } else {
        Default::default()
    };
    for (expr, spec) in trackers {
        let announced = if spec.per_entity() {
            entity_marks.contains_key(&expr)
        } else if alert_marks.contains_key(&expr) {
            alert_marks_done.push(expr.clone());
            true
        } else {
            false
        };
        if !announced {
            continue;
        }
        ended.push(NotificationRequest {
            id: uuid::Uuid::new_v4().to_string(),
            event: NotifyEvent::Ended,
            expr,
            spec,
            alert: NotifiedAlert::from(&stale.alert),
            entity_id: entity_id.to_string(),
            entity: stale.entity.clone(),
            captures: Map::new(),
            value: Value::Null,
            worker: actor.to_string(),
            ts: now,
            duration_secs: 0.0,
            alert_changed: alert_is_over,
            reason: Some("entity_removed".into()),
        });
    }
    if !alert_marks_done.is_empty() {
        bus.update_notification_marks(alert_id, "", &[], &alert_marks_done)
            .await?;
    }
    if !ended.is_empty() {
        tracing::info!(
            alert = alert_id,
            entity = entity_id,
            count = ended.len(),
            "closing incidents of an alert that no longer applies"
        );
        bus.publish_notifications(&ended).await?;
    }
    Ok(())
}
