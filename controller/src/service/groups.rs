//! On-call groups: ZMON's v1 routes over its Redis keys, with writes
//! limited to admins and the group's team (ZMON checked no role), plus a
//! whole-group v2 replace and delete.

use zmon_core::group::{Group, GroupChange, GroupSpec, Member, validate_id};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// A group belongs to the team of the same name (ZMON names groups after
/// teams, e.g. `2nd-database`): its members and admins may change it.
fn may_change_group(caller: &Caller, group: &str) -> Result<(), ApiError> {
    caller.require_write()?;
    if caller.is_admin() || caller.is_member(group) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "Access is denied: only admins and team '{group}' may change group '{group}'"
        )))
    }
}

/// A member's phones and name: the member themself, or an admin.
fn may_change_member(caller: &Caller, member: &str) -> Result<(), ApiError> {
    caller.require_write()?;
    if caller.is_admin() || caller.uid.eq_ignore_ascii_case(member) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "Access is denied: only admins and {member} may change {member}'s details"
        )))
    }
}

pub async fn list(state: &AppState) -> Result<Vec<Group>, ApiError> {
    Ok(state.bus.groups().await?)
}

pub async fn member(state: &AppState, member: &str) -> Result<Member, ApiError> {
    validate_id("member", member)?;
    Ok(state.bus.group_member(member).await?)
}

pub async fn change(
    state: &AppState,
    caller: &Caller,
    change: GroupChange,
) -> Result<i64, ApiError> {
    match &change {
        GroupChange::AddMember { group, member }
        | GroupChange::RemoveMember { group, member }
        | GroupChange::AddActive { group, member }
        | GroupChange::RemoveActive { group, member } => {
            validate_id("group", group)?;
            validate_id("member", member)?;
            may_change_group(caller, group)?;
        }
        GroupChange::ClearActive { group } => {
            validate_id("group", group)?;
            may_change_group(caller, group)?;
        }
        GroupChange::AddPhone { member, phone } | GroupChange::RemovePhone { member, phone } => {
            validate_id("member", member)?;
            validate_id("phone", phone)?;
            may_change_member(caller, member)?;
        }
        GroupChange::SetName { member, name } => {
            validate_id("member", member)?;
            validate_id("name", name)?;
            may_change_member(caller, member)?;
        }
    }
    Ok(state.bus.change_group(&change).await?)
}

pub async fn put(
    state: &AppState,
    caller: &Caller,
    id: &str,
    spec: GroupSpec,
) -> Result<Group, ApiError> {
    validate_id("group", id)?;
    spec.validate()?;
    may_change_group(caller, id)?;
    state.bus.put_group(id, &spec).await?;
    state
        .bus
        .groups()
        .await?
        .into_iter()
        .find(|g| g.id == id)
        .ok_or_else(|| ApiError::Internal(format!("group {id} vanished after it was written")))
}

pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<(), ApiError> {
    validate_id("group", id)?;
    may_change_group(caller, id)?;
    if state.bus.delete_group(id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("group {id} does not exist")))
    }
}
