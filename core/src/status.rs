//! Alert state records that workers write to Redis and the status API
//! serves.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The state of one alert on one entity: the JSON stored at
/// `zmon:alerts:<alert>:<entity>` while the alert is raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertStatus {
    /// Check duration in seconds.
    pub td: f64,
    /// Downtimes active for this pair when the alert was evaluated.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub downtimes: Vec<Value>,
    /// Values captured by the condition, plus the alert's parameters.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub captures: Map<String, Value>,
    /// Epoch seconds when the alert started on this entity.
    pub start_time: f64,
    pub worker: String,
    /// Epoch seconds of the check run.
    pub ts: f64,
    /// The check's value, or the error text when the check failed.
    #[schema(value_type = Object)]
    pub value: Value,
    /// Present (1) when the check raised an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i32>)]
    pub exc: Option<Value>,
}

/// One stored check result, an element of `zmon:checks:<check>:<entity>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CheckResult {
    pub ts: f64,
    pub td: f64,
    #[schema(value_type = Object)]
    pub value: Value,
    pub worker: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i32>)]
    pub exc: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_status_entry_round_trips() {
        let raw = r#"{"td":0.013866,"downtimes":[],"captures":{"count":1},"start_time":1.416391418749185E9,"worker":"p3426.itr-monitor01","ts":1.4164876292204E9,"value":1}"#;
        let status: AlertStatus = serde_json::from_str(raw).expect("parses");
        assert_eq!(status.captures["count"], 1);
        assert!(status.exc.is_none());
        let back = serde_json::to_value(&status).expect("serializes");
        for field in [
            "td",
            "downtimes",
            "captures",
            "start_time",
            "worker",
            "ts",
            "value",
        ] {
            assert!(back.get(field).is_some(), "{field}");
        }
        assert!(back.get("exc").is_none());
    }
}
