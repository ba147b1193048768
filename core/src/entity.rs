//! Entities: the things checks run against (hosts, instances, databases, …).
//!
//! An entity is a free-form JSON object with a mandatory `id` and `type`.
//! The id and type rules are ZMON's database constraints, so documents that
//! ZMON accepts are accepted here and vice versa.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::validation::ValidationError;

static ID_RULE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z][a-z0-9@._\-:\[\]]+$").expect("entity id pattern compiles")
});
static TYPE_RULE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9_\-]+$").expect("entity type pattern compiles"));

pub const MAX_ID_LEN: usize = 512;

/// Attributes the server owns and adds to responses; a document sent back by
/// a client (the CLI round-trips `entities get` output) must not store them.
pub const SERVER_MANAGED: &[&str] = &["last_modified"];

/// Entity type reserved for the scheduler's synthetic GLOBAL entity.
pub const RESERVED_TYPE: &str = "global";

/// Entity type that configures the platform itself; only admins may write it.
pub const CONFIG_TYPE: &str = "zmon_config";

#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    doc: Map<String, Value>,
}

impl Entity {
    /// Validates a document sent by a client and strips server-managed
    /// attributes.
    pub fn from_document(value: Value) -> Result<Self, ValidationError> {
        let Value::Object(mut doc) = value else {
            return Err(ValidationError::new("entity", "must be a JSON object"));
        };
        for key in SERVER_MANAGED {
            doc.remove(*key);
        }
        let id = doc
            .get("id")
            .ok_or_else(|| ValidationError::mandatory("id"))?
            .as_str()
            .ok_or_else(|| ValidationError::new("id", "must be a string"))?;
        validate_id(id)?;
        let entity_type = doc
            .get("type")
            .ok_or_else(|| ValidationError::mandatory("type"))?
            .as_str()
            .ok_or_else(|| ValidationError::new("type", "must be a string"))?;
        if entity_type.eq_ignore_ascii_case(RESERVED_TYPE) {
            return Err(ValidationError::new(
                "type",
                "'global' is reserved for the scheduler's GLOBAL entity",
            ));
        }
        if !TYPE_RULE.is_match(entity_type) {
            return Err(ValidationError::new(
                "type",
                format!(
                    "'{entity_type}' is invalid: use at least two characters, lower-case letters, digits, '_' or '-', starting with a letter"
                ),
            ));
        }
        Ok(Self { doc })
    }

    /// Wraps a document read back from storage, which was validated on write.
    pub fn from_stored(doc: Map<String, Value>) -> Self {
        Self { doc }
    }

    pub fn id(&self) -> &str {
        self.doc
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn entity_type(&self) -> &str {
        self.doc
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The owning team, when the document names one.
    pub fn team(&self) -> Option<&str> {
        self.doc.get("team").and_then(Value::as_str)
    }

    pub fn is_config(&self) -> bool {
        self.entity_type() == CONFIG_TYPE
    }

    pub fn document(&self) -> &Map<String, Value> {
        &self.doc
    }

    pub fn into_document(self) -> Map<String, Value> {
        self.doc
    }
}

/// Checks an entity id against ZMON's rule: lower case, at least two
/// characters, starting with a letter, then letters, digits and `@._-:[]`.
pub fn validate_id(id: &str) -> Result<(), ValidationError> {
    if id.len() > MAX_ID_LEN {
        return Err(ValidationError::new(
            "id",
            format!("must be at most {MAX_ID_LEN} characters long"),
        ));
    }
    if !ID_RULE.is_match(id) {
        return Err(ValidationError::new(
            "id",
            format!(
                "'{id}' is invalid: use at least two characters, lower-case letters, digits or @._-:[], starting with a letter"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_zmon_style_ids() {
        for id in [
            "itr-elsn02:5827",
            "cd-kinshasa",
            "app[1]@host.example.org",
            "ab",
        ] {
            let e = Entity::from_document(json!({"id": id, "type": "city"})).expect(id);
            assert_eq!(e.id(), id);
            assert_eq!(e.entity_type(), "city");
        }
    }

    #[test]
    fn rejects_bad_ids_and_types_naming_the_field() {
        let cases = [
            (json!({"type": "x1"}), "id is mandatory"),
            (json!({"id": 5, "type": "x1"}), "id must be a string"),
            (
                json!({"id": "Upper", "type": "x1"}),
                "id 'Upper' is invalid",
            ),
            (json!({"id": "a", "type": "x1"}), "id 'a' is invalid"),
            (json!({"id": "ok-id"}), "type is mandatory"),
            (
                json!({"id": "ok-id", "type": "GLOBAL"}),
                "type 'global' is reserved",
            ),
            (
                json!({"id": "ok-id", "type": "Has Space"}),
                "type 'Has Space' is invalid",
            ),
            (json!([1, 2]), "entity must be a JSON object"),
        ];
        for (doc, expected) in cases {
            let err = Entity::from_document(doc).expect_err(expected).to_string();
            assert!(
                err.starts_with(expected),
                "{err} should start with {expected}"
            );
        }
    }

    #[test]
    fn strips_server_managed_attributes_only() {
        let e = Entity::from_document(json!({
            "id": "h1", "type": "host", "last_modified": "2020-01-01 00:00:00",
            "created_by": "zmon-agent", "team": "Platform"
        }))
        .expect("valid");
        assert!(!e.document().contains_key("last_modified"));
        assert_eq!(e.document()["created_by"], "zmon-agent");
        assert_eq!(e.team(), Some("Platform"));
    }
}
