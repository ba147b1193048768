//! Dashboards.

use zmon_core::dashboard::{Dashboard, DashboardInput, EditOption};

use super::audit_entry;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AuditAction, AuditKind};

pub async fn get(state: &AppState, id: i64) -> Result<Dashboard, ApiError> {
    state
        .store
        .dashboard(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("dashboard {id} does not exist")))
}

/// Creates a dashboard, or updates the one with the given id; answers its id.
pub async fn upsert(
    state: &AppState,
    caller: &Caller,
    input: DashboardInput,
    path_id: Option<i64>,
) -> Result<i64, ApiError> {
    caller.require_write()?;
    let mut draft = input.validate()?;
    if let Some(id) = path_id {
        match draft.id {
            Some(body_id) if body_id != id => {
                return Err(ApiError::bad_request(format!(
                    "id: {body_id} in the body does not match {id} in the path"
                )));
            }
            _ => draft.id = Some(id),
        }
    }
    // A TEAM dashboard without teams is shared with the caller's teams.
    if draft.edit_option == EditOption::Team && draft.shared_teams.is_empty() {
        draft.shared_teams = caller.teams.clone();
    }
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let (saved, before, action) = match draft.id {
        Some(id) => {
            let current = tx
                .lock_dashboard(id)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("dashboard {id} does not exist")))?;
            caller.may_edit_dashboard(&current, draft.edit_option)?;
            let saved = tx.update_dashboard(id, &draft, &caller.uid, now).await?;
            (saved, Some(current), AuditAction::Update)
        }
        None => (
            tx.insert_dashboard(&draft, &caller.uid, now).await?,
            None,
            AuditAction::Create,
        ),
    };
    tx.append_audit(&audit_entry(
        now,
        caller,
        AuditKind::Dashboard,
        saved.id,
        action,
        before.as_ref(),
        Some(&saved),
    )?)
    .await?;
    tx.commit().await?;
    Ok(saved.id)
}
