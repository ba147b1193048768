//! Alert definitions, their parameters, and input validation.
//!
//! One struct serves both the stored node (where an inherited field is
//! `None`) and the merged view (see [`crate::inheritance`]).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::check::{DefinitionStatus, MAX_NAME_LEN, MAX_TEXT_LEN};
use crate::condition;
use crate::filter::EntityFilter;
use crate::validation::{ValidationError, max_len, non_blank};

static PARAMETER_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[_a-zA-Z][_a-zA-Z0-9]*$").expect("parameter name pattern"));

pub const MAX_PARAMETERS: usize = 256;
pub const MAX_NOTIFICATIONS: usize = 64;
pub const MAX_TAGS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ParameterType {
    Int,
    Float,
    Str,
    Bool,
    Date,
    Datetime,
}

/// A named constant bound into the alert condition, e.g.
/// `{"value": 0, "comment": "Longitude parameter", "type": "float"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Parameter {
    #[schema(value_type = Object)]
    pub value: Value,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(rename = "type", default)]
    pub param_type: Option<ParameterType>,
}

impl Parameter {
    /// Checks the value against the declared type.
    pub fn validate(&self, name: &str) -> Result<(), ValidationError> {
        let field = format!("parameters.{name}.value");
        let ok = match (self.param_type, &self.value) {
            (_, Value::Null) => return Err(ValidationError::mandatory(field)),
            (None, _) => true,
            (Some(ParameterType::Int), Value::Number(n)) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            (Some(ParameterType::Float), Value::Number(_)) => true,
            (Some(ParameterType::Bool), Value::Bool(_)) => true,
            (
                Some(ParameterType::Str | ParameterType::Date | ParameterType::Datetime),
                Value::String(_),
            ) => true,
            _ => false,
        };
        if !ok {
            let wanted = match self.param_type {
                Some(ParameterType::Int) => "an integer",
                Some(ParameterType::Float) => "a number",
                Some(ParameterType::Bool) => "a boolean",
                _ => "a string",
            };
            return Err(ValidationError::new(field, format!("must be {wanted}")));
        }
        Ok(())
    }
}

/// An alert definition node, or the merged view of one.
///
/// Field order follows the ZMON REST documentation's responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertDefinition {
    pub id: i64,
    pub name: Option<String>,
    pub description: Option<String>,
    pub team: String,
    pub responsible_team: String,
    pub entities: Option<Vec<EntityFilter>>,
    pub entities_exclude: Option<Vec<EntityFilter>>,
    pub condition: Option<String>,
    pub notifications: Option<Vec<String>>,
    pub check_definition_id: Option<i64>,
    pub status: DefinitionStatus,
    pub priority: Option<i32>,
    /// Epoch milliseconds.
    pub last_modified: i64,
    pub last_modified_by: String,
    pub period: Option<String>,
    pub template: bool,
    pub parent_id: Option<i64>,
    pub parameters: Option<BTreeMap<String, Parameter>>,
    pub tags: Option<Vec<String>>,
}

/// An alert definition as clients send it. Fields left out are inherited
/// from the parent (`parent_id`), if there is one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AlertDefinitionInput {
    /// Ignored on create; must match the path on update when given.
    pub id: Option<i64>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub team: Option<String>,
    /// Defaults to `team`.
    pub responsible_team: Option<String>,
    pub entities: Option<Vec<EntityFilter>>,
    pub entities_exclude: Option<Vec<EntityFilter>>,
    pub condition: Option<String>,
    pub notifications: Option<Vec<String>>,
    pub check_definition_id: Option<i64>,
    /// Defaults to ACTIVE.
    pub status: Option<DefinitionStatus>,
    pub priority: Option<i32>,
    pub period: Option<String>,
    /// Defaults to false.
    pub template: Option<bool>,
    pub parent_id: Option<i64>,
    pub parameters: Option<BTreeMap<String, Parameter>>,
    pub tags: Option<Vec<String>>,
    /// Ignored: the server records the authenticated caller.
    pub last_modified_by: Option<String>,
}

/// A validated node, before the store assigns its id and timestamps.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertNodeDraft {
    pub name: Option<String>,
    pub description: Option<String>,
    pub team: String,
    pub responsible_team: String,
    pub entities: Option<Vec<EntityFilter>>,
    pub entities_exclude: Option<Vec<EntityFilter>>,
    pub condition: Option<String>,
    pub notifications: Option<Vec<String>>,
    pub check_definition_id: Option<i64>,
    pub status: DefinitionStatus,
    pub priority: Option<i32>,
    pub period: Option<String>,
    pub template: bool,
    pub parent_id: Option<i64>,
    pub parameters: Option<BTreeMap<String, Parameter>>,
    pub tags: Option<Vec<String>>,
}

impl AlertNodeDraft {
    /// The node as it will be stored, given its identity and audit fields.
    pub fn into_definition(self, id: i64, last_modified: i64, by: &str) -> AlertDefinition {
        AlertDefinition {
            id,
            name: self.name,
            description: self.description,
            team: self.team,
            responsible_team: self.responsible_team,
            entities: self.entities,
            entities_exclude: self.entities_exclude,
            condition: self.condition,
            notifications: self.notifications,
            check_definition_id: self.check_definition_id,
            status: self.status,
            priority: self.priority,
            last_modified,
            last_modified_by: by.to_string(),
            period: self.period,
            template: self.template,
            parent_id: self.parent_id,
            parameters: self.parameters,
            tags: self.tags,
        }
    }
}

fn optional_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    match value.map(|v| v.trim().to_string()) {
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => {
            max_len(field, &v, max)?;
            Ok(Some(v))
        }
        None => Ok(None),
    }
}

fn validate_filters(
    field: &str,
    filters: &Option<Vec<EntityFilter>>,
) -> Result<(), ValidationError> {
    for f in filters.iter().flatten() {
        f.validate(field)?;
    }
    Ok(())
}

impl AlertDefinitionInput {
    pub fn validate(self) -> Result<AlertNodeDraft, ValidationError> {
        let team = non_blank("team", self.team)?;
        max_len("team", &team, MAX_NAME_LEN)?;
        let responsible_team = match self.responsible_team {
            Some(t) => non_blank("responsible_team", Some(t))?,
            None => team.clone(),
        };
        max_len("responsible_team", &responsible_team, MAX_NAME_LEN)?;
        let name = optional_text("name", self.name, MAX_NAME_LEN)?;
        let description = optional_text("description", self.description, MAX_TEXT_LEN)?;
        let condition = optional_text("condition", self.condition, condition::MAX_CONDITION_LEN)?;
        if let Some(c) = &condition {
            condition::check_structure("condition", c)?;
        }
        if let Some(p) = self.priority
            && !(1..=3).contains(&p)
        {
            return Err(ValidationError::new(
                "priority",
                "must be 1 (red), 2 (orange) or 3 (yellow)",
            ));
        }
        validate_filters("entities", &self.entities)?;
        validate_filters("entities_exclude", &self.entities_exclude)?;
        if let Some(list) = &self.notifications {
            if list.len() > MAX_NOTIFICATIONS {
                return Err(ValidationError::new(
                    "notifications",
                    format!("must have at most {MAX_NOTIFICATIONS} entries"),
                ));
            }
            for (i, n) in list.iter().enumerate() {
                if n.trim().is_empty() {
                    return Err(ValidationError::new(
                        format!("notifications[{i}]"),
                        "must not be blank",
                    ));
                }
                condition::check_structure(&format!("notifications[{i}]"), n)?;
            }
        }
        if let Some(tags) = &self.tags {
            if tags.len() > MAX_TAGS {
                return Err(ValidationError::new(
                    "tags",
                    format!("must have at most {MAX_TAGS} entries"),
                ));
            }
            for t in tags {
                max_len("tags", t, MAX_NAME_LEN)?;
            }
        }
        if let Some(params) = &self.parameters {
            if params.len() > MAX_PARAMETERS {
                return Err(ValidationError::new(
                    "parameters",
                    format!("must have at most {MAX_PARAMETERS} entries"),
                ));
            }
            for (name, p) in params {
                if !PARAMETER_NAME.is_match(name) {
                    return Err(ValidationError::new(
                        "parameters",
                        format!(
                            "key '{name}' is not a valid name (letters, digits and '_', not starting with a digit)"
                        ),
                    ));
                }
                p.validate(name)?;
            }
        }
        for (field, id) in [
            ("check_definition_id", self.check_definition_id),
            ("parent_id", self.parent_id),
        ] {
            if id.is_some_and(|i| i < 1) {
                return Err(ValidationError::new(field, "must be a positive integer"));
            }
        }
        if let Some(p) = &self.period {
            max_len("period", p, MAX_NAME_LEN)?;
        }
        let status = self
            .status
            .unwrap_or(DefinitionStatus::Active)
            .settable("status")?;
        Ok(AlertNodeDraft {
            name,
            description,
            team,
            responsible_team,
            entities: self.entities,
            entities_exclude: self.entities_exclude,
            condition,
            notifications: self.notifications,
            check_definition_id: self.check_definition_id,
            status,
            priority: self.priority,
            period: self.period,
            template: self.template.unwrap_or(false),
            parent_id: self.parent_id,
            parameters: self.parameters,
            tags: self.tags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The request body of the ZMON documentation's example, verbatim.
    pub(crate) fn seed_body() -> serde_json::Value {
        json!({"name": "City Longitude >0", "description": "Test whether a city lies east or west",
               "team": "Platform/Software", "responsible_team": "Platform/Software",
               "entities": [{"type": "city"}], "entities_exclude": [],
               "condition": "capture(longitude=float(value)) > longitude_param", "notifications": [],
               "check_definition_id": 20, "status": "ACTIVE", "priority": 2, "period": "", "template": false,
               "parameters": {"longitude_param": {"comment": "Longitude parameter","type": "float", "value": 0}},
               "tags": ["CITY"]})
    }

    fn validate(v: serde_json::Value) -> Result<AlertNodeDraft, ValidationError> {
        serde_json::from_value::<AlertDefinitionInput>(v)
            .expect("input parses")
            .validate()
    }

    #[test]
    fn seed_example_is_valid() {
        let d = validate(seed_body()).expect("seed example");
        assert_eq!(d.priority, Some(2));
        assert_eq!(
            d.parameters.expect("params")["longitude_param"].value,
            json!(0)
        );
    }

    #[test]
    fn responsible_team_defaults_to_team() {
        let mut body = seed_body();
        body.as_object_mut()
            .expect("object")
            .remove("responsible_team");
        assert_eq!(
            validate(body).expect("valid").responsible_team,
            "Platform/Software"
        );
    }

    #[test]
    fn rejects_bad_fields_by_name() {
        let cases = [
            ("team", json!(null), "team is mandatory"),
            (
                "priority",
                json!(4),
                "priority must be 1 (red), 2 (orange) or 3 (yellow)",
            ),
            (
                "condition",
                json!("value > (1"),
                "condition has an unclosed '('",
            ),
            (
                "parameters",
                json!({"1x": {"value": 1}}),
                "parameters key '1x' is not a valid name",
            ),
            (
                "parameters",
                json!({"x": {"value": null}}),
                "parameters.x.value is mandatory",
            ),
            (
                "parameters",
                json!({"x": {"value": "a", "type": "int"}}),
                "parameters.x.value must be an integer",
            ),
            (
                "parameters",
                json!({"x": {"value": 1.5, "type": "int"}}),
                "parameters.x.value must be an integer",
            ),
            (
                "check_definition_id",
                json!(0),
                "check_definition_id must be a positive integer",
            ),
            (
                "notifications",
                json!([" "]),
                "notifications[0] must not be blank",
            ),
            ("status", json!("DELETED"), "status DELETED cannot be set"),
        ];
        for (field, value, expected) in cases {
            let mut body = seed_body();
            body[field] = value;
            let err = validate(body).expect_err(expected).to_string();
            assert!(err.starts_with(expected), "{err} vs {expected}");
        }
    }
}
