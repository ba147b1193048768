//! Alert definitions: the tree, inheritance and the permission matrix.

use zmon_core::alert::{AlertDefinition, AlertDefinitionInput, AlertNodeDraft};
use zmon_core::check::DefinitionStatus;
use zmon_core::inheritance::{AlertTree, InheritanceError, missing_field};
use zmon_core::time::epoch_millis;

use super::{audit_entry, language};
use crate::auth::Caller;
use crate::auth::permissions::AlertOwnership;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AuditAction, AuditKind, StoreTx};

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("alert definition {id} does not exist"))
}

fn inheritance_error(e: InheritanceError) -> ApiError {
    match e {
        InheritanceError::MissingParent(_) => ApiError::bad_request(e.to_string()),
        InheritanceError::Cycle(_) => ApiError::Internal(e.to_string()),
    }
}

/// The condition compiles and the period and notifications parse, as
/// workers will need.
fn check_language(draft: &AlertNodeDraft) -> Result<(), ApiError> {
    if let Some(condition) = &draft.condition {
        language::check_script("condition", condition)?;
    }
    if let Some(period) = &draft.period {
        language::check_period(period)?;
    }
    for (i, entry) in draft.notifications.iter().flatten().enumerate() {
        language::check_notification(&format!("notifications[{i}]"), entry)?;
    }
    Ok(())
}

fn ownership(draft: &AlertNodeDraft) -> AlertOwnership<'_> {
    AlertOwnership {
        team: &draft.team,
        responsible_team: &draft.responsible_team,
        status: draft.status,
    }
}

/// Checks that `node` resolves and, unless a template, is complete, and
/// that the check it ends up with exists.
async fn validate_effective(
    tx: &mut Box<dyn StoreTx>,
    tree: &AlertTree,
    node: &AlertDefinition,
) -> Result<AlertDefinition, ApiError> {
    let effective = tree.effective(node).map_err(inheritance_error)?;
    if let Some(field) = missing_field(&effective) {
        return Err(ApiError::bad_request(format!("{field} is mandatory")));
    }
    if let Some(check_id) = effective.check_definition_id
        && tx.lock_check(check_id).await?.is_none()
    {
        return Err(ApiError::bad_request(format!(
            "check_definition_id: check definition {check_id} does not exist"
        )));
    }
    Ok(effective)
}

/// Creates a definition; returns the stored node (not the merged view), as
/// ZMON does.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: AlertDefinitionInput,
) -> Result<AlertDefinition, ApiError> {
    caller.require_write()?;
    let draft = input.validate()?;
    check_language(&draft)?;
    caller.may_create_alert(ownership(&draft))?;
    let mut tx = state.store.begin().await?;
    let tree = AlertTree::new(tx.lock_alert_tree().await?);
    let now = state.clock.now();
    // Id 0 never exists, so the candidate cannot shadow a stored node.
    let candidate = draft
        .clone()
        .into_definition(0, epoch_millis(now), &caller.uid);
    validate_effective(&mut tx, &tree, &candidate).await?;
    let saved = tx.insert_alert(&draft, &caller.uid, now).await?;
    tx.append_audit(&audit_entry(
        now,
        caller,
        AuditKind::AlertDefinition,
        saved.id,
        AuditAction::Create,
        None,
        Some(&saved),
    )?)
    .await?;
    tx.commit().await?;
    Ok(saved)
}

/// Replaces a definition's own fields. `check_definition_id` and
/// `parent_id` never change through an update.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: i64,
    input: AlertDefinitionInput,
) -> Result<AlertDefinition, ApiError> {
    caller.require_write()?;
    if let Some(body_id) = input.id
        && body_id != id
    {
        return Err(ApiError::bad_request(format!(
            "id: {body_id} in the body does not match {id} in the path"
        )));
    }
    let draft = input.validate()?;
    check_language(&draft)?;
    let mut tx = state.store.begin().await?;
    let mut tree = AlertTree::new(tx.lock_alert_tree().await?);
    let current = tree.node(id).cloned().ok_or_else(|| not_found(id))?;
    caller.may_update_alert(id, (&current).into(), ownership(&draft))?;
    let now = state.clock.now();
    let mut node = draft.into_definition(id, epoch_millis(now), &caller.uid);
    node.check_definition_id = current.check_definition_id;
    node.parent_id = current.parent_id;
    validate_effective(&mut tx, &tree, &node).await?;
    tree.insert(node.clone());
    let broken: Vec<String> = tree
        .descendants(id)
        .into_iter()
        .filter(|d| {
            tree.effective(d)
                .map(|e| missing_field(&e).is_some())
                .unwrap_or(true)
        })
        .map(|d| d.id.to_string())
        .collect();
    if !broken.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Update breaks the following alert definitions: {}",
            broken.join(", ")
        )));
    }
    tx.update_alert(&node).await?;
    tx.append_audit(&audit_entry(
        now,
        caller,
        AuditKind::AlertDefinition,
        id,
        AuditAction::Update,
        Some(&current),
        Some(&node),
    )?)
    .await?;
    tx.commit().await?;
    Ok(node)
}

/// Deletes a definition without children; returns the deleted node.
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<AlertDefinition, ApiError> {
    caller.require_write()?;
    let mut tx = state.store.begin().await?;
    let tree = AlertTree::new(tx.lock_alert_tree().await?);
    let current = tree.node(id).cloned().ok_or_else(|| not_found(id))?;
    caller.may_delete_alert(id, (&current).into())?;
    let children: Vec<String> = tree.children(id).iter().map(|c| c.id.to_string()).collect();
    if !children.is_empty() {
        return Err(ApiError::bad_request(format!(
            "alert definition {id} has children ({}); delete them first",
            children.join(", ")
        )));
    }
    tx.delete_alert(id).await?;
    tx.append_audit(&audit_entry(
        state.clock.now(),
        caller,
        AuditKind::AlertDefinition,
        id,
        AuditAction::Delete,
        Some(&current),
        None,
    )?)
    .await?;
    tx.commit().await?;
    Ok(current)
}

/// The merged view of one definition.
pub async fn get(state: &AppState, id: i64) -> Result<AlertDefinition, ApiError> {
    Ok(get_with_lineage(state, id).await?.0)
}

/// The merged view of one definition and the nodes it merges (the node
/// first, then its ancestors), read once.
pub async fn get_with_lineage(
    state: &AppState,
    id: i64,
) -> Result<(AlertDefinition, Vec<AlertDefinition>), ApiError> {
    let lineage = state.store.alert_lineage(id).await?;
    let node = lineage.first().cloned().ok_or_else(|| not_found(id))?;
    let merged = AlertTree::new(lineage.clone())
        .effective(&node)
        .map_err(inheritance_error)?;
    Ok((merged, lineage))
}

/// Merged views of the direct children of a definition.
pub async fn children(state: &AppState, id: i64) -> Result<Vec<AlertDefinition>, ApiError> {
    let tree = AlertTree::new(state.store.alert_nodes().await?);
    if tree.node(id).is_none() {
        return Err(not_found(id));
    }
    tree.children(id)
        .into_iter()
        .map(|c| tree.effective(c).map_err(inheritance_error))
        .collect()
}

/// Merged views of all definitions, optionally of one status.
pub async fn list(
    state: &AppState,
    status: Option<DefinitionStatus>,
) -> Result<Vec<AlertDefinition>, ApiError> {
    let tree = AlertTree::new(state.store.alert_nodes().await?);
    Ok(tree
        .all_effective()
        .into_iter()
        .filter(|a| status.is_none_or(|s| a.status == s))
        .collect())
}

/// What the scheduler runs: merged, ACTIVE, non-template definitions.
pub async fn all_active(state: &AppState) -> Result<Vec<AlertDefinition>, ApiError> {
    Ok(list(state, Some(DefinitionStatus::Active))
        .await?
        .into_iter()
        .filter(|a| !a.template)
        .collect())
}
