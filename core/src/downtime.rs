//! Downtimes: planned silences for (alert, entity) pairs.
//!
//! A downtime request names entities and optionally alert definitions; the
//! controller turns it into one [`Downtime`] per covered pair, grouped under
//! the request's id. The group is what the API returns.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::alert::AlertDefinition;
use crate::check::{CheckDefinition, DefinitionStatus};
use crate::entity::{self, Entity};
use crate::filter;
use crate::time::EpochSeconds;
use crate::validation::{ValidationError, max_len};

/// Longest downtime accepted, as in ZMON: one year ahead.
pub const MAX_AHEAD_SECONDS: i64 = 366 * 24 * 3600;
pub const MAX_ENTITIES: usize = 10_000;
pub const MAX_COMMENT_LEN: usize = 4096;

/// `POST /api/v1/downtimes` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DowntimeRequest {
    pub comment: Option<String>,
    /// Epoch seconds (integer or float); defaults to now.
    #[schema(value_type = Option<f64>)]
    pub start_time: Option<EpochSeconds>,
    /// Epoch seconds (integer or float).
    #[schema(value_type = f64)]
    pub end_time: Option<EpochSeconds>,
    pub entities: Option<Vec<String>>,
    /// Narrows the downtime to these alert definitions.
    pub alert_definitions: Option<Vec<i64>>,
}

/// A validated downtime request.
#[derive(Debug, Clone, PartialEq)]
pub struct DowntimeSpec {
    pub comment: String,
    pub start_time: i64,
    pub end_time: i64,
    pub entities: Vec<String>,
    pub alert_definitions: Option<Vec<i64>>,
}

impl DowntimeRequest {
    pub fn validate(self, now: i64) -> Result<DowntimeSpec, ValidationError> {
        let comment = self
            .comment
            .ok_or_else(|| ValidationError::mandatory("comment"))?;
        max_len("comment", &comment, MAX_COMMENT_LEN)?;
        let mut entities = self
            .entities
            .ok_or_else(|| ValidationError::mandatory("entities"))?;
        if entities.is_empty() {
            return Err(ValidationError::new(
                "entities",
                "must contain at least one entity id",
            ));
        }
        if entities.len() > MAX_ENTITIES {
            return Err(ValidationError::new(
                "entities",
                format!("must contain at most {MAX_ENTITIES} entity ids"),
            ));
        }
        for id in &entities {
            if id.trim().is_empty() || id.len() > entity::MAX_ID_LEN {
                return Err(ValidationError::new(
                    "entities",
                    format!("contains an invalid entity id '{id}'"),
                ));
            }
        }
        entities.sort();
        entities.dedup();
        let end_time = self
            .end_time
            .ok_or_else(|| ValidationError::mandatory("end_time"))?
            .0;
        let start_time = self.start_time.map_or(now, |s| s.0);
        if start_time < 0 {
            return Err(ValidationError::new("start_time", "must not be negative"));
        }
        if start_time >= end_time {
            return Err(ValidationError::new("end_time", "must be after start_time"));
        }
        if end_time <= now {
            return Err(ValidationError::new("end_time", "is in the past"));
        }
        if end_time > now + MAX_AHEAD_SECONDS {
            return Err(ValidationError::new(
                "end_time",
                "must be at most one year in the future",
            ));
        }
        let alert_definitions = self.alert_definitions.map(|mut ids| {
            ids.sort_unstable();
            ids.dedup();
            ids
        });
        Ok(DowntimeSpec {
            comment,
            start_time,
            end_time,
            entities,
            alert_definitions,
        })
    }
}

/// A downtime request as stored and returned: only the entities and alert
/// definitions it actually covers are listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DowntimeGroup {
    pub id: Uuid,
    pub comment: Option<String>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub created_by: Option<String>,
    pub entities: Vec<String>,
    pub alert_definitions: Vec<i64>,
}

impl DowntimeGroup {
    /// What `DELETE` answers for an id that does not exist: success with
    /// nothing covered, as the ZMON documentation specifies.
    pub fn empty(id: Uuid) -> Self {
        Self {
            id,
            comment: None,
            start_time: None,
            end_time: None,
            created_by: None,
            entities: Vec::new(),
            alert_definitions: Vec::new(),
        }
    }
}

/// One covered (alert, entity) pair. This is also the JSON the workers read
/// from `zmon:downtimes:<alert>:<entity>`, keyed by `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Downtime {
    pub id: Uuid,
    pub alert_id: i64,
    pub entity: String,
    pub group_id: Uuid,
    pub comment: String,
    pub start_time: i64,
    pub end_time: i64,
    pub created_by: String,
}

impl Downtime {
    pub fn is_active_at(&self, now: i64) -> bool {
        self.start_time <= now && now < self.end_time
    }
}

/// The (alert, entity) pairs a downtime covers.
///
/// A pair is covered when the entity is one the downtime names and the
/// alert applies to it: the alert is ACTIVE and not a template, its check is
/// ACTIVE and selects the entity, and the alert's own `entities` and
/// `entities_exclude` keep it. `only_alerts`, when given, narrows the alerts.
/// `alerts` are effective (merged) definitions. Pairs come out ordered by
/// alert id, then entity id.
pub fn covered_pairs(
    entities: &[Entity],
    alerts: &[AlertDefinition],
    checks: &HashMap<i64, CheckDefinition>,
    only_alerts: Option<&[i64]>,
) -> Vec<(i64, String)> {
    let mut pairs = Vec::new();
    for alert in alerts {
        if alert.status != DefinitionStatus::Active
            || alert.template
            || only_alerts.is_some_and(|only| !only.contains(&alert.id))
        {
            continue;
        }
        let Some(check) = alert.check_definition_id.and_then(|id| checks.get(&id)) else {
            continue;
        };
        if check.status != DefinitionStatus::Active {
            continue;
        }
        for entity in entities {
            let doc = entity.document();
            if filter::matches_any(&check.entities, doc)
                && filter::matches_alert(
                    alert.entities.as_deref(),
                    alert.entities_exclude.as_deref(),
                    doc,
                )
            {
                pairs.push((alert.id, entity.id().to_string()));
            }
        }
    }
    pairs.sort();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_408_631_162;

    fn request(v: serde_json::Value) -> DowntimeRequest {
        serde_json::from_value(v).expect("parses")
    }

    #[test]
    fn seed_request_defaults_start_to_now() {
        let spec = request(json!({"comment":"Cities downtime","end_time":1408665600,
                                   "entities":["cd-kinshasa", "cn-peking"]}))
        .validate(NOW)
        .expect("valid");
        assert_eq!(spec.start_time, NOW);
        assert_eq!(spec.end_time, 1_408_665_600);
        assert_eq!(spec.entities, ["cd-kinshasa", "cn-peking"]);
    }

    #[test]
    fn float_times_from_the_cli_are_truncated() {
        let spec = request(
            json!({"comment":"c","start_time": 1408631162.9,"end_time":1408665600.5,
                                   "entities":["a1"]}),
        )
        .validate(NOW)
        .expect("valid");
        assert_eq!(
            (spec.start_time, spec.end_time),
            (1_408_631_162, 1_408_665_600)
        );
    }

    #[test]
    fn rejects_bad_windows_by_field() {
        let cases = [
            (
                json!({"comment":"c","end_time":NOW + 10,"entities":[]}),
                "entities must contain at least one entity id",
            ),
            (
                json!({"comment":"c","end_time":NOW + 10}),
                "entities is mandatory",
            ),
            (
                json!({"comment":"c","entities":["a"]}),
                "end_time is mandatory",
            ),
            (
                json!({"end_time":NOW + 10,"entities":["a"]}),
                "comment is mandatory",
            ),
            (
                json!({"comment":"c","start_time":NOW + 20,"end_time":NOW + 10,"entities":["a"]}),
                "end_time must be after start_time",
            ),
            (
                json!({"comment":"c","start_time":NOW - 20,"end_time":NOW - 10,"entities":["a"]}),
                "end_time is in the past",
            ),
            (
                json!({"comment":"c","end_time":NOW + 2 * MAX_AHEAD_SECONDS,"entities":["a"]}),
                "end_time must be at most one year in the future",
            ),
        ];
        for (body, expected) in cases {
            let err = request(body).validate(NOW).expect_err(expected).to_string();
            assert_eq!(err, expected);
        }
    }

    fn check(id: i64, filter: serde_json::Value, status: DefinitionStatus) -> CheckDefinition {
        CheckDefinition {
            id,
            name: format!("check {id}"),
            description: String::new(),
            technical_details: None,
            potential_analysis: None,
            potential_impact: None,
            potential_solution: None,
            owning_team: "t".into(),
            entities: serde_json::from_value(filter).expect("filters"),
            entities_exclude: Vec::new(),
            interval: 60,
            command: "1".into(),
            status,
            source_url: None,
            last_modified_by: "u".into(),
            last_modified: 0,
        }
    }

    fn alert(id: i64, check_id: i64, extra: serde_json::Value) -> AlertDefinition {
        let mut v = json!({"id": id, "name": "a", "description": "d", "team": "t",
            "responsible_team": "t", "entities": null, "entities_exclude": null, "condition": ">1",
            "notifications": null, "check_definition_id": check_id, "status": "ACTIVE", "priority": 1,
            "last_modified": 0, "last_modified_by": "u", "period": null, "template": false,
            "parent_id": null, "parameters": null, "tags": null});
        if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
            v.extend(extra.clone());
        }
        serde_json::from_value(v).expect("alert")
    }

    #[test]
    fn covers_pairs_where_check_and_alert_both_apply() {
        let entities: Vec<Entity> = [
            json!({"id": "cd-kinshasa", "type": "city", "country": "cd"}),
            json!({"id": "cn-peking", "type": "city", "country": "cn"}),
            json!({"id": "db-1", "type": "database"}),
        ]
        .into_iter()
        .map(|d| Entity::from_document(d).expect("entity"))
        .collect();
        let checks = HashMap::from([
            (
                20,
                check(20, json!([{"type": "city"}]), DefinitionStatus::Active),
            ),
            (
                21,
                check(21, json!([{"type": "city"}]), DefinitionStatus::Inactive),
            ),
        ]);
        let alerts = [
            alert(704, 20, json!({})),
            alert(705, 20, json!({"entities_exclude": [{"country": "cn"}]})),
            alert(706, 20, json!({"template": true})),
            alert(707, 21, json!({})),
            alert(708, 20, json!({"status": "INACTIVE"})),
            alert(709, 99, json!({})),
        ];
        let pairs = covered_pairs(&entities, &alerts, &checks, None);
        assert_eq!(
            pairs,
            [
                (704, "cd-kinshasa".to_string()),
                (704, "cn-peking".to_string()),
                (705, "cd-kinshasa".to_string()),
            ]
        );
        let narrowed = covered_pairs(&entities, &alerts, &checks, Some(&[705]));
        assert_eq!(narrowed, [(705, "cd-kinshasa".to_string())]);
    }
}
