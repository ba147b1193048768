//! Monitor definitions. Each monitor manages one check definition (its
//! probes); both change together in one transaction.

use std::collections::HashMap;

use zmon_core::monitor::{Monitor, MonitorDraft, MonitorInput, ServerRef};

use super::audit_entry;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AuditAction, AuditKind};

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("monitor {id} does not exist"))
}

pub async fn list(state: &AppState) -> Result<Vec<Monitor>, ApiError> {
    Ok(state.store.monitors().await?)
}

pub async fn get(state: &AppState, id: i64) -> Result<Monitor, ApiError> {
    state.store.monitor(id).await?.ok_or_else(|| not_found(id))
}

/// The host entity ids of `servers`; fleet ids must exist.
async fn server_entities(state: &AppState, servers: &[ServerRef]) -> Result<Vec<String>, ApiError> {
    let ids: Vec<i64> = servers
        .iter()
        .filter_map(|s| match s {
            ServerRef::Id(id) => Some(*id),
            ServerRef::Entity(_) => None,
        })
        .collect();
    let known: HashMap<i64, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        state
            .store
            .fleet_entities(&ids)
            .await?
            .into_iter()
            .collect()
    };
    let mut entities = Vec::with_capacity(servers.len());
    for server in servers {
        let entity = match server {
            ServerRef::Id(id) => known.get(id).cloned().ok_or_else(|| {
                ApiError::bad_request(format!(
                    "servers: server {id} does not exist (see /api/v1/server/list)"
                ))
            })?,
            ServerRef::Entity(e) => e.trim().to_string(),
        };
        if !entities.contains(&entity) {
            entities.push(entity);
        }
    }
    Ok(entities)
}

fn owning_team(
    draft: &MonitorDraft,
    caller: &Caller,
    current: Option<&str>,
) -> Result<String, ApiError> {
    draft
        .team
        .clone()
        .or_else(|| current.map(str::to_string))
        .or_else(|| caller.teams.first().cloned())
        .ok_or_else(|| {
            ApiError::bad_request("team: name the team that owns the monitor (you are in none)")
        })
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: MonitorInput,
) -> Result<Monitor, ApiError> {
    caller.require_write()?;
    let draft = input.validate()?;
    let team = owning_team(&draft, caller, None)?;
    caller.may_write_check(None, &team)?;
    let entities = server_entities(state, &draft.servers).await?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let inserted = tx.insert_monitor(&draft, &team, &caller.uid, now).await?;
    let check = tx
        .insert_check(
            &draft.check_definition(inserted.id, &team, &entities),
            &caller.uid,
            now,
        )
        .await?;
    let monitor = tx
        .update_monitor(inserted.id, &draft, &team, check.id, &caller.uid, now)
        .await?;
    for entry in [
        audit_entry(
            now,
            caller,
            AuditKind::Monitor,
            monitor.id,
            AuditAction::Create,
            None,
            Some(&monitor),
        )?,
        audit_entry(
            now,
            caller,
            AuditKind::CheckDefinition,
            check.id,
            AuditAction::Create,
            None,
            Some(&check),
        )?,
    ] {
        tx.append_audit(&entry).await?;
    }
    tx.commit().await?;
    Ok(monitor)
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: i64,
    input: MonitorInput,
) -> Result<Monitor, ApiError> {
    caller.require_write()?;
    let draft = input.validate()?;
    let entities = server_entities(state, &draft.servers).await?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let current = tx.lock_monitor(id).await?.ok_or_else(|| not_found(id))?;
    let team = owning_team(&draft, caller, Some(&current.team))?;
    let check = tx
        .lock_check(current.check_definition_id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("monitor {id} has lost its check definition")))?;
    caller.may_write_check(Some((&check.check, check.created_by.as_str())), &team)?;
    let saved_check = tx
        .update_check(
            check.check.id,
            &draft.check_definition(id, &team, &entities),
            &caller.uid,
            now,
        )
        .await?;
    let monitor = tx
        .update_monitor(id, &draft, &team, saved_check.id, &caller.uid, now)
        .await?;
    for entry in [
        audit_entry(
            now,
            caller,
            AuditKind::Monitor,
            id,
            AuditAction::Update,
            Some(&current),
            Some(&monitor),
        )?,
        audit_entry(
            now,
            caller,
            AuditKind::CheckDefinition,
            saved_check.id,
            AuditAction::Update,
            Some(&check.check),
            Some(&saved_check),
        )?,
    ] {
        tx.append_audit(&entry).await?;
    }
    tx.commit().await?;
    Ok(monitor)
}

/// Deletes a monitor, its check definition and its history. Alerts on
/// its check must go first.
pub async fn delete(state: &AppState, caller: &Caller, id: i64) -> Result<Monitor, ApiError> {
    caller.require_write()?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let current = tx.lock_monitor(id).await?.ok_or_else(|| not_found(id))?;
    let check = tx.lock_check(current.check_definition_id).await?;
    if let Some(check) = &check {
        caller.may_delete_check(&check.check)?;
        let users = tx.alerts_using_check(check.check.id).await?;
        if !users.is_empty() {
            let ids: Vec<String> = users.iter().map(i64::to_string).collect();
            return Err(ApiError::Conflict(format!(
                "monitor {id} is used by alert definitions {} (on its check definition {}); delete them first",
                ids.join(", "),
                check.check.id
            )));
        }
    }
    tx.delete_monitor(id).await?;
    tx.append_audit(&audit_entry(
        now,
        caller,
        AuditKind::Monitor,
        id,
        AuditAction::Delete,
        Some(&current),
        None,
    )?)
    .await?;
    if let Some(check) = check {
        tx.delete_check(check.check.id).await?;
        tx.append_audit(&audit_entry(
            now,
            caller,
            AuditKind::CheckDefinition,
            check.check.id,
            AuditAction::Delete,
            Some(&check.check),
            None,
        )?)
        .await?;
    }
    tx.commit().await?;
    Ok(current)
}
