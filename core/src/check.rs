//! Check definitions: what to run, how often, and against which entities.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::filter::EntityFilter;
use crate::validation::{ValidationError, max_len, non_blank};

pub const MAX_NAME_LEN: usize = 256;
pub const MAX_TEXT_LEN: usize = 16 * 1024;
pub const MAX_COMMAND_LEN: usize = 64 * 1024;

/// Lifecycle of check and alert definitions. Only ACTIVE ones are scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DefinitionStatus {
    Active,
    Inactive,
    Rejected,
    Deleted,
}

impl DefinitionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Rejected => "REJECTED",
            Self::Deleted => "DELETED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ACTIVE" => Some(Self::Active),
            "INACTIVE" => Some(Self::Inactive),
            "REJECTED" => Some(Self::Rejected),
            "DELETED" => Some(Self::Deleted),
            _ => None,
        }
    }

    /// Clients set ACTIVE, INACTIVE or REJECTED; DELETED is what a deletion
    /// leaves behind and cannot be requested.
    pub(crate) fn settable(self, field: &str) -> Result<Self, ValidationError> {
        if self == Self::Deleted {
            return Err(ValidationError::new(
                field,
                "DELETED cannot be set; send a DELETE request instead",
            ));
        }
        Ok(self)
    }
}

/// A stored check definition, as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CheckDefinition {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub technical_details: Option<String>,
    pub potential_analysis: Option<String>,
    pub potential_impact: Option<String>,
    pub potential_solution: Option<String>,
    pub owning_team: String,
    pub entities: Vec<EntityFilter>,
    /// Ours: entities matching any of these filters are not checked
    /// (ZMON had this on alerts only). Monitors use it for `cover: except`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities_exclude: Vec<EntityFilter>,
    /// Seconds between runs.
    pub interval: i64,
    /// The check command (a Rhai script).
    pub command: String,
    pub status: DefinitionStatus,
    pub source_url: Option<String>,
    pub last_modified_by: String,
    /// Epoch milliseconds.
    pub last_modified: i64,
}

/// The `source_url` scheme of check definitions a monitor manages
/// (`zmon-monitor:<id>`). Such checks run without alerts, and only their
/// monitor may change them.
pub const MONITOR_SOURCE_PREFIX: &str = "zmon-monitor:";

impl CheckDefinition {
    /// The monitor that manages this check, if any.
    pub fn monitor_id(&self) -> Option<i64> {
        monitor_id_of_source(self.source_url.as_deref())
    }
}

/// The monitor id a `source_url` names, if it is a monitor's.
pub fn monitor_id_of_source(source_url: Option<&str>) -> Option<i64> {
    source_url?
        .strip_prefix(MONITOR_SOURCE_PREFIX)?
        .parse()
        .ok()
}

/// A check definition as clients send it. Every field is optional here so
/// that a missing one is reported by name instead of by serde's position.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CheckDefinitionInput {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub technical_details: Option<String>,
    pub potential_analysis: Option<String>,
    pub potential_impact: Option<String>,
    pub potential_solution: Option<String>,
    pub owning_team: Option<String>,
    pub entities: Option<Vec<EntityFilter>>,
    pub entities_exclude: Option<Vec<EntityFilter>>,
    pub interval: Option<i64>,
    pub command: Option<String>,
    /// Defaults to ACTIVE.
    pub status: Option<DefinitionStatus>,
    pub source_url: Option<String>,
    /// Ignored: the server records the authenticated caller.
    pub last_modified_by: Option<String>,
}

/// A validated check definition ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCheckDefinition {
    pub id: Option<i64>,
    pub name: String,
    pub description: String,
    pub technical_details: Option<String>,
    pub potential_analysis: Option<String>,
    pub potential_impact: Option<String>,
    pub potential_solution: Option<String>,
    pub owning_team: String,
    pub entities: Vec<EntityFilter>,
    pub entities_exclude: Vec<EntityFilter>,
    pub interval: i64,
    pub command: String,
    pub status: DefinitionStatus,
    pub source_url: Option<String>,
}

impl CheckDefinitionInput {
    pub fn validate(self) -> Result<NewCheckDefinition, ValidationError> {
        let name = non_blank("name", self.name)?;
        max_len("name", &name, MAX_NAME_LEN)?;
        let owning_team = non_blank("owning_team", self.owning_team)?;
        max_len("owning_team", &owning_team, MAX_NAME_LEN)?;
        let command = self
            .command
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| ValidationError::mandatory("command"))?;
        max_len("command", &command, MAX_COMMAND_LEN)?;
        let interval = self
            .interval
            .ok_or_else(|| ValidationError::mandatory("interval"))?;
        if interval < 1 {
            return Err(ValidationError::new(
                "interval",
                "must be at least 1 second",
            ));
        }
        let entities = self
            .entities
            .ok_or_else(|| ValidationError::mandatory("entities"))?;
        if entities.is_empty() {
            return Err(ValidationError::new(
                "entities",
                "must contain at least one filter",
            ));
        }
        for filter in &entities {
            filter.validate("entities")?;
            if filter.get("type").is_none() {
                return Err(ValidationError::new(
                    "entities",
                    "every filter must name a 'type'",
                ));
            }
        }
        let entities_exclude = self.entities_exclude.unwrap_or_default();
        for filter in &entities_exclude {
            filter.validate("entities_exclude")?;
        }
        let status = self
            .status
            .unwrap_or(DefinitionStatus::Active)
            .settable("status")?;
        let description = self.description.unwrap_or_default();
        max_len("description", &description, MAX_TEXT_LEN)?;
        for (field, value) in [
            ("technical_details", &self.technical_details),
            ("potential_analysis", &self.potential_analysis),
            ("potential_impact", &self.potential_impact),
            ("potential_solution", &self.potential_solution),
            ("source_url", &self.source_url),
        ] {
            if let Some(v) = value {
                max_len(field, v, MAX_TEXT_LEN)?;
            }
        }
        if let Some(id) = self.id
            && id < 1
        {
            return Err(ValidationError::new("id", "must be a positive integer"));
        }
        Ok(NewCheckDefinition {
            id: self.id,
            name,
            description,
            technical_details: self.technical_details,
            potential_analysis: self.potential_analysis,
            potential_impact: self.potential_impact,
            potential_solution: self.potential_solution,
            owning_team,
            entities,
            entities_exclude,
            interval,
            command,
            status,
            source_url: self.source_url.filter(|u| !u.trim().is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: serde_json::Value) -> CheckDefinitionInput {
        serde_json::from_value(v).expect("input parses")
    }

    fn valid() -> serde_json::Value {
        json!({"name": "City info", "owning_team": "Platform", "command": "http('/').code()",
               "interval": 60, "entities": [{"type": "city"}]})
    }

    #[test]
    fn defaults_status_to_active() {
        let c = input(valid()).validate().expect("valid");
        assert_eq!(c.status, DefinitionStatus::Active);
        assert_eq!(c.description, "");
    }

    #[test]
    fn names_the_missing_or_broken_field() {
        let cases = [
            ("name", json!(null), "name is mandatory"),
            ("owning_team", json!("  "), "owning_team must not be blank"),
            ("command", json!(""), "command is mandatory"),
            ("interval", json!(0), "interval must be at least 1 second"),
            (
                "entities",
                json!([]),
                "entities must contain at least one filter",
            ),
            (
                "entities",
                json!([{"application": "x"}]),
                "entities every filter must name a 'type'",
            ),
            (
                "entities",
                json!([{"type": null}]),
                "entities must not contain null values (key 'type')",
            ),
            ("status", json!("DELETED"), "status DELETED cannot be set"),
        ];
        for (field, value, expected) in cases {
            let mut body = valid();
            body[field] = value;
            let err = input(body).validate().expect_err(expected).to_string();
            assert!(err.starts_with(expected), "{err}");
        }
    }
}
