//! Write transactions.
//!
//! The whole database is write-locked for the life of a transaction
//! (`BEGIN IMMEDIATE` plus the in-process writer lock), so the `lock_*`
//! methods are plain reads: nobody else can change what they return.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Sqlite;
use uuid::Uuid;
use zmon_core::Entity;
use zmon_core::alert::{AlertDefinition, AlertNodeDraft};
use zmon_core::check::{CheckDefinition, NewCheckDefinition};
use zmon_core::dashboard::{Dashboard, DashboardDraft};
use zmon_core::downtime::{Downtime, DowntimeGroup, DowntimeSpec};
use zmon_core::monitor::{Monitor, MonitorDraft};

use super::WriteTx;
use super::changes::Changes;
use super::errors::{classify, corrupt};
use super::rows::*;
use crate::{AuditEntry, CheckRecord, StoreResult, StoreTx, StoredEntity};

pub(super) struct SqliteTx {
    write: WriteTx,
    changes: Arc<Changes>,
    /// Whether entities, definitions or downtimes changed, which listeners
    /// hear about after the commit.
    changed: bool,
}

impl SqliteTx {
    pub(super) fn new(write: WriteTx, changes: Arc<Changes>) -> Self {
        Self {
            write,
            changes,
            changed: false,
        }
    }

    fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.write.tx
    }
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>;

/// Binds a check's columns, `name` to `source_url`, in table order.
fn bind_check_columns<'q>(
    query: SqliteQuery<'q>,
    check: &'q NewCheckDefinition,
) -> StoreResult<SqliteQuery<'q>> {
    Ok(query
        .bind(&check.name)
        .bind(&check.description)
        .bind(&check.technical_details)
        .bind(&check.potential_analysis)
        .bind(&check.potential_impact)
        .bind(&check.potential_solution)
        .bind(&check.owning_team)
        .bind(to_json(&check.entities)?)
        .bind(check.interval)
        .bind(&check.command)
        .bind(check.status.as_str())
        .bind(&check.source_url))
}

/// Binds an alert node's columns, `parent_id` to `tags`, in table order.
fn bind_alert_columns<'q>(
    query: SqliteQuery<'q>,
    node: &'q AlertDefinition,
) -> StoreResult<SqliteQuery<'q>> {
    Ok(query
        .bind(node.parent_id)
        .bind(node.template)
        .bind(&node.team)
        .bind(&node.responsible_team)
        .bind(node.status.as_str())
        .bind(&node.name)
        .bind(&node.description)
        .bind(opt_to_json(&node.entities)?)
        .bind(opt_to_json(&node.entities_exclude)?)
        .bind(&node.condition)
        .bind(opt_to_json(&node.notifications)?)
        .bind(node.check_definition_id)
        .bind(node.priority.map(i64::from))
        .bind(&node.period)
        .bind(opt_to_json(&node.parameters)?)
        .bind(opt_to_json(&node.tags)?))
}

/// Binds a dashboard's columns, `name` to `widget_configuration`.
fn bind_dashboard_columns<'q>(
    query: SqliteQuery<'q>,
    draft: &'q DashboardDraft,
) -> StoreResult<SqliteQuery<'q>> {
    Ok(query
        .bind(&draft.name)
        .bind(draft.view_mode.as_str())
        .bind(draft.edit_option.as_str())
        .bind(to_json(&draft.alert_teams)?)
        .bind(to_json(&draft.tags)?)
        .bind(to_json(&draft.shared_teams)?)
        .bind(to_json(&draft.widget_configuration)?))
}

#[async_trait]
impl StoreTx for SqliteTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        let Self {
            write,
            changes,
            changed,
        } = *self;
        write.tx.commit().await.map_err(classify)?;
        if changed {
            changes.notify();
        }
        Ok(())
    }

    async fn lock_entity(&mut self, id: &str) -> StoreResult<Option<StoredEntity>> {
        let sql = format!("SELECT {ENTITY_COLUMNS} FROM entities WHERE id = ?1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.conn())
            .await
            .map_err(classify)?;
        row.as_ref().map(entity_from_row).transpose()
    }

    async fn put_entity(
        &mut self,
        entity: &Entity,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.changed = true;
        sqlx::query(
            "INSERT INTO entities (id, type, data, created, created_by, last_modified, \
               last_modified_by) VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?5) \
             ON CONFLICT (id) DO UPDATE SET type = excluded.type, data = excluded.data, \
               last_modified = excluded.last_modified, last_modified_by = excluded.last_modified_by",
        )
        .bind(entity.id())
        .bind(entity.entity_type())
        .bind(to_json(entity.document())?)
        .bind(micros(at))
        .bind(actor)
        .execute(self.conn())
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn delete_entity(&mut self, id: &str) -> StoreResult<bool> {
        self.changed = true;
        let done = sqlx::query("DELETE FROM entities WHERE id = ?1")
            .bind(id)
            .execute(self.conn())
            .await
            .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    async fn lock_check(&mut self, id: i64) -> StoreResult<Option<CheckRecord>> {
        let sql = format!("SELECT {CHECK_COLUMNS} FROM check_definitions WHERE id = ?1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.conn())
            .await
            .map_err(classify)?;
        row.as_ref().map(check_from_row).transpose()
    }

    async fn lock_check_by_natural_key(
        &mut self,
        source_url: Option<&str>,
        name: &str,
        owning_team: &str,
    ) -> StoreResult<Option<CheckRecord>> {
        // The same lower() expressions as the unique indexes, so the
        // lookup finds exactly what the index would refuse.
        let row = if let Some(url) = source_url {
            let sql = format!(
                "SELECT {CHECK_COLUMNS} FROM check_definitions \
                 WHERE source_url IS NOT NULL AND lower(source_url) = lower(?1)"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(url)
                .fetch_optional(self.conn())
                .await
                .map_err(classify)?
        } else {
            let sql = format!(
                "SELECT {CHECK_COLUMNS} FROM check_definitions \
                 WHERE lower(name) = lower(?1) AND lower(owning_team) = lower(?2)"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(name)
                .bind(owning_team)
                .fetch_optional(self.conn())
                .await
                .map_err(classify)?
        };
        row.as_ref().map(check_from_row).transpose()
    }

    async fn insert_check(
        &mut self,
        check: &NewCheckDefinition,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<CheckDefinition> {
        self.changed = true;
        // A NULL id takes the next AUTOINCREMENT value; an explicit one (an
        // import from ZMON) moves the sequence past itself, so later ids
        // never collide with it.
        let sql = format!(
            "INSERT INTO check_definitions (id, name, description, technical_details, \
               potential_analysis, potential_impact, potential_solution, owning_team, entities, \
               \"interval\", command, status, source_url, created, created_by, last_modified, \
               last_modified_by, entities_exclude) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?14, ?15, ?16) \
             RETURNING {CHECK_COLUMNS}"
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(check.id);
        let row = bind_check_columns(query, check)?
            .bind(micros(at))
            .bind(actor)
            .bind(to_json(&check.entities_exclude)?)
            .fetch_one(self.conn())
            .await
            .map_err(classify)?;
        Ok(check_from_row(&row)?.check)
    }

    async fn update_check(
        &mut self,
        id: i64,
        check: &NewCheckDefinition,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<CheckDefinition> {
        self.changed = true;
        let sql = format!(
            "UPDATE check_definitions SET name = ?2, description = ?3, technical_details = ?4, \
               potential_analysis = ?5, potential_impact = ?6, potential_solution = ?7, \
               owning_team = ?8, entities = ?9, \"interval\" = ?10, command = ?11, status = ?12, \
               source_url = ?13, last_modified = ?14, last_modified_by = ?15, \
               entities_exclude = ?16 \
             WHERE id = ?1 RETURNING {CHECK_COLUMNS}"
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
        let row = bind_check_columns(query, check)?
            .bind(micros(at))
            .bind(actor)
            .bind(to_json(&check.entities_exclude)?)
            .fetch_one(self.conn())
            .await
            .map_err(classify)?;
        Ok(check_from_row(&row)?.check)
    }

    async fn delete_check(&mut self, id: i64) -> StoreResult<bool> {
        self.changed = true;
        let done = sqlx::query("DELETE FROM check_definitions WHERE id = ?1")
            .bind(id)
            .execute(self.conn())
            .await
            .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    async fn lock_alert_tree(&mut self) -> StoreResult<Vec<AlertDefinition>> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alert_definitions ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.conn())
            .await
            .map_err(classify)?;
        rows.iter().map(alert_from_row).collect()
    }

    async fn insert_alert(
        &mut self,
        draft: &AlertNodeDraft,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<AlertDefinition> {
        self.changed = true;
        let sql = format!(
            "INSERT INTO alert_definitions (parent_id, template, team, responsible_team, status, \
               name, description, entities, entities_exclude, condition, notifications, \
               check_definition_id, priority, period, parameters, tags, created, created_by, \
               last_modified, last_modified_by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
               ?17, ?18, ?17, ?18) RETURNING {ALERT_COLUMNS}"
        );
        // The id and audit fields are the database's to fill in.
        let node = draft.clone().into_definition(0, 0, actor);
        let row = bind_alert_columns(sqlx::query(sqlx::AssertSqlSafe(sql)), &node)?
            .bind(micros(at))
            .bind(actor)
            .fetch_one(self.conn())
            .await
            .map_err(classify)?;
        alert_from_row(&row)
    }

    async fn update_alert(&mut self, node: &AlertDefinition) -> StoreResult<()> {
        self.changed = true;
        let at = DateTime::<Utc>::from_timestamp_millis(node.last_modified)
            .ok_or_else(|| corrupt("last_modified", node.last_modified))?;
        let query = sqlx::query(
            "UPDATE alert_definitions SET parent_id = ?2, template = ?3, team = ?4, \
               responsible_team = ?5, status = ?6, name = ?7, description = ?8, entities = ?9, \
               entities_exclude = ?10, condition = ?11, notifications = ?12, \
               check_definition_id = ?13, priority = ?14, period = ?15, parameters = ?16, \
               tags = ?17, last_modified = ?18, last_modified_by = ?19 \
             WHERE id = ?1",
        )
        .bind(node.id);
        bind_alert_columns(query, node)?
            .bind(micros(at))
            .bind(&node.last_modified_by)
            .execute(self.conn())
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn delete_alert(&mut self, id: i64) -> StoreResult<bool> {
        self.changed = true;
        let done = sqlx::query("DELETE FROM alert_definitions WHERE id = ?1")
            .bind(id)
            .execute(self.conn())
            .await
            .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    async fn alerts_using_check(&mut self, check_id: i64) -> StoreResult<Vec<i64>> {
        sqlx::query_scalar(
            "SELECT id FROM alert_definitions WHERE check_definition_id = ?1 ORDER BY id",
        )
        .bind(check_id)
        .fetch_all(self.conn())
        .await
        .map_err(classify)
    }

    async fn insert_downtime_group(
        &mut self,
        group: &DowntimeGroup,
        spec: &DowntimeSpec,
        downtimes: &[Downtime],
    ) -> StoreResult<()> {
        self.changed = true;
        let group_id = uuid_text(group.id);
        sqlx::query(
            "INSERT INTO downtime_groups (id, comment, start_time, end_time, created_by, \
               created_at, requested_entities, requested_alert_definitions) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(&group_id)
        .bind(&spec.comment)
        .bind(spec.start_time)
        .bind(spec.end_time)
        .bind(&group.created_by)
        .bind(micros(Utc::now()))
        .bind(to_json(&spec.entities)?)
        .bind(opt_to_json(&spec.alert_definitions)?)
        .execute(self.conn())
        .await
        .map_err(classify)?;
        for downtime in downtimes {
            sqlx::query(
                "INSERT INTO downtimes (id, group_id, alert_definition_id, entity_id) \
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .bind(uuid_text(downtime.id))
            .bind(&group_id)
            .bind(downtime.alert_id)
            .bind(&downtime.entity)
            .execute(self.conn())
            .await
            .map_err(classify)?;
        }
        Ok(())
    }

    async fn lock_downtime_group(
        &mut self,
        id: Uuid,
    ) -> StoreResult<Option<(DowntimeGroup, Vec<Downtime>)>> {
        let id = uuid_text(id);
        let row = sqlx::query(
            "SELECT id, comment, start_time, end_time, created_by FROM downtime_groups \
             WHERE id = ?1 AND deleted_at IS NULL",
        )
        .bind(&id)
        .fetch_optional(self.conn())
        .await
        .map_err(classify)?;
        let Some(row) = row else { return Ok(None) };
        let sql = format!(
            "{DOWNTIME_SELECT} WHERE d.group_id = ?1 ORDER BY d.alert_definition_id, d.entity_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&id)
            .fetch_all(self.conn())
            .await
            .map_err(classify)?;
        let downtimes = rows
            .iter()
            .map(downtime_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some((group_from_row(&row, &downtimes)?, downtimes)))
    }

    async fn mark_downtime_group_deleted(
        &mut self,
        id: Uuid,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.changed = true;
        sqlx::query("UPDATE downtime_groups SET deleted_at = ?2, deleted_by = ?3 WHERE id = ?1")
            .bind(uuid_text(id))
            .bind(micros(at))
            .bind(actor)
            .execute(self.conn())
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn lock_dashboard(&mut self, id: i64) -> StoreResult<Option<Dashboard>> {
        let sql = format!("SELECT {DASHBOARD_COLUMNS} FROM dashboards WHERE id = ?1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.conn())
            .await
            .map_err(classify)?;
        row.as_ref().map(dashboard_from_row).transpose()
    }

    async fn insert_dashboard(
        &mut self,
        draft: &DashboardDraft,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Dashboard> {
        let sql = format!(
            "INSERT INTO dashboards (name, view_mode, edit_option, alert_teams, tags, \
               shared_teams, widget_configuration, created, created_by, last_modified, \
               last_modified_by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?8, ?9) RETURNING {DASHBOARD_COLUMNS}"
        );
        let row = bind_dashboard_columns(sqlx::query(sqlx::AssertSqlSafe(sql)), draft)?
            .bind(micros(at))
            .bind(actor)
            .fetch_one(self.conn())
            .await
            .map_err(classify)?;
        dashboard_from_row(&row)
    }

    async fn update_dashboard(
        &mut self,
        id: i64,
        draft: &DashboardDraft,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Dashboard> {
        let sql = format!(
            "UPDATE dashboards SET name = ?2, view_mode = ?3, edit_option = ?4, \
               alert_teams = ?5, tags = ?6, shared_teams = ?7, widget_configuration = ?8, \
               last_modified = ?9, last_modified_by = ?10 WHERE id = ?1 \
             RETURNING {DASHBOARD_COLUMNS}"
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
        let row = bind_dashboard_columns(query, draft)?
            .bind(micros(at))
            .bind(actor)
            .fetch_one(self.conn())
            .await
            .map_err(classify)?;
        dashboard_from_row(&row)
    }

    async fn insert_monitor(
        &mut self,
        draft: &MonitorDraft,
        team: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Monitor> {
        super::monitors::insert(self.conn(), draft, team, actor, at).await
    }

    async fn lock_monitor(&mut self, id: i64) -> StoreResult<Option<Monitor>> {
        super::monitors::one(self.conn(), id).await
    }

    async fn update_monitor(
        &mut self,
        id: i64,
        draft: &MonitorDraft,
        team: &str,
        check_definition_id: i64,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Monitor> {
        super::monitors::update(self.conn(), id, draft, team, check_definition_id, actor, at).await
    }

    async fn delete_monitor(&mut self, id: i64) -> StoreResult<bool> {
        super::monitors::delete(self.conn(), id).await
    }

    async fn append_audit(&mut self, entry: &AuditEntry) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, kind, object_id, action, before, after) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(micros(entry.at))
        .bind(&entry.actor)
        .bind(entry.kind.as_str())
        .bind(&entry.object_id)
        .bind(entry.action.as_str())
        .bind(opt_to_json(&entry.before)?)
        .bind(opt_to_json(&entry.after)?)
        .execute(self.conn())
        .await
        .map_err(classify)?;
        Ok(())
    }
}
