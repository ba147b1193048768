//! What to run where: the (check, entity) targets with their alerts, from
//! the definitions and entities, by the one filter rule of `zmon-core`.
//!
//! A check runs on an entity its filters select (and its `entities_exclude`
//! does not) only when at least one of its alerts applies to the entity
//! too (checks without alerts never run, as in ZMON). Checks a monitor
//! manages are the exception: their results feed the monitor's history,
//! so they run on every selected entity, alerts or not. Entities are indexed
//! by the values of the attributes filters use, so each check only looks at
//! its most selective bucket.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value};
use zmon_core::alert::AlertDefinition;
use zmon_core::check::{CheckDefinition, DefinitionStatus};
use zmon_core::filter::{index_key, matches_alert, matches_any};
use zmon_core::{Entity, EntityFilter};

/// How tasks are routed when the entity does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    pub default_queue: String,
    /// Check id to queue name.
    pub by_check: BTreeMap<i64, String>,
}

impl Routing {
    /// The entity's own `queue` attribute, else the check's mapping, else the default.
    pub fn queue_for(&self, check_id: i64, entity: &Map<String, Value>) -> String {
        if let Some(q) = entity
            .get("queue")
            .and_then(Value::as_str)
            .filter(|q| !q.is_empty())
        {
            return q.strip_prefix("zmon:queue:").unwrap_or(q).to_string();
        }
        self.by_check
            .get(&check_id)
            .cloned()
            .unwrap_or_else(|| self.default_queue.clone())
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    pub entity: Arc<Map<String, Value>>,
    pub entity_id: String,
    /// Indexes into [`CheckPlan::alerts`].
    pub alerts: Vec<usize>,
    pub queue: String,
}

#[derive(Debug, Clone)]
pub struct CheckPlan {
    pub check: CheckDefinition,
    pub alerts: Vec<AlertDefinition>,
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub checks: BTreeMap<i64, CheckPlan>,
}

impl Plan {
    /// `alerts` are effective definitions; only ACTIVE non-templates of
    /// ACTIVE checks take part.
    pub fn build(
        checks: &[CheckDefinition],
        alerts: &[AlertDefinition],
        entities: &[Entity],
        routing: &Routing,
    ) -> Self {
        let keys: BTreeSet<&str> = checks
            .iter()
            .flat_map(|c| c.entities.iter())
            .flat_map(EntityFilter::keys)
            .collect();
        let index = EntityIndex::new(entities, &keys);
        let shared: HashMap<&str, Arc<Map<String, Value>>> = entities
            .iter()
            .map(|e| (e.id(), Arc::new(e.document().clone())))
            .collect();
        let mut alerts_by_check: HashMap<i64, Vec<AlertDefinition>> = HashMap::new();
        for a in alerts {
            if a.status == DefinitionStatus::Active
                && !a.template
                && let Some(check_id) = a.check_definition_id
            {
                alerts_by_check.entry(check_id).or_default().push(a.clone());
            }
        }
        let mut plan = Plan::default();
        for check in checks
            .iter()
            .filter(|c| c.status == DefinitionStatus::Active)
        {
            let check_alerts = match alerts_by_check.remove(&check.id) {
                Some(alerts) => alerts,
                None if check.monitor_id().is_some() => Vec::new(),
                None => continue,
            };
            let always = check.monitor_id().is_some();
            let mut targets = Vec::new();
            for entity in index.candidates(&check.entities) {
                let doc = entity.document();
                if !matches_any(&check.entities, doc) || matches_any(&check.entities_exclude, doc) {
                    continue;
                }
                let applying: Vec<usize> = check_alerts
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| {
                        matches_alert(a.entities.as_deref(), a.entities_exclude.as_deref(), doc)
                    })
                    .map(|(i, _)| i)
                    .collect();
                if applying.is_empty() && !always {
                    continue;
                }
                targets.push(Target {
                    entity: shared
                        .get(entity.id())
                        .cloned()
                        .unwrap_or_else(|| Arc::new(doc.clone())),
                    entity_id: entity.id().to_string(),
                    alerts: applying,
                    queue: routing.queue_for(check.id, doc),
                });
            }
            targets.sort_by(|a, b| a.entity_id.cmp(&b.entity_id));
            plan.checks.insert(
                check.id,
                CheckPlan {
                    check: check.clone(),
                    alerts: check_alerts,
                    targets,
                },
            );
        }
        plan
    }

    /// Every (check, entity) the plan runs.
    pub fn check_pairs(&self) -> BTreeSet<(i64, String)> {
        self.checks
            .values()
            .flat_map(|p| {
                p.targets
                    .iter()
                    .map(move |t| (p.check.id, t.entity_id.clone()))
            })
            .collect()
    }

    /// Every (alert, entity) the plan evaluates.
    pub fn alert_pairs(&self) -> BTreeSet<(i64, String)> {
        self.checks
            .values()
            .flat_map(|p| {
                p.targets.iter().flat_map(move |t| {
                    t.alerts
                        .iter()
                        .map(move |&i| (p.alerts[i].id, t.entity_id.clone()))
                })
            })
            .collect()
    }

    pub fn target_count(&self) -> usize {
        self.checks.values().map(|p| p.targets.len()).sum()
    }
}

/// Entities by the values of the attributes filters use, so a check's
/// candidates come from its filters' most selective bucket instead of a
/// scan: matching stays linear in the pairs that match, not in checks ×
/// entities. Buckets are keyed by [`index_key`], which two matching
/// values always share; candidates are then checked with the full rule.
struct EntityIndex<'a> {
    all: &'a [Entity],
    /// Attribute → index key → positions in `all` (ascending).
    by_value: HashMap<&'a str, HashMap<String, Vec<usize>>>,
}

impl<'a> EntityIndex<'a> {
    fn new(entities: &'a [Entity], keys: &BTreeSet<&str>) -> Self {
        let mut by_value: HashMap<&'a str, HashMap<String, Vec<usize>>> = HashMap::new();
        for (position, entity) in entities.iter().enumerate() {
            for (attribute, value) in entity.document() {
                if !keys.contains(attribute.as_str()) {
                    continue;
                }
                let buckets = by_value.entry(attribute.as_str()).or_default();
                let mut add = |v: &Value| {
                    if let Some(key) = index_key(v) {
                        let bucket = buckets.entry(key).or_default();
                        if bucket.last() != Some(&position) {
                            bucket.push(position);
                        }
                    }
                };
                match value {
                    // A scalar filter value matches a list holding it.
                    Value::Array(items) => items.iter().for_each(&mut add),
                    other => add(other),
                }
            }
        }
        Self {
            all: entities,
            by_value,
        }
    }

    /// The smallest bucket one filter's scalar values name; `None` when
    /// it names none (`{}` or only list and object values): every entity.
    fn filter_candidates(&self, filter: &EntityFilter) -> Option<&[usize]> {
        const NONE: &[usize] = &[];
        filter
            .0
            .iter()
            .filter_map(|(attribute, wanted)| {
                let key = index_key(wanted)?;
                Some(
                    self.by_value
                        .get(attribute.as_str())
                        .and_then(|b| b.get(&key))
                        .map_or(NONE, Vec::as_slice),
                )
            })
            .min_by_key(|bucket| bucket.len())
    }

    /// Entities any of the filters could select, in input order.
    fn candidates(&self, filters: &[EntityFilter]) -> Vec<&'a Entity> {
        let mut positions: Vec<usize> = Vec::new();
        for filter in filters {
            match self.filter_candidates(filter) {
                Some(bucket) => positions.extend_from_slice(bucket),
                None => return self.all.iter().collect(),
            }
        }
        if filters.len() > 1 {
            positions.sort_unstable();
            positions.dedup();
        }
        positions.iter().filter_map(|&p| self.all.get(p)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(id: i64, filters: Value) -> CheckDefinition {
        serde_json::from_value(json!({"id": id, "name": "c", "description": "", "technical_details": null,
            "potential_analysis": null, "potential_impact": null, "potential_solution": null,
            "owning_team": "t", "entities": filters, "interval": 60, "command": "1", "status": "ACTIVE",
            "source_url": null, "last_modified_by": "u", "last_modified": 0}))
        .expect("check")
    }

    fn alert(id: i64, check_id: i64, extra: Value) -> AlertDefinition {
        let mut v = json!({"id": id, "name": "a", "description": "d", "team": "t", "responsible_team": "t",
            "entities": [], "entities_exclude": [], "condition": ">1", "notifications": [],
            "check_definition_id": check_id, "status": "ACTIVE", "priority": 1, "last_modified": 0,
            "last_modified_by": "u", "period": "", "template": false, "parent_id": null,
            "parameters": {}, "tags": []});
        if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        serde_json::from_value(v).expect("alert")
    }

    fn entity(v: Value) -> Entity {
        Entity::from_document(v).expect("entity")
    }

    #[test]
    fn checks_run_where_an_alert_applies() {
        let entities = [
            entity(
                json!({"id": "h1", "type": "host", "env": "prod", "queue": "zmon:queue:local-h1"}),
            ),
            entity(json!({"id": "h2", "type": "host", "env": "test"})),
            entity(json!({"id": "db1", "type": "database"})),
        ];
        let checks = [
            check(1, json!([{"type": "host"}])),
            check(2, json!([{"type": "database"}])),
            check(3, json!([{"type": "host"}])),
        ];
        let alerts = [
            alert(10, 1, json!({"entities_exclude": [{"env": "test"}]})),
            alert(11, 1, json!({"status": "INACTIVE"})),
            alert(12, 1, json!({"template": true})),
            alert(20, 2, json!({"entities": [{"id": "nope"}]})),
        ];
        let routing = Routing {
            default_queue: "default".into(),
            by_check: BTreeMap::from([(1, "fast".into())]),
        };
        let plan = Plan::build(&checks, &alerts, &entities, &routing);
        assert_eq!(
            plan.checks.keys().copied().collect::<Vec<_>>(),
            [1, 2],
            "check 3 has no alerts"
        );
        let p1 = &plan.checks[&1];
        assert_eq!(
            p1.targets
                .iter()
                .map(|t| t.entity_id.as_str())
                .collect::<Vec<_>>(),
            ["h1"]
        );
        assert_eq!(
            p1.targets[0].queue, "local-h1",
            "the entity's own queue wins"
        );
        assert!(
            plan.checks[&2].targets.is_empty(),
            "no alert applies to db1"
        );
        assert_eq!(plan.check_pairs(), BTreeSet::from([(1, "h1".to_string())]));
        assert_eq!(plan.alert_pairs(), BTreeSet::from([(10, "h1".to_string())]));
        assert_eq!(routing.queue_for(1, &Map::new()), "fast");
        assert_eq!(routing.queue_for(9, &Map::new()), "default");
    }

    #[test]
    fn filters_without_a_type_see_every_entity() {
        let entities = [
            entity(json!({"id": "h1", "type": "host", "dc": "a"})),
            entity(json!({"id": "c1", "type": "city", "dc": "a"})),
        ];
        let checks = [check(1, json!([{"dc": "a"}]))];
        let plan = Plan::build(
            &checks,
            &[alert(10, 1, json!({}))],
            &entities,
            &Routing::default(),
        );
        assert_eq!(plan.checks[&1].targets.len(), 2);
    }

    #[test]
    fn monitor_checks_run_without_alerts_and_honour_excludes() {
        let entities = [
            entity(json!({"id": "n1", "type": "host"})),
            entity(json!({"id": "n2", "type": "host"})),
        ];
        let mut monitor = check(5, json!([{"type": "host"}]));
        monitor.source_url = Some("zmon-monitor:3".into());
        monitor.entities_exclude = serde_json::from_value(json!([{"id": "n2"}])).expect("filter");
        let mut plain = check(6, json!([{"type": "host"}]));
        plain.entities_exclude = monitor.entities_exclude.clone();
        let plan = Plan::build(
            &[monitor, plain],
            &[alert(10, 6, json!({}))],
            &entities,
            &Routing::default(),
        );
        let ids = |id: i64| -> Vec<String> {
            plan.checks[&id]
                .targets
                .iter()
                .map(|t| t.entity_id.clone())
                .collect()
        };
        assert_eq!(ids(5), ["n1"], "a monitor's check runs without alerts");
        assert_eq!(ids(6), ["n1"], "entities_exclude drops n2");
    }

    /// The index only narrows: the plan selects exactly what a scan with
    /// the filter rule selects.
    #[test]
    fn the_index_selects_what_a_scan_selects() {
        let values = [
            json!("a"),
            json!("b"),
            json!(1),
            json!("1"),
            json!(1.0),
            json!(true),
            json!("true"),
            json!(["a", 1]),
            json!({"k": "a"}),
            json!(null),
        ];
        let mut entities = Vec::new();
        for i in 0..300usize {
            let kind = ["host", "db", "app"][i % 3];
            let mut doc = json!({"id": format!("e{i}"), "type": kind});
            if let Some(map) = doc.as_object_mut() {
                map.insert("x".into(), values[i % values.len()].clone());
                if i % 4 != 0 {
                    map.insert("y".into(), values[(i / 3) % values.len()].clone());
                }
            }
            entities.push(entity(doc));
        }
        let filters = [
            json!([{"type": "host"}]),
            json!([{"type": "host", "x": "a"}]),
            json!([{"x": 1}]),
            json!([{"x": "1.0", "y": true}]),
            json!([{"x": "a"}, {"y": ["a"]}]),
            json!([{"x": {"k": "a"}}]),
            json!([{}]),
            json!([{"y": null}]),
            json!([{"type": "db", "missing": "z"}]),
        ];
        let checks: Vec<CheckDefinition> = filters
            .iter()
            .enumerate()
            .map(|(i, f)| check(i as i64 + 1, f.clone()))
            .collect();
        let alerts: Vec<AlertDefinition> = checks
            .iter()
            .map(|c| alert(c.id + 100, c.id, json!({})))
            .collect();
        let plan = Plan::build(&checks, &alerts, &entities, &Routing::default());
        for c in &checks {
            let mut scanned: Vec<String> = entities
                .iter()
                .filter(|e| matches_any(&c.entities, e.document()))
                .map(|e| e.id().to_string())
                .collect();
            scanned.sort();
            let planned: Vec<String> = plan.checks[&c.id]
                .targets
                .iter()
                .map(|t| t.entity_id.clone())
                .collect();
            assert_eq!(planned, scanned, "check {} {:?}", c.id, c.entities);
        }
    }
}
