//! Columns to values and back.
//!
//! Times are INTEGER microseconds since the epoch, JSON is TEXT and UUIDs
//! are hyphenated TEXT; these helpers keep those choices in one place.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;
use zmon_core::alert::AlertDefinition;
use zmon_core::check::{CheckDefinition, DefinitionStatus};
use zmon_core::dashboard::{Dashboard, EditOption, ViewMode};
use zmon_core::downtime::{Downtime, DowntimeGroup};
use zmon_core::time::epoch_millis;
use zmon_core::{Entity, Role};

use super::errors::corrupt;
use crate::{CheckRecord, OnetimeToken, StoreResult, StoredEntity, TokenRecord, UserRecord};

pub(super) const ENTITY_COLUMNS: &str =
    "data, created, created_by, last_modified, last_modified_by";
pub(super) const CHECK_COLUMNS: &str = "id, name, description, technical_details, \
    potential_analysis, potential_impact, potential_solution, owning_team, entities, \
    \"interval\", command, status, source_url, last_modified, last_modified_by, created_by, \
    entities_exclude";
pub(super) const ALERT_COLUMNS: &str = "id, parent_id, template, team, responsible_team, status, \
    name, description, entities, entities_exclude, condition, notifications, \
    check_definition_id, priority, period, parameters, tags, last_modified, last_modified_by";
pub(super) const DASHBOARD_COLUMNS: &str = "id, name, view_mode, edit_option, alert_teams, tags, \
    shared_teams, widget_configuration, created_by, last_modified, last_modified_by";
pub(super) const ONETIME_COLUMNS: &str =
    "token, created_by, created, expires, bound_ip, bound_at, bound_expires";
pub(super) const USER_COLUMNS: &str = "name, password_hash, role, teams, created_at";
pub(super) const TOKEN_COLUMNS: &str =
    "id, user_name, label, created_at, expires_at, revoked_at, last_used_at";
pub(super) const DOWNTIME_SELECT: &str = "SELECT d.id, d.alert_definition_id, d.entity_id, \
    d.group_id, g.comment, g.start_time, g.end_time, g.created_by \
    FROM downtimes d JOIN downtime_groups g ON g.id = d.group_id";

/// Microseconds, the precision PostgreSQL keeps; finer digits are cut
/// off as sqlx cuts them off for PostgreSQL.
pub(super) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub(super) fn time_from_micros(value: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_micros(value).ok_or_else(|| corrupt("timestamp", value))
}

pub(super) fn time(row: &SqliteRow, column: &str) -> StoreResult<DateTime<Utc>> {
    time_from_micros(row.try_get(column)?)
}

pub(super) fn opt_time(row: &SqliteRow, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
    let value: Option<i64> = row.try_get(column)?;
    value.map(time_from_micros).transpose()
}

pub(super) fn to_json<T: Serialize + ?Sized>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| corrupt("serialize", e))
}

pub(super) fn opt_to_json<T: Serialize>(value: &Option<T>) -> StoreResult<Option<String>> {
    value.as_ref().map(to_json).transpose()
}

pub(super) fn json<T: DeserializeOwned>(row: &SqliteRow, column: &str) -> StoreResult<T> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| corrupt(column, e))
}

pub(super) fn opt_json<T: DeserializeOwned>(
    row: &SqliteRow,
    column: &str,
) -> StoreResult<Option<T>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| corrupt(column, e)))
        .transpose()
}

pub(super) fn uuid(row: &SqliteRow, column: &str) -> StoreResult<Uuid> {
    let text: String = row.try_get(column)?;
    Uuid::parse_str(&text).map_err(|e| corrupt(column, e))
}

/// The text form every UUID column holds, so that equality and ordering
/// work on the stored text.
pub(super) fn uuid_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

pub(super) fn entity_from_row(row: &SqliteRow) -> StoreResult<StoredEntity> {
    let data: serde_json::Map<String, Value> = json(row, "data")?;
    Ok(StoredEntity {
        entity: Entity::from_stored(data),
        created: time(row, "created")?,
        created_by: row.try_get("created_by")?,
        last_modified: time(row, "last_modified")?,
        last_modified_by: row.try_get("last_modified_by")?,
    })
}

fn status_from_row(row: &SqliteRow) -> StoreResult<DefinitionStatus> {
    let status: String = row.try_get("status")?;
    DefinitionStatus::parse(&status).ok_or_else(|| corrupt("status", status))
}

pub(super) fn check_from_row(row: &SqliteRow) -> StoreResult<CheckRecord> {
    Ok(CheckRecord {
        check: CheckDefinition {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            technical_details: row.try_get("technical_details")?,
            potential_analysis: row.try_get("potential_analysis")?,
            potential_impact: row.try_get("potential_impact")?,
            potential_solution: row.try_get("potential_solution")?,
            owning_team: row.try_get("owning_team")?,
            entities: json(row, "entities")?,
            entities_exclude: json(row, "entities_exclude")?,
            interval: row.try_get("interval")?,
            command: row.try_get("command")?,
            status: status_from_row(row)?,
            source_url: row.try_get("source_url")?,
            last_modified_by: row.try_get("last_modified_by")?,
            last_modified: epoch_millis(time(row, "last_modified")?),
        },
        created_by: row.try_get("created_by")?,
    })
}

pub(super) fn alert_from_row(row: &SqliteRow) -> StoreResult<AlertDefinition> {
    let priority: Option<i64> = row.try_get("priority")?;
    let priority = priority
        .map(|p| i32::try_from(p).map_err(|e| corrupt("priority", e)))
        .transpose()?;
    Ok(AlertDefinition {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        team: row.try_get("team")?,
        responsible_team: row.try_get("responsible_team")?,
        entities: opt_json(row, "entities")?,
        entities_exclude: opt_json(row, "entities_exclude")?,
        condition: row.try_get("condition")?,
        notifications: opt_json(row, "notifications")?,
        check_definition_id: row.try_get("check_definition_id")?,
        status: status_from_row(row)?,
        priority,
        last_modified: epoch_millis(time(row, "last_modified")?),
        last_modified_by: row.try_get("last_modified_by")?,
        period: row.try_get("period")?,
        template: row.try_get("template")?,
        parent_id: row.try_get("parent_id")?,
        parameters: opt_json(row, "parameters")?,
        tags: opt_json(row, "tags")?,
    })
}

pub(super) fn dashboard_from_row(row: &SqliteRow) -> StoreResult<Dashboard> {
    let view_mode: String = row.try_get("view_mode")?;
    let edit_option: String = row.try_get("edit_option")?;
    Ok(Dashboard {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_by: row.try_get("created_by")?,
        last_modified: epoch_millis(time(row, "last_modified")?),
        last_modified_by: row.try_get("last_modified_by")?,
        view_mode: ViewMode::parse(&view_mode).ok_or_else(|| corrupt("view_mode", &view_mode))?,
        edit_option: EditOption::parse(&edit_option)
            .ok_or_else(|| corrupt("edit_option", &edit_option))?,
        alert_teams: json(row, "alert_teams")?,
        tags: json(row, "tags")?,
        shared_teams: json(row, "shared_teams")?,
        widget_configuration: json(row, "widget_configuration")?,
    })
}

pub(super) fn onetime_from_row(row: &SqliteRow) -> StoreResult<OnetimeToken> {
    Ok(OnetimeToken {
        token: row.try_get("token")?,
        created_by: row.try_get("created_by")?,
        created: time(row, "created")?,
        expires: time(row, "expires")?,
        bound_ip: row.try_get("bound_ip")?,
        bound_at: opt_time(row, "bound_at")?,
        bound_expires: opt_time(row, "bound_expires")?,
    })
}

pub(super) fn user_from_row(row: &SqliteRow) -> StoreResult<UserRecord> {
    let role: String = row.try_get("role")?;
    Ok(UserRecord {
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        role: Role::from_str(&role).map_err(|e| corrupt("role", e))?,
        teams: json(row, "teams")?,
        created_at: time(row, "created_at")?,
    })
}

/// `created_column` names the token's creation time, which a join with
/// `users` has to rename.
pub(super) fn token_from_row(row: &SqliteRow, created_column: &str) -> StoreResult<TokenRecord> {
    Ok(TokenRecord {
        id: uuid(row, "id")?,
        user_name: row.try_get("user_name")?,
        label: row.try_get("label")?,
        created_at: time(row, created_column)?,
        expires_at: opt_time(row, "expires_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
        last_used_at: opt_time(row, "last_used_at")?,
    })
}

pub(super) fn downtime_from_row(row: &SqliteRow) -> StoreResult<Downtime> {
    Ok(Downtime {
        id: uuid(row, "id")?,
        alert_id: row.try_get("alert_definition_id")?,
        entity: row.try_get("entity_id")?,
        group_id: uuid(row, "group_id")?,
        comment: row.try_get("comment")?,
        start_time: row.try_get("start_time")?,
        end_time: row.try_get("end_time")?,
        created_by: row.try_get("created_by")?,
    })
}

/// A group's answer lists what it covers, not what was asked for.
pub(super) fn group_from_row(
    row: &SqliteRow,
    downtimes: &[Downtime],
) -> StoreResult<DowntimeGroup> {
    let id = uuid(row, "id")?;
    let mine = downtimes.iter().filter(|d| d.group_id == id);
    let entities: BTreeSet<&str> = mine.clone().map(|d| d.entity.as_str()).collect();
    let alerts: BTreeSet<i64> = mine.map(|d| d.alert_id).collect();
    Ok(DowntimeGroup {
        id,
        comment: Some(row.try_get("comment")?),
        start_time: Some(row.try_get("start_time")?),
        end_time: Some(row.try_get("end_time")?),
        created_by: Some(row.try_get("created_by")?),
        entities: entities.into_iter().map(str::to_string).collect(),
        alert_definitions: alerts.into_iter().collect(),
    })
}
