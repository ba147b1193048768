//! Check definitions: upsert by id, else source URL, else (name, team).

use zmon_core::check::{
    CheckDefinition, CheckDefinitionInput, DefinitionStatus, MONITOR_SOURCE_PREFIX,
};

use super::audit_entry;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AuditAction, AuditKind};

/// Creates or updates a check definition. `path_id` is the id of
/// `POST /check-definitions/{id}`, which must agree with the body.
pub async fn upsert(
    state: &AppState,
    caller: &Caller,
    mut input: CheckDefinitionInput,
    path_id: Option<i64>,
) -> Result<CheckDefinition, ApiError> {
    caller.require_write()?;
    if let Some(id) = path_id {
        match input.id {
            Some(body_id) if body_id != id => {
                return Err(ApiError::bad_request(format!(
                    "id: {body_id} in the body does not match {id} in the path"
                )));
            }
            _ => input.id = Some(id),
        }
    }
    let check = input.validate()?;
    super::language::check_script("command", &check.command)?;
    let mut tx = state.store.begin().await?;
    let existing = match check.id {
        Some(id) => tx.lock_check(id).await?,
        None => {
            tx.lock_check_by_natural_key(
                check.source_url.as_deref(),
                &check.name,
                &check.owning_team,
            )
            .await?
        }
    };
    if let Some(current) = &existing {
        refuse_managed(&current.check)?;
    }
    if check
        .source_url
        .as_deref()
        .is_some_and(|u| u.to_ascii_lowercase().starts_with(MONITOR_SOURCE_PREFIX))
    {
        return Err(ApiError::bad_request(format!(
            "source_url: '{MONITOR_SOURCE_PREFIX}' is reserved for checks that monitors manage"
        )));
    }
    caller.may_write_check(
        existing.as_ref().map(|e| (&e.check, e.created_by.as_str())),
        &check.owning_team,
    )?;
    let now = state.clock.now();
    let saved = match &existing {
        Some(current) => {
            tx.update_check(current.check.id, &check, &caller.uid, now)
                .await?
        }
        None => tx.insert_check(&check, &caller.uid, now).await?,
    };
    let action = if existing.is_some() {
        AuditAction::Update
    } else {
        AuditAction::Create
    };
    tx.append_audit(&audit_entry(
        now,
        caller,
        AuditKind::CheckDefinition,
        saved.id,
        action,
        existing.as_ref().map(|e| &e.check),
        Some(&saved),
    )?)
    .await?;
    tx.commit().await?;
    Ok(saved)
}

/// Deletes a check definition that no alert definition uses.
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<CheckDefinition, ApiError> {
    caller.require_write()?;
    let mut tx = state.store.begin().await?;
    let current = tx.lock_check(id).await?.ok_or_else(|| not_found(id))?;
    refuse_managed(&current.check)?;
    caller.may_delete_check(&current.check)?;
    let users = tx.alerts_using_check(id).await?;
    if !users.is_empty() {
        let ids: Vec<String> = users.iter().map(i64::to_string).collect();
        return Err(ApiError::Conflict(format!(
            "check definition {id} is used by alert definitions {}; delete them or point them at another check first",
            ids.join(", ")
        )));
    }
    tx.delete_check(id).await?;
    tx.append_audit(&audit_entry(
        state.clock.now(),
        caller,
        AuditKind::CheckDefinition,
        id,
        AuditAction::Delete,
        Some(&current.check),
        None,
    )?)
    .await?;
    tx.commit().await?;
    Ok(current.check)
}

/// A monitor's check changes only through its monitor.
fn refuse_managed(check: &CheckDefinition) -> Result<(), ApiError> {
    match check.monitor_id() {
        Some(monitor) => Err(ApiError::Conflict(format!(
            "check definition {} is managed by monitor {monitor}; change it through /api/v1/monitors/{monitor}",
            check.id
        ))),
        None => Ok(()),
    }
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("check definition {id} does not exist"))
}

pub async fn get(state: &AppState, id: i64) -> Result<CheckDefinition, ApiError> {
    state.store.check(id).await?.ok_or_else(|| not_found(id))
}

pub async fn list(
    state: &AppState,
    status: Option<DefinitionStatus>,
) -> Result<Vec<CheckDefinition>, ApiError> {
    Ok(state.store.checks(status).await?)
}
