//! Alert state changes, as workers publish them and the controller keeps
//! them in its event history.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// ZMON's event types, with its numeric codes kept in the names' docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertEventKind {
    /// 0x34001: the alert is now raised on at least one entity.
    AlertStarted,
    /// 0x34002: the alert is raised on no entity any more.
    AlertEnded,
    /// 0x34003: the alert is now raised on this entity.
    AlertEntityStarted,
    /// 0x34004: the alert is no longer raised on this entity.
    AlertEntityEnded,
}

impl AlertEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AlertStarted => "ALERT_STARTED",
            Self::AlertEnded => "ALERT_ENDED",
            Self::AlertEntityStarted => "ALERT_ENTITY_STARTED",
            Self::AlertEntityEnded => "ALERT_ENTITY_ENDED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::AlertStarted,
            Self::AlertEnded,
            Self::AlertEntityStarted,
            Self::AlertEntityEnded,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertEvent {
    pub kind: AlertEventKind,
    pub alert_id: i64,
    pub entity: String,
    /// Epoch seconds.
    pub ts: f64,
    #[schema(value_type = Object)]
    pub captures: Map<String, Value>,
    #[schema(value_type = Object)]
    pub value: Value,
    pub worker: String,
}
