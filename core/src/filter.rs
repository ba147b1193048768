//! Entity filters: the one matching rule used by every component.
//!
//! ZMON's controller matched filters with PostgreSQL `jsonb @>` (typed,
//! nested), while its scheduler compared stringified top-level values, so a
//! filter could select an entity in the UI that never got checked. Here the
//! controller's queries, downtime coverage and the scheduler all call
//! [`EntityFilter::matches`].
//!
//! # The rule
//!
//! * A **filter list** matches when *any* filter in it matches (OR). An empty
//!   list matches nothing; callers that mean "everything" (an alert without
//!   `entities`) say so explicitly, see [`matches_alert`].
//! * A **filter map** matches when *every* key is a top-level attribute of the
//!   entity and its value matches (AND). `{}` matches every entity.
//! * **Values** compare as follows (`f` from the filter, `a` from the entity):
//!   * string vs string: exact, case-sensitive equality.
//!   * number vs number: numeric equality, so `1` equals `1.0`.
//!   * string vs number (either way): the string is read as a decimal number
//!     and compared numerically, so `{"port": "8080"}` matches `"port": 8080`.
//!     ZMON check definitions store filters as strings, so this keeps them
//!     working against numeric attributes.
//!   * boolean vs boolean: equality; a string `"true"`/`"false"` matches the
//!     boolean of that name (and vice versa).
//!   * `null` matches only an attribute that is present and `null`.
//!   * scalar `f` vs list `a`: matches when any element of `a` matches `f`
//!     (`{"tags": "prod"}` selects entities whose `tags` contain `"prod"`).
//!   * list `f` vs list `a`: every element of `f` matches some element of `a`
//!     (containment, order and duplicates ignored).
//!   * object `f` vs object `a`: every key of `f` is in `a` with a matching
//!     value, recursively (containment).
//!   * anything else does not match, and a missing attribute never matches.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::validation::ValidationError;

/// One filter map, e.g. `{"type": "host", "team": "platform"}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object, example = json!({"type": "host"}))]
pub struct EntityFilter(pub Map<String, Value>);

impl EntityFilter {
    pub fn new(map: Map<String, Value>) -> Self {
        Self(map)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// True when every attribute of the filter matches the entity document.
    pub fn matches(&self, entity: &Map<String, Value>) -> bool {
        self.0.iter().all(|(key, wanted)| {
            entity
                .get(key)
                .is_some_and(|actual| value_matches(wanted, actual))
        })
    }

    /// Stored definitions must not contain `null`s, which ZMON's hstore
    /// filters could not hold and which match almost nothing.
    pub fn validate(&self, field: &str) -> Result<(), ValidationError> {
        for (key, value) in &self.0 {
            if key.trim().is_empty() {
                return Err(ValidationError::new(field, "must not contain empty keys"));
            }
            if value.is_null() {
                return Err(ValidationError::new(
                    field,
                    format!("must not contain null values (key '{key}')"),
                ));
            }
        }
        Ok(())
    }
}

/// True when any filter of the list matches (OR). An empty list matches nothing.
pub fn matches_any(filters: &[EntityFilter], entity: &Map<String, Value>) -> bool {
    filters.iter().any(|f| f.matches(entity))
}

/// Whether an alert applies to an entity, given that the alert's check
/// already selected it: no or empty `entities` means every entity of the
/// check; any matching `entities_exclude` filter removes it.
pub fn matches_alert(
    entities: Option<&[EntityFilter]>,
    entities_exclude: Option<&[EntityFilter]>,
    entity: &Map<String, Value>,
) -> bool {
    let included = match entities {
        None | Some([]) => true,
        Some(filters) => matches_any(filters, entity),
    };
    included && !entities_exclude.is_some_and(|ex| matches_any(ex, entity))
}

/// A key under which to index scalar values, so that two scalars that
/// match by this module's rule always get the same key: numbers (and
/// strings that are plain decimals) by numeric value, booleans with their
/// `"true"`/`"false"` strings, other strings as they are. Different keys
/// mean no match; equal keys still need [`EntityFilter::matches`].
/// `None` for lists and objects, which are not indexed.
pub fn index_key(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => "z".to_string(),
        Value::Bool(b) => format!("b:{b}"),
        Value::Number(n) => number_key(n),
        Value::String(s) if s == "true" || s == "false" => format!("b:{s}"),
        Value::String(s) => match parse_decimal(s) {
            Some(n) => number_key(&n),
            None => format!("s:{s}"),
        },
        Value::Array(_) | Value::Object(_) => return None,
    })
}

fn number_key(n: &serde_json::Number) -> String {
    // Adding 0.0 turns -0.0 into 0.0, which compares equal to it.
    format!("n:{}", n.as_f64().map_or(0.0, |f| f + 0.0))
}

fn value_matches(wanted: &Value, actual: &Value) -> bool {
    match (wanted, actual) {
        (Value::Array(wanted), Value::Array(actual)) => wanted
            .iter()
            .all(|w| actual.iter().any(|a| value_matches(w, a))),
        (Value::Object(wanted), Value::Object(actual)) => wanted
            .iter()
            .all(|(k, w)| actual.get(k).is_some_and(|a| value_matches(w, a))),
        (Value::Array(_) | Value::Object(_), _) => false,
        (scalar, Value::Array(actual)) => actual.iter().any(|a| scalar_matches(scalar, a)),
        (scalar, actual) => scalar_matches(scalar, actual),
    }
}

fn scalar_matches(wanted: &Value, actual: &Value) -> bool {
    match (wanted, actual) {
        (Value::Null, Value::Null) => true,
        (Value::String(w), Value::String(a)) => w == a,
        (Value::Bool(w), Value::Bool(a)) => w == a,
        (Value::Number(w), Value::Number(a)) => numbers_equal(w, a),
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
            parse_decimal(s).is_some_and(|parsed| numbers_equal(&parsed, n))
        }
        (Value::String(s), Value::Bool(b)) | (Value::Bool(b), Value::String(s)) => {
            s == if *b { "true" } else { "false" }
        }
        _ => false,
    }
}

fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Reads a plain decimal literal (no `inf`, `nan`, hex or whitespace).
fn parse_decimal(s: &str) -> Option<serde_json::Number> {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'));
    if !plain {
        return None;
    }
    serde_json::from_str::<serde_json::Number>(s.trim_start_matches('+')).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("test document must be an object"),
        }
    }

    fn filter(v: Value) -> EntityFilter {
        serde_json::from_value(v).expect("filter")
    }

    #[test]
    fn map_is_and_list_is_or() {
        let e = doc(json!({"id": "h1", "type": "host", "team": "a"}));
        assert!(filter(json!({"type": "host", "team": "a"})).matches(&e));
        assert!(!filter(json!({"type": "host", "team": "b"})).matches(&e));
        assert!(filter(json!({})).matches(&e));
        let list = [filter(json!({"type": "db"})), filter(json!({"id": "h1"}))];
        assert!(matches_any(&list, &e));
        assert!(!matches_any(&[], &e));
    }

    #[test]
    fn missing_attribute_never_matches() {
        let e = doc(json!({"id": "h1", "type": "host"}));
        assert!(!filter(json!({"team": "a"})).matches(&e));
        assert!(!filter(json!({"team": null})).matches(&e));
        assert!(filter(json!({"team": null})).matches(&doc(json!({"team": null}))));
    }

    #[test]
    fn matching_scalars_share_an_index_key() {
        let values = [
            json!(8080),
            json!(8080.0),
            json!("8080"),
            json!("8080.0"),
            json!(-0.0),
            json!(0),
            json!("0"),
            json!(true),
            json!("true"),
            json!(false),
            json!("false"),
            json!(null),
            json!("x"),
            json!("08080"),
            json!(1e3),
            json!("1e3"),
            json!(u64::MAX),
        ];
        for w in &values {
            for a in &values {
                if scalar_matches(w, a) {
                    assert_eq!(index_key(w), index_key(a), "{w} matches {a}");
                }
            }
        }
        assert_eq!(index_key(&json!([1])), None);
    }

    #[test]
    fn numbers_strings_and_booleans() {
        let e = doc(json!({"port": 8080, "ratio": 1.0, "enabled": true, "name": "8080"}));
        assert!(filter(json!({"port": "8080"})).matches(&e));
        assert!(filter(json!({"port": 8080.0})).matches(&e));
        assert!(filter(json!({"ratio": 1})).matches(&e));
        assert!(filter(json!({"ratio": "1"})).matches(&e));
        assert!(filter(json!({"name": 8080})).matches(&e));
        assert!(!filter(json!({"port": "80"})).matches(&e));
        assert!(!filter(json!({"port": "0x1f90"})).matches(&e));
        assert!(!filter(json!({"port": "inf"})).matches(&e));
        assert!(filter(json!({"enabled": true})).matches(&e));
        assert!(filter(json!({"enabled": "true"})).matches(&e));
        assert!(!filter(json!({"enabled": "True"})).matches(&e));
        assert!(!filter(json!({"enabled": 1})).matches(&e));
        assert!(!filter(json!({"name": "8080 "})).matches(&e));
    }

    #[test]
    fn lists_and_objects_use_containment() {
        let e = doc(json!({"tags": ["prod", "eu"], "labels": {"app": "shop", "tier": "web"}}));
        assert!(filter(json!({"tags": "prod"})).matches(&e));
        assert!(filter(json!({"tags": ["eu", "prod"]})).matches(&e));
        assert!(!filter(json!({"tags": ["eu", "us"]})).matches(&e));
        assert!(filter(json!({"labels": {"app": "shop"}})).matches(&e));
        assert!(!filter(json!({"labels": {"app": "blog"}})).matches(&e));
        assert!(!filter(json!({"labels": "shop"})).matches(&e));
        assert!(!filter(json!({"tags": {"prod": true}})).matches(&e));
    }

    #[test]
    fn alert_scope_includes_then_excludes() {
        let e = doc(json!({"id": "h1", "type": "host", "env": "prod"}));
        assert!(matches_alert(None, None, &e));
        assert!(matches_alert(Some(&[]), Some(&[]), &e));
        assert!(!matches_alert(
            Some(&[filter(json!({"env": "test"}))]),
            None,
            &e
        ));
        assert!(!matches_alert(
            None,
            Some(&[filter(json!({"env": "prod"}))]),
            &e
        ));
        assert!(matches_alert(
            Some(&[filter(json!({"type": "host"}))]),
            Some(&[filter(json!({"env": "test"}))]),
            &e
        ));
    }

    #[test]
    fn validation_names_the_field() {
        let err = filter(json!({"type": null}))
            .validate("entities")
            .expect_err("null");
        assert_eq!(
            err.to_string(),
            "entities must not contain null values (key 'type')"
        );
    }
}
