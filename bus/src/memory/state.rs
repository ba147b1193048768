//! Check results, alert state and the downtime mirror, computed as the
//! Redis bus's scripts compute them.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde_json::{Map, Value};
use zmon_core::AlertStatus;
use zmon_core::downtime::Downtime;
use zmon_core::status::CheckResult;

use crate::{AlertTransition, CheckRecord, RESULTS_KEPT};

#[derive(Default)]
pub(super) struct State {
    /// Newest first, at most `RESULTS_KEPT` per check and entity.
    results: HashMap<(i64, String), VecDeque<CheckResult>>,
    alerts: HashMap<i64, Alert>,
    acknowledged: BTreeSet<i64>,
    /// Per alert and entity, downtimes by id.
    downtimes: BTreeMap<(i64, String), BTreeMap<String, Downtime>>,
    downtime_version: Option<i64>,
    /// Per alert and entity (`""`: the alert as a whole), each
    /// notification entry's mark (see `Bus::notification_marks`).
    notification_marks: HashMap<(i64, String), BTreeMap<String, f64>>,
}

#[derive(Default)]
struct Alert {
    /// The state of each entity the alert is raised on; an alert with an
    /// entry here is active.
    raised: BTreeMap<String, AlertStatus>,
    /// Captures of every entity the alert was evaluated on.
    evaluated: BTreeMap<String, Map<String, Value>>,
}

/// Redis passes the time as `{:.6}` text and reads it back, so the start
/// time is rounded the same way here.
fn as_stored(ts: f64) -> f64 {
    format!("{ts:.6}").parse().unwrap_or(ts)
}

impl State {
    pub(super) fn recent_results(
        &self,
        check_id: i64,
        entity: &str,
        count: usize,
    ) -> Vec<CheckResult> {
        self.results
            .get(&(check_id, entity.to_string()))
            .map(|r| r.iter().take(count).cloned().collect())
            .unwrap_or_default()
    }

    pub(super) fn evaluated_entity_results(
        &self,
        alert_id: i64,
        check_id: i64,
        count: usize,
    ) -> Vec<(String, Vec<CheckResult>)> {
        let Some(alert) = self.alerts.get(&alert_id) else {
            return Vec::new();
        };
        alert
            .evaluated
            .keys()
            .map(|entity| {
                let results = self.recent_results(check_id, entity, count.max(1));
                (entity.clone(), results)
            })
            .collect()
    }

    pub(super) fn task_context(
        &self,
        check_id: i64,
        entity: &str,
        alert_ids: &[i64],
        history: usize,
    ) -> (Vec<Vec<Downtime>>, Vec<CheckResult>) {
        let downtimes = alert_ids
            .iter()
            .map(|alert| {
                self.downtimes
                    .get(&(*alert, entity.to_string()))
                    .map(|d| d.values().cloned().collect())
                    .unwrap_or_default()
            })
            .collect();
        (downtimes, self.recent_results(check_id, entity, history))
    }

    pub(super) fn record(&mut self, record: &CheckRecord) -> Vec<AlertTransition> {
        let results = self
            .results
            .entry((record.check_id, record.entity.clone()))
            .or_default();
        results.push_front(record.result.clone());
        results.truncate(RESULTS_KEPT);
        let now = as_stored(record.result.ts);
        record
            .alerts
            .iter()
            .map(|update| {
                let alert = self.alerts.entry(update.alert_id).or_default();
                alert
                    .evaluated
                    .insert(record.entity.clone(), update.captures.clone());
                let was_active = !alert.raised.is_empty();
                match &update.raised {
                    Some(status) => {
                        let previous = alert.raised.get(&record.entity);
                        let start_time = previous.map_or(now, |p| p.start_time);
                        let entity_changed = previous.is_none();
                        alert.raised.insert(
                            record.entity.clone(),
                            AlertStatus {
                                start_time,
                                ..status.clone()
                            },
                        );
                        AlertTransition {
                            alert_id: update.alert_id,
                            entity_changed,
                            alert_changed: !was_active,
                            start_time: Some(start_time),
                        }
                    }
                    None => {
                        let entity_changed = alert.raised.remove(&record.entity).is_some();
                        if entity_changed {
                            // As Redis deletes the key when the alert ends.
                            self.notification_marks
                                .remove(&(update.alert_id, record.entity.clone()));
                        }
                        AlertTransition {
                            alert_id: update.alert_id,
                            entity_changed,
                            alert_changed: was_active && alert.raised.is_empty(),
                            start_time: None,
                        }
                    }
                }
            })
            .collect()
    }

    pub(super) fn forget_check_entity(&mut self, check_id: i64, entity: &str) {
        self.results.remove(&(check_id, entity.to_string()));
    }

    pub(super) fn notification_marks(&self, alert_id: i64, scope: &str) -> BTreeMap<String, f64> {
        self.notification_marks
            .get(&(alert_id, scope.to_string()))
            .cloned()
            .unwrap_or_default()
    }

    pub(super) fn update_notification_marks(
        &mut self,
        alert_id: i64,
        scope: &str,
        set: &[(String, f64)],
        remove: &[String],
    ) {
        let key = (alert_id, scope.to_string());
        let marks = self.notification_marks.entry(key.clone()).or_default();
        for field in remove {
            marks.remove(field);
        }
        for (field, value) in set {
            marks.insert(field.clone(), *value);
        }
        if marks.is_empty() {
            self.notification_marks.remove(&key);
        }
    }

    pub(super) fn forget_alert_entity(&mut self, alert_id: i64, entity: &str) {
        self.notification_marks
            .remove(&(alert_id, entity.to_string()));
        if let Some(alert) = self.alerts.get_mut(&alert_id) {
            alert.raised.remove(entity);
            alert.evaluated.remove(entity);
            if alert.raised.is_empty() && alert.evaluated.is_empty() {
                self.alerts.remove(&alert_id);
            }
        }
    }

    pub(super) fn alert_states(
        &self,
        alert_ids: &[i64],
    ) -> BTreeMap<i64, BTreeMap<String, AlertStatus>> {
        alert_ids
            .iter()
            .filter_map(|id| {
                let alert = self.alerts.get(id)?;
                (!alert.raised.is_empty()).then(|| (*id, alert.raised.clone()))
            })
            .collect()
    }

    pub(super) fn raised_entities(&self, alert_id: i64) -> BTreeSet<String> {
        self.alerts
            .get(&alert_id)
            .map(|a| a.raised.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub(super) fn evaluated_entities(&self, alert_id: i64) -> BTreeMap<String, Map<String, Value>> {
        self.alerts
            .get(&alert_id)
            .map(|a| a.evaluated.clone())
            .unwrap_or_default()
    }

    pub(super) fn latest_results(
        &self,
        check_id: i64,
        entities: &[String],
    ) -> BTreeMap<String, CheckResult> {
        entities
            .iter()
            .filter_map(|entity| {
                let newest = self.results.get(&(check_id, entity.clone()))?.front()?;
                Some((entity.clone(), newest.clone()))
            })
            .collect()
    }

    pub(super) fn raised_alert_ids(&self) -> BTreeSet<i64> {
        self.alerts
            .iter()
            .filter(|(_, a)| !a.raised.is_empty())
            .map(|(id, _)| *id)
            .collect()
    }

    pub(super) fn raised_alert_count(&self) -> usize {
        self.alerts
            .values()
            .filter(|a| !a.raised.is_empty())
            .count()
    }

    pub(super) fn set_acknowledged(&mut self, alert_id: i64, acknowledged: bool) {
        if acknowledged {
            self.acknowledged.insert(alert_id);
        } else {
            self.acknowledged.remove(&alert_id);
        }
    }

    pub(super) fn acknowledged_alert_ids(&self) -> BTreeSet<i64> {
        self.acknowledged.clone()
    }

    pub(super) fn mirror_downtimes(&mut self, downtimes: &[Downtime]) {
        for d in downtimes {
            self.downtimes
                .entry((d.alert_id, d.entity.clone()))
                .or_default()
                .insert(d.id.to_string(), d.clone());
        }
    }

    pub(super) fn unmirror_downtimes(&mut self, downtimes: &[Downtime]) {
        for d in downtimes {
            let key = (d.alert_id, d.entity.clone());
            if let Some(stored) = self.downtimes.get_mut(&key) {
                stored.remove(&d.id.to_string());
                if stored.is_empty() {
                    self.downtimes.remove(&key);
                }
            }
        }
    }

    pub(super) fn downtime_mirror_version(&self) -> Option<i64> {
        self.downtime_version
    }

    pub(super) fn set_downtime_mirror_version(&mut self, version: i64) {
        self.downtime_version = Some(version);
    }

    pub(super) fn mirrored_downtimes(&self) -> Vec<Downtime> {
        self.downtimes
            .values()
            .flat_map(|d| d.values().cloned())
            .collect()
    }
}
