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
    /// A notification was delivered (ours; `data` says what and to whom).
    NotificationSent,
    /// A delivery attempt failed (`data.attempt`, `data.error`).
    NotificationFailed,
    /// A notification was held back (`data.reason`: downtime, period).
    NotificationSuppressed,
    /// 0x34101: a downtime was scheduled for the alert on the entity.
    DowntimeCreated,
    /// 0x34102: a downtime was deleted (ended early).
    DowntimeDeleted,
    /// 0x34005: a downtime is in force.
    DowntimeStarted,
    /// 0x34006: a downtime is over (`data.reason`: deleted, expired).
    DowntimeEnded,
}

impl AlertEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AlertStarted => "ALERT_STARTED",
            Self::AlertEnded => "ALERT_ENDED",
            Self::AlertEntityStarted => "ALERT_ENTITY_STARTED",
            Self::AlertEntityEnded => "ALERT_ENTITY_ENDED",
            Self::NotificationSent => "NOTIFICATION_SENT",
            Self::NotificationFailed => "NOTIFICATION_FAILED",
            Self::NotificationSuppressed => "NOTIFICATION_SUPPRESSED",
            Self::DowntimeCreated => "DOWNTIME_CREATED",
            Self::DowntimeDeleted => "DOWNTIME_DELETED",
            Self::DowntimeStarted => "DOWNTIME_STARTED",
            Self::DowntimeEnded => "DOWNTIME_ENDED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::AlertStarted,
            Self::AlertEnded,
            Self::AlertEntityStarted,
            Self::AlertEntityEnded,
            Self::NotificationSent,
            Self::NotificationFailed,
            Self::NotificationSuppressed,
            Self::DowntimeCreated,
            Self::DowntimeDeleted,
            Self::DowntimeStarted,
            Self::DowntimeEnded,
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
    /// Details of notification events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
}
