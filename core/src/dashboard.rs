//! Dashboards: named sets of widgets, shared privately, with teams, or
//! publicly.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::check::MAX_NAME_LEN;
use crate::validation::{ValidationError, max_len, non_blank};

/// Largest widget configuration accepted, in bytes of JSON.
pub const MAX_WIDGETS_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ViewMode {
    Compact,
    #[default]
    Full,
}

/// Who may edit a dashboard besides admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EditOption {
    /// Only its creator.
    #[default]
    Private,
    /// Members of its `shared_teams`.
    Team,
    /// Every user who may write.
    Public,
}

impl EditOption {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "PRIVATE",
            Self::Team => "TEAM",
            Self::Public => "PUBLIC",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PRIVATE" => Some(Self::Private),
            "TEAM" => Some(Self::Team),
            "PUBLIC" => Some(Self::Public),
            _ => None,
        }
    }
}

impl ViewMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compact => "COMPACT",
            Self::Full => "FULL",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "COMPACT" => Some(Self::Compact),
            "FULL" => Some(Self::Full),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Dashboard {
    pub id: i64,
    pub name: String,
    pub created_by: String,
    /// Epoch milliseconds.
    pub last_modified: i64,
    pub last_modified_by: String,
    pub view_mode: ViewMode,
    pub edit_option: EditOption,
    pub alert_teams: Vec<String>,
    pub tags: Vec<String>,
    pub shared_teams: Vec<String>,
    /// The widgets, as the UI stores them.
    #[schema(value_type = Object)]
    pub widget_configuration: Value,
}

/// A dashboard as clients send it. The official CLI's `dashboard init`
/// writes `"id": ""` for a new one, so an empty string means "no id".
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DashboardInput {
    #[schema(value_type = Option<i64>)]
    pub id: Option<Value>,
    pub name: Option<String>,
    pub view_mode: Option<ViewMode>,
    pub edit_option: Option<EditOption>,
    pub alert_teams: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    pub shared_teams: Option<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub widget_configuration: Option<Value>,
}

/// A validated dashboard before the store assigns identity and times.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardDraft {
    pub id: Option<i64>,
    pub name: String,
    pub view_mode: ViewMode,
    pub edit_option: EditOption,
    pub alert_teams: Vec<String>,
    pub tags: Vec<String>,
    pub shared_teams: Vec<String>,
    pub widget_configuration: Value,
}

impl DashboardInput {
    pub fn validate(self) -> Result<DashboardDraft, ValidationError> {
        let id = match self.id {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(
                s.trim()
                    .parse::<i64>()
                    .map_err(|_| ValidationError::new("id", "must be an integer"))?,
            ),
            Some(Value::Number(n)) => Some(
                n.as_i64()
                    .ok_or_else(|| ValidationError::new("id", "must be an integer"))?,
            ),
            Some(_) => return Err(ValidationError::new("id", "must be an integer")),
        };
        if id.is_some_and(|i| i < 1) {
            return Err(ValidationError::new("id", "must be a positive integer"));
        }
        let name = non_blank("name", self.name)?;
        max_len("name", &name, MAX_NAME_LEN)?;
        let widget_configuration = self
            .widget_configuration
            .unwrap_or(Value::Array(Vec::new()));
        if widget_configuration.to_string().len() > MAX_WIDGETS_BYTES {
            return Err(ValidationError::new(
                "widget_configuration",
                format!("must be at most {MAX_WIDGETS_BYTES} bytes of JSON"),
            ));
        }
        Ok(DashboardDraft {
            id,
            name,
            view_mode: self.view_mode.unwrap_or_default(),
            edit_option: self.edit_option.unwrap_or_default(),
            alert_teams: self.alert_teams.unwrap_or_default(),
            tags: self.tags.unwrap_or_default(),
            shared_teams: self.shared_teams.unwrap_or_default(),
            widget_configuration,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn validate(v: Value) -> Result<DashboardDraft, ValidationError> {
        serde_json::from_value::<DashboardInput>(v)
            .expect("parses")
            .validate()
    }

    #[test]
    fn cli_init_file_is_a_new_dashboard() {
        let d = validate(
            json!({"id": "", "name": "Example dashboard", "last_modified_by": "me",
            "alert_teams": ["Team1"], "tags": [], "view_mode": "FULL", "shared_teams": [],
            "widget_configuration": []}),
        )
        .expect("valid");
        assert_eq!(d.id, None);
        assert_eq!(d.edit_option, EditOption::Private);
        assert_eq!(
            validate(json!({"id": "12", "name": "x"}))
                .expect("valid")
                .id,
            Some(12)
        );
    }

    #[test]
    fn names_bad_fields() {
        assert_eq!(
            validate(json!({"id": "x", "name": "n"}))
                .expect_err("id")
                .to_string(),
            "id must be an integer"
        );
        assert_eq!(
            validate(json!({"name": " "}))
                .expect_err("name")
                .to_string(),
            "name must not be blank"
        );
    }
}
