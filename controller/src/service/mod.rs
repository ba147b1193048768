//! The controller's use cases, independent of HTTP: each function checks
//! permissions, validates, and writes through one store transaction with
//! its audit entry.

pub mod alerts;
pub mod checks;
pub mod dashboards;
pub mod downtimes;
pub mod entities;
pub mod events;
pub mod fleet;
pub mod groups;
pub mod host_history;
pub mod hosts;
pub mod language;
pub mod monitors;
pub mod onetime_tokens;
pub mod probes;
pub mod search;
pub mod status;
pub mod streams;
pub mod trials;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::{AuditAction, AuditEntry, AuditKind};

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::Internal(e.to_string()))
}

pub(crate) fn audit_entry<T: Serialize>(
    at: DateTime<Utc>,
    caller: &Caller,
    kind: AuditKind,
    object_id: impl ToString,
    action: AuditAction,
    before: Option<&T>,
    after: Option<&T>,
) -> Result<AuditEntry, ApiError> {
    Ok(AuditEntry {
        at,
        actor: caller.uid.clone(),
        kind,
        object_id: object_id.to_string(),
        action,
        before: before.map(to_json).transpose()?,
        after: after.map(to_json).transpose()?,
    })
}
