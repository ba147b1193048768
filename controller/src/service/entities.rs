//! Entities: upsert with ZMON's ownership and type rules.

use serde_json::{Map, Value};
use zmon_core::Entity;
use zmon_core::EntityFilter;
use zmon_core::time::entity_timestamp;

use super::audit_entry;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AuditAction, AuditKind, EntityQuery, StoredEntity};

/// Entities of type `local` stand for remote data centres; ZMON rewrites
/// them on every push as a heartbeat.
const HEARTBEAT_TYPE: &str = "local";

/// Creates or replaces an entity document.
pub async fn upsert(state: &AppState, caller: &Caller, document: Value) -> Result<(), ApiError> {
    caller.require_write()?;
    let entity = Entity::from_document(document)?;
    let mut tx = state.store.begin().await?;
    let existing = tx.lock_entity(entity.id()).await?;
    if let Some(current) = &existing
        && current.entity.entity_type() != entity.entity_type()
    {
        return Err(ApiError::Conflict(format!(
            "entity '{}' already exists with type '{}'; its type cannot change to '{}'",
            entity.id(),
            current.entity.entity_type(),
            entity.entity_type()
        )));
    }
    caller.may_write_entity(existing.as_ref(), Some(&entity))?;
    let unchanged = existing
        .as_ref()
        .is_some_and(|e| e.entity == entity && entity.entity_type() != HEARTBEAT_TYPE);
    if unchanged {
        return Ok(());
    }
    let now = state.clock.now();
    tx.put_entity(&entity, &caller.uid, now).await?;
    let action = if existing.is_some() {
        AuditAction::Update
    } else {
        AuditAction::Create
    };
    let before = existing.map(|e| e.entity.into_document());
    tx.append_audit(&audit_entry(
        now,
        caller,
        AuditKind::Entity,
        entity.id(),
        action,
        before.as_ref(),
        Some(entity.document()),
    )?)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes an entity; false when it did not exist.
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<bool, ApiError> {
    caller.require_write()?;
    let mut tx = state.store.begin().await?;
    let Some(existing) = tx.lock_entity(id).await? else {
        return Ok(false);
    };
    caller.may_write_entity(Some(&existing), None)?;
    tx.delete_entity(id).await?;
    tx.append_audit(&audit_entry(
        state.clock.now(),
        caller,
        AuditKind::Entity,
        id,
        AuditAction::Delete,
        Some(existing.entity.document()),
        None,
    )?)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The document as served: what was stored plus ZMON's `last_modified`
/// string, which the official CLI sorts by.
pub fn present(stored: StoredEntity) -> Map<String, Value> {
    let mut doc = stored.entity.into_document();
    doc.insert(
        "last_modified".into(),
        Value::String(entity_timestamp(stored.last_modified)),
    );
    doc
}

pub async fn get(state: &AppState, id: &str) -> Result<Map<String, Value>, ApiError> {
    state
        .store
        .entity(id)
        .await?
        .map(present)
        .ok_or_else(|| ApiError::not_found(format!("entity '{id}' does not exist")))
}

pub async fn list(
    state: &AppState,
    query: &EntityQuery,
) -> Result<Vec<Map<String, Value>>, ApiError> {
    Ok(state
        .store
        .entities(query)
        .await?
        .into_iter()
        .map(present)
        .collect())
}

/// The `query` of an entity search: a JSON filter object, or a list of
/// them (any may match).
pub fn parse_query(raw: Option<&str>) -> Result<Option<Vec<EntityFilter>>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    let value: Value = serde_json::from_str(raw)
        .map_err(|e| ApiError::bad_request(format!("query: not valid JSON: {e}")))?;
    let filters = match value {
        Value::Object(map) => vec![EntityFilter::new(map)],
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(map) => Ok(EntityFilter::new(map)),
                _ => Err(ApiError::bad_request(format!(
                    "query[{i}]: must be a JSON object"
                ))),
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(ApiError::bad_request(
                "query: must be a JSON object or an array of objects",
            ));
        }
    };
    Ok(Some(filters))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_accepts_object_or_array() {
        assert_eq!(parse_query(None).expect("none"), None);
        assert_eq!(
            parse_query(Some(r#"{"type":"city"}"#))
                .expect("obj")
                .map(|f| f.len()),
            Some(1)
        );
        assert_eq!(
            parse_query(Some(r#"[{"a":1},{"b":2}]"#))
                .expect("arr")
                .map(|f| f.len()),
            Some(2)
        );
        assert!(parse_query(Some("[1]")).is_err());
        assert!(parse_query(Some("{")).is_err());
        assert!(parse_query(Some("42")).is_err());
    }
}
