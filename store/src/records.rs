//! Rows the store hands out, beyond the domain types of `zmon-core`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;
use zmon_core::check::CheckDefinition;
use zmon_core::{Entity, Role};

#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntity {
    pub entity: Entity,
    pub created: DateTime<Utc>,
    pub created_by: String,
    pub last_modified: DateTime<Utc>,
    pub last_modified_by: String,
}

/// A check definition with the facts permission rules need.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRecord {
    pub check: CheckDefinition,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRecord {
    pub name: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub role: Role,
    pub teams: Vec<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub password_hash: Option<String>,
    pub role: Role,
    pub teams: Vec<String>,
}

/// An OAuth login in flight, between the redirect and the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthLogin {
    pub state: String,
    pub provider: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub next_path: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub id: Uuid,
    pub user_name: String,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl TokenRecord {
    pub fn is_usable_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }

    /// `revoked`, `expired` or `active`, as token lists show it.
    pub fn state_at(&self, now: DateTime<Utc>) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if !self.is_usable_at(now) {
            "expired"
        } else {
            "active"
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: Uuid,
    pub user_name: String,
    pub token_hash: String,
    pub label: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    Entity,
    CheckDefinition,
    AlertDefinition,
    Downtime,
    Dashboard,
    Monitor,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entity => "entity",
            Self::CheckDefinition => "check_definition",
            Self::AlertDefinition => "alert_definition",
            Self::Downtime => "downtime",
            Self::Dashboard => "dashboard",
            Self::Monitor => "monitor",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Update,
    Delete,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

/// A one-time login token for a wall monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnetimeToken {
    pub token: String,
    pub created_by: String,
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub bound_ip: Option<String>,
    pub bound_at: Option<DateTime<Utc>>,
    pub bound_expires: Option<DateTime<Utc>>,
}

/// One definition change: who, what, and the state before and after.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: AuditKind,
    pub object_id: String,
    pub action: AuditAction,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    pub object_id: String,
    pub action: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// A stored event and its row id (the tie-breaker of the history's order).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: i64,
    pub event: zmon_core::event::AlertEvent,
}

/// `GET /api/v2/events`: newest first, filtered, after a keyset cursor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventQuery {
    pub alert_id: Option<i64>,
    pub entity: Option<String>,
    /// Events of alert definitions owned by this team (case-insensitive).
    pub team: Option<String>,
    /// Event kinds (`ALERT_STARTED`, …); empty: all.
    pub kinds: Vec<String>,
    /// Epoch microseconds, inclusive.
    pub since: Option<i64>,
    /// Epoch microseconds, exclusive.
    pub until: Option<i64>,
    /// Only events older than this (epoch microseconds, row id) pair.
    pub before: Option<(i64, i64)>,
    pub limit: i64,
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use uuid::Uuid;

    use super::TokenRecord;

    #[test]
    fn a_token_is_revoked_before_it_is_expired() {
        let now = Utc::now();
        let token = |expires_at, revoked_at| TokenRecord {
            id: Uuid::nil(),
            user_name: "u".into(),
            label: None,
            created_at: now,
            expires_at,
            revoked_at,
            last_used_at: None,
        };
        let past = Some(now - Duration::minutes(1));
        assert_eq!(token(None, None).state_at(now), "active");
        assert_eq!(
            token(Some(now + Duration::minutes(1)), None).state_at(now),
            "active"
        );
        assert_eq!(token(past, None).state_at(now), "expired");
        assert_eq!(token(past, past).state_at(now), "revoked");
    }
}
