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
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entity => "entity",
            Self::CheckDefinition => "check_definition",
            Self::AlertDefinition => "alert_definition",
            Self::Downtime => "downtime",
            Self::Dashboard => "dashboard",
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
