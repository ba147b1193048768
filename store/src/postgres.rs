//! PostgreSQL implementation of the storage seam.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;
use sqlx::{Postgres, QueryBuilder, Row, Transaction};
use uuid::Uuid;
use zmon_core::alert::{AlertDefinition, AlertNodeDraft};
use zmon_core::check::{CheckDefinition, DefinitionStatus, NewCheckDefinition};
use zmon_core::dashboard::{Dashboard, DashboardDraft, EditOption, ViewMode};
use zmon_core::downtime::{Downtime, DowntimeGroup, DowntimeSpec};
use zmon_core::event::{AlertEvent, AlertEventKind};
use zmon_core::filter::matches_any;
use zmon_core::monitor::{Monitor, MonitorDraft, MonitorMinute};
use zmon_core::time::epoch_millis;
use zmon_core::{Entity, Role};

use super::*;

mod events;
mod monitors;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

const ENTITY_COLUMNS: &str = "data, created, created_by, last_modified, last_modified_by";
const CHECK_COLUMNS: &str = "id, name, description, technical_details, potential_analysis, \
    potential_impact, potential_solution, owning_team, entities, \"interval\", command, status, \
    source_url, last_modified, last_modified_by, created_by, entities_exclude";
const ALERT_COLUMNS: &str = "id, parent_id, template, team, responsible_team, status, name, \
    description, entities, entities_exclude, condition, notifications, check_definition_id, \
    priority, period, parameters, tags, last_modified, last_modified_by";
const DASHBOARD_COLUMNS: &str = "id, name, view_mode, edit_option, alert_teams, tags, \
    shared_teams, widget_configuration, created_by, last_modified, last_modified_by";
const ONETIME_COLUMNS: &str =
    "token, created_by, created, expires, bound_ip, bound_at, bound_expires";
const USER_COLUMNS: &str = "name, password_hash, role, teams, created_at";
const TOKEN_COLUMNS: &str =
    "id, user_name, label, created_at, expires_at, revoked_at, last_used_at";

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// The fleet ids already assigned to `entity_ids`, in id order.
    async fn known_fleet_server_ids(
        &self,
        entity_ids: &[String],
    ) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT entity_id, id FROM fleet_servers WHERE entity_id = ANY($1) ORDER BY id",
        )
        .bind(entity_ids)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter()
            .map(|row| Ok((row.try_get("entity_id")?, row.try_get("id")?)))
            .collect()
    }

    /// Connects, creating the database first when it does not exist yet, so
    /// that a first start needs no manual `createdb`.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("invalid database URL: {e}")))?;
        if !Postgres::database_exists(url).await.map_err(unavailable)? {
            tracing::info!(database = options.get_database(), "creating database");
            Postgres::create_database(url).await.map_err(unavailable)?;
        }
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        Ok(Self { pool })
    }

    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Turns constraint violations into errors the API can explain.
fn classify(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        let constraint = db.constraint().unwrap_or_default().to_string();
        match db.code().as_deref() {
            Some("23505") => {
                return StoreError::Conflict(unique_conflict_message(&constraint));
            }
            Some("23503") => {
                return StoreError::Conflict(format!(
                    "the change conflicts with a reference ({constraint})"
                ));
            }
            Some("23514") => {
                return StoreError::Invalid(format!("check constraint violated ({constraint})"));
            }
            _ => {}
        }
    }
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => unavailable(e),
        other => StoreError::Database(other),
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn entity_from_row(row: &PgRow) -> StoreResult<StoredEntity> {
    let Json(data): Json<serde_json::Map<String, Value>> = row.try_get("data")?;
    Ok(StoredEntity {
        entity: Entity::from_stored(data),
        created: row.try_get("created")?,
        created_by: row.try_get("created_by")?,
        last_modified: row.try_get("last_modified")?,
        last_modified_by: row.try_get("last_modified_by")?,
    })
}

fn status_from_row(row: &PgRow) -> StoreResult<DefinitionStatus> {
    let status: String = row.try_get("status")?;
    DefinitionStatus::parse(&status).ok_or_else(|| corrupt("status", status))
}

fn check_from_row(row: &PgRow) -> StoreResult<CheckRecord> {
    let Json(entities) = row.try_get("entities")?;
    let last_modified: DateTime<Utc> = row.try_get("last_modified")?;
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
            entities,
            entities_exclude: json_column(row, "entities_exclude")?.unwrap_or_default(),
            interval: row.try_get("interval")?,
            command: row.try_get("command")?,
            status: status_from_row(row)?,
            source_url: row.try_get("source_url")?,
            last_modified_by: row.try_get("last_modified_by")?,
            last_modified: epoch_millis(last_modified),
        },
        created_by: row.try_get("created_by")?,
    })
}

fn json_column<T: serde::de::DeserializeOwned>(
    row: &PgRow,
    column: &str,
) -> StoreResult<Option<T>> {
    let value: Option<Json<T>> = row.try_get(column)?;
    Ok(value.map(|Json(v)| v))
}

fn alert_from_row(row: &PgRow) -> StoreResult<AlertDefinition> {
    let last_modified: DateTime<Utc> = row.try_get("last_modified")?;
    let priority: Option<i16> = row.try_get("priority")?;
    Ok(AlertDefinition {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        team: row.try_get("team")?,
        responsible_team: row.try_get("responsible_team")?,
        entities: json_column(row, "entities")?,
        entities_exclude: json_column(row, "entities_exclude")?,
        condition: row.try_get("condition")?,
        notifications: json_column(row, "notifications")?,
        check_definition_id: row.try_get("check_definition_id")?,
        status: status_from_row(row)?,
        priority: priority.map(i32::from),
        last_modified: epoch_millis(last_modified),
        last_modified_by: row.try_get("last_modified_by")?,
        period: row.try_get("period")?,
        template: row.try_get("template")?,
        parent_id: row.try_get("parent_id")?,
        parameters: json_column(row, "parameters")?,
        tags: json_column(row, "tags")?,
    })
}

fn dashboard_from_row(row: &PgRow) -> StoreResult<Dashboard> {
    let view_mode: String = row.try_get("view_mode")?;
    let edit_option: String = row.try_get("edit_option")?;
    let last_modified: DateTime<Utc> = row.try_get("last_modified")?;
    let Json(alert_teams) = row.try_get("alert_teams")?;
    let Json(tags) = row.try_get("tags")?;
    let Json(shared_teams) = row.try_get("shared_teams")?;
    Ok(Dashboard {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_by: row.try_get("created_by")?,
        last_modified: epoch_millis(last_modified),
        last_modified_by: row.try_get("last_modified_by")?,
        view_mode: ViewMode::parse(&view_mode).ok_or_else(|| corrupt("view_mode", &view_mode))?,
        edit_option: EditOption::parse(&edit_option)
            .ok_or_else(|| corrupt("edit_option", &edit_option))?,
        alert_teams,
        tags,
        shared_teams,
        widget_configuration: row.try_get("widget_configuration")?,
    })
}

fn onetime_from_row(row: &PgRow) -> StoreResult<OnetimeToken> {
    Ok(OnetimeToken {
        token: row.try_get("token")?,
        created_by: row.try_get("created_by")?,
        created: row.try_get("created")?,
        expires: row.try_get("expires")?,
        bound_ip: row.try_get("bound_ip")?,
        bound_at: row.try_get("bound_at")?,
        bound_expires: row.try_get("bound_expires")?,
    })
}

fn user_from_row(row: &PgRow) -> StoreResult<UserRecord> {
    let role: String = row.try_get("role")?;
    Ok(UserRecord {
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        role: Role::from_str(&role).map_err(|e| corrupt("role", e))?,
        teams: row.try_get("teams")?,
        created_at: row.try_get("created_at")?,
    })
}

/// `created_column` names the token's creation time, which a join with
/// `users` has to rename.
fn token_from_row(row: &PgRow, created_column: &str) -> StoreResult<TokenRecord> {
    Ok(TokenRecord {
        id: row.try_get("id")?,
        user_name: row.try_get("user_name")?,
        label: row.try_get("label")?,
        created_at: row.try_get(created_column)?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

fn downtime_from_row(row: &PgRow) -> StoreResult<Downtime> {
    Ok(Downtime {
        id: row.try_get("id")?,
        alert_id: row.try_get("alert_definition_id")?,
        entity: row.try_get("entity_id")?,
        group_id: row.try_get("group_id")?,
        comment: row.try_get("comment")?,
        start_time: row.try_get("start_time")?,
        end_time: row.try_get("end_time")?,
        created_by: row.try_get("created_by")?,
    })
}

/// A group's answer lists what it covers, not what was asked for.
fn group_from_row(row: &PgRow, downtimes: &[Downtime]) -> StoreResult<DowntimeGroup> {
    let id: Uuid = row.try_get("id")?;
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

const DOWNTIME_SELECT: &str = "SELECT d.id, d.alert_definition_id, d.entity_id, d.group_id, \
    g.comment, g.start_time, g.end_time, g.created_by \
    FROM downtimes d JOIN downtime_groups g ON g.id = d.group_id";

const CHANGE_CHANNEL: &str = "zmon_changes";

struct PgChangeListener {
    listener: sqlx::postgres::PgListener,
}

#[async_trait]
impl ChangeListener for PgChangeListener {
    async fn changed(&mut self) -> StoreResult<()> {
        self.listener.recv().await.map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn listen_changes(&self) -> StoreResult<Box<dyn ChangeListener>> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool)
            .await
            .map_err(unavailable)?;
        listener.listen(CHANGE_CHANNEL).await.map_err(unavailable)?;
        Ok(Box::new(PgChangeListener { listener }))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
        let tx = self.pool.begin().await.map_err(classify)?;
        Ok(Box::new(PostgresTx { tx }))
    }

    async fn entity(&self, id: &str) -> StoreResult<Option<StoredEntity>> {
        let sql = format!("SELECT {ENTITY_COLUMNS} FROM entities WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        row.as_ref().map(entity_from_row).transpose()
    }

    async fn entities(&self, query: &EntityQuery) -> StoreResult<Vec<StoredEntity>> {
        // SQL narrows the candidates with indexable conditions that every
        // match must satisfy (the filter's keys exist; string `id`/`type`
        // are equal); the exact rule runs in Rust, the same everywhere.
        let mut sql = QueryBuilder::<Postgres>::new("SELECT ");
        sql.push(ENTITY_COLUMNS).push(" FROM entities WHERE TRUE");
        if let Some(filters) = &query.filters {
            if filters.is_empty() {
                return Ok(Vec::new());
            }
            sql.push(" AND (FALSE");
            for filter in filters {
                let keys: Vec<String> = filter.keys().map(str::to_string).collect();
                sql.push(" OR (data ?& ").push_bind(keys);
                for column in ["id", "type"] {
                    if let Some(Value::String(v)) = filter.get(column) {
                        sql.push(format!(" AND {column} = ")).push_bind(v.clone());
                    }
                }
                sql.push(")");
            }
            sql.push(")");
        }
        if let Some(key) = &query.exclude_key {
            sql.push(" AND NOT (data ? ")
                .push_bind(key.clone())
                .push(")");
        }
        sql.push(" ORDER BY id");
        let rows = sql.build().fetch_all(&self.pool).await.map_err(classify)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let stored = entity_from_row(row)?;
            let keep = query
                .filters
                .as_deref()
                .is_none_or(|f| matches_any(f, stored.entity.document()));
            if keep {
                out.push(stored);
            }
        }
        Ok(out)
    }

    async fn entities_by_ids(&self, ids: &[String]) -> StoreResult<Vec<StoredEntity>> {
        let sql = format!("SELECT {ENTITY_COLUMNS} FROM entities WHERE id = ANY($1) ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ids)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter().map(entity_from_row).collect()
    }

    async fn check(&self, id: i64) -> StoreResult<Option<CheckDefinition>> {
        let sql = format!("SELECT {CHECK_COLUMNS} FROM check_definitions WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        Ok(row
            .as_ref()
            .map(check_from_row)
            .transpose()?
            .map(|r| r.check))
    }

    async fn checks(&self, status: Option<DefinitionStatus>) -> StoreResult<Vec<CheckDefinition>> {
        let sql = format!(
            "SELECT {CHECK_COLUMNS} FROM check_definitions \
             WHERE $1::text IS NULL OR status = $1 ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(status.map(DefinitionStatus::as_str))
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|r| check_from_row(r).map(|c| c.check))
            .collect()
    }

    async fn alert_nodes(&self) -> StoreResult<Vec<AlertDefinition>> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alert_definitions ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter().map(alert_from_row).collect()
    }

    async fn alert_lineage(&self, id: i64) -> StoreResult<Vec<AlertDefinition>> {
        // The depth bound stops a corrupt cycle from recursing forever.
        let sql = format!(
            "WITH RECURSIVE lineage AS ( \
               SELECT a.*, 0 AS depth FROM alert_definitions a WHERE a.id = $1 \
               UNION ALL \
               SELECT p.*, l.depth + 1 FROM alert_definitions p \
               JOIN lineage l ON p.id = l.parent_id WHERE l.depth < 64 \
             ) SELECT {ALERT_COLUMNS} FROM lineage ORDER BY depth"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter().map(alert_from_row).collect()
    }

    async fn live_downtime_groups(&self, now: i64) -> StoreResult<Vec<DowntimeGroup>> {
        let groups = sqlx::query(
            "SELECT id, comment, start_time, end_time, created_by FROM downtime_groups \
             WHERE deleted_at IS NULL AND end_time > $1 ORDER BY start_time, id",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let downtimes = self.live_downtimes(now).await?;
        groups
            .iter()
            .map(|g| group_from_row(g, &downtimes))
            .collect()
    }

    async fn live_downtimes(&self, now: i64) -> StoreResult<Vec<Downtime>> {
        let sql = format!(
            "{DOWNTIME_SELECT} WHERE g.deleted_at IS NULL AND g.end_time > $1 \
             ORDER BY d.alert_definition_id, d.entity_id, d.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter().map(downtime_from_row).collect()
    }

    async fn dashboard(&self, id: i64) -> StoreResult<Option<Dashboard>> {
        let sql = format!("SELECT {DASHBOARD_COLUMNS} FROM dashboards WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        row.as_ref().map(dashboard_from_row).transpose()
    }

    async fn dashboards(&self) -> StoreResult<Vec<Dashboard>> {
        let sql = format!("SELECT {DASHBOARD_COLUMNS} FROM dashboards ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter().map(dashboard_from_row).collect()
    }

    async fn create_onetime_token(
        &self,
        token: &OnetimeToken,
        not_after: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('onetime:' || $1))")
            .bind(&token.created_by)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let recent: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM onetime_tokens WHERE created_by = $1 AND created > $2)",
        )
        .bind(&token.created_by)
        .bind(not_after)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        if recent {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO onetime_tokens (token, created_by, created, expires) VALUES ($1, $2, $3, $4)",
        )
        .bind(&token.token)
        .bind(&token.created_by)
        .bind(token.created)
        .bind(token.expires)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn onetime_tokens(&self, user: &str) -> StoreResult<Vec<OnetimeToken>> {
        let sql = format!(
            "SELECT {ONETIME_COLUMNS} FROM onetime_tokens WHERE created_by = $1 ORDER BY created"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter().map(onetime_from_row).collect()
    }

    async fn user(&self, name: &str) -> StoreResult<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn users(&self) -> StoreResult<Vec<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn create_user(&self, user: &NewUser) -> StoreResult<()> {
        sqlx::query("INSERT INTO users (name, password_hash, role, teams) VALUES ($1, $2, $3, $4)")
            .bind(&user.name)
            .bind(&user.password_hash)
            .bind(user.role.as_str())
            .bind(&user.teams)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn upsert_external_user(&self, user: &NewUser) -> StoreResult<UserRecord> {
        sqlx::query(
            "INSERT INTO users (name, password_hash, role, teams) VALUES ($1, NULL, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET role = EXCLUDED.role, teams = EXCLUDED.teams, updated_at = now() \
             WHERE users.password_hash IS NULL",
        )
            .bind(&user.name)
            .bind(user.role.as_str())
            .bind(&user.teams)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        self.user(&user.name).await?.ok_or_else(|| {
            StoreError::Conflict(format!("user {} was deleted during login", user.name))
        })
    }

    async fn put_oauth_login(
        &self,
        login: &OAuthLogin,
        expired_before: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        sqlx::query("DELETE FROM oauth_logins WHERE created_at < $1")
            .bind(expired_before)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        sqlx::query(
            "INSERT INTO oauth_logins (state, provider, pkce_verifier, nonce, next_path, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&login.state)
        .bind(&login.provider)
        .bind(&login.pkce_verifier)
        .bind(&login.nonce)
        .bind(&login.next_path)
        .bind(login.created_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn take_oauth_login(&self, state: &str) -> StoreResult<Option<OAuthLogin>> {
        let row = sqlx::query(
            "DELETE FROM oauth_logins WHERE state = $1 \
             RETURNING state, provider, pkce_verifier, nonce, next_path, created_at",
        )
        .bind(state)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        row.map(|r| {
            Ok(OAuthLogin {
                state: r.try_get("state")?,
                provider: r.try_get("provider")?,
                pkce_verifier: r.try_get("pkce_verifier")?,
                nonce: r.try_get("nonce")?,
                next_path: r.try_get("next_path")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .transpose()
    }

    async fn delete_user(&self, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM users WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_token(&self, token: &NewToken) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_tokens (id, user_name, token_hash, label, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token.id)
        .bind(&token.user_name)
        .bind(&token.token_hash)
        .bind(&token.label)
        .bind(token.expires_at)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<(TokenRecord, UserRecord)>> {
        let row = sqlx::query(
            "SELECT t.id, t.user_name, t.label, t.created_at AS token_created_at, t.expires_at, \
                    t.revoked_at, t.last_used_at, u.name, u.password_hash, u.role, u.teams, \
                    u.created_at \
             FROM api_tokens t JOIN users u ON u.name = t.user_name WHERE t.token_hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((
            token_from_row(&row, "token_created_at")?,
            user_from_row(&row)?,
        )))
    }

    async fn tokens(&self, user: Option<&str>) -> StoreResult<Vec<TokenRecord>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens \
             WHERE $1::text IS NULL OR user_name = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|r| token_from_row(r, "created_at"))
            .collect()
    }

    async fn revoke_token(&self, id: Uuid) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    async fn touch_token(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn instance_secret(&self, name: &str, candidate: &str) -> StoreResult<String> {
        sqlx::query(
            "INSERT INTO instance_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        sqlx::query_scalar("SELECT value FROM instance_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(classify)
    }

    async fn teams(&self) -> StoreResult<Vec<String>> {
        let mut rows: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT team FROM ( \
                SELECT team FROM alert_definitions \
                UNION SELECT responsible_team FROM alert_definitions \
                UNION SELECT owning_team FROM check_definitions \
                UNION SELECT unnest(teams) FROM users \
             ) t WHERE btrim(team) <> ''",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        // Sorted here, not by the database's collation, so that every
        // backend answers in the same order.
        rows.sort();
        Ok(rows)
    }

    async fn last_change(&self, kind: AuditKind) -> StoreResult<Option<DateTime<Utc>>> {
        sqlx::query_scalar("SELECT max(at) FROM audit_log WHERE kind = $1")
            .bind(kind.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(classify)
    }

    async fn change_counter(&self, kinds: &[AuditKind]) -> StoreResult<i64> {
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM audit_log WHERE kind = ANY($1)")
            .bind(kinds)
            .fetch_one(&self.pool)
            .await
            .map_err(classify)
    }

    async fn append_alert_events(&self, events: &[(String, AlertEvent)]) -> StoreResult<usize> {
        if events.is_empty() {
            return Ok(0);
        }
        let mut ids = Vec::with_capacity(events.len());
        let mut ats = Vec::with_capacity(events.len());
        let mut kinds = Vec::with_capacity(events.len());
        let mut alerts = Vec::with_capacity(events.len());
        let mut entities = Vec::with_capacity(events.len());
        let mut captures = Vec::with_capacity(events.len());
        let mut values = Vec::with_capacity(events.len());
        let mut workers = Vec::with_capacity(events.len());
        let mut data = Vec::with_capacity(events.len());
        for (id, e) in events {
            ids.push(id.clone());
            ats.push(
                DateTime::<Utc>::from_timestamp_micros((e.ts * 1e6) as i64)
                    .ok_or_else(|| corrupt("event time", e.ts))?,
            );
            kinds.push(e.kind.as_str());
            alerts.push(e.alert_id);
            entities.push(e.entity.clone());
            captures.push(Value::Object(e.captures.clone()));
            values.push(e.value.clone());
            workers.push(e.worker.clone());
            data.push(e.data.clone());
        }
        let done = sqlx::query(
            "INSERT INTO alert_events (stream_id, at, kind, alert_id, entity, captures, value, worker, \
               data) \
             SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::bigint[], $5::text[], \
               $6::jsonb[], $7::jsonb[], $8::text[], $9::jsonb[]) \
             ON CONFLICT (stream_id) DO NOTHING",
        )
        .bind(ids)
        .bind(ats)
        .bind(kinds)
        .bind(alerts)
        .bind(entities)
        .bind(captures)
        .bind(values)
        .bind(workers)
        .bind(data)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(done.rows_affected() as usize)
    }

    async fn fleet_server_ids(&self, entity_ids: &[String]) -> StoreResult<Vec<(String, i64)>> {
        let known = self.known_fleet_server_ids(entity_ids).await?;
        // Reads are the common case: only new hosts cost an insert.
        if known.len() == entity_ids.len() {
            return Ok(known);
        }
        // One statement: ids are assigned in the given order, and a
        // concurrent caller's inserts are skipped, not duplicated. Known
        // hosts are filtered out first, since a conflicting insert would
        // still consume a sequence value.
        sqlx::query(
            "INSERT INTO fleet_servers (entity_id) \
             SELECT e FROM unnest($1::text[]) WITH ORDINALITY AS t(e, n) \
             WHERE NOT EXISTS (SELECT 1 FROM fleet_servers f WHERE f.entity_id = t.e) \
             ORDER BY n \
             ON CONFLICT (entity_id) DO NOTHING",
        )
        .bind(entity_ids)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        self.known_fleet_server_ids(entity_ids).await
    }

    async fn events(&self, query: &EventQuery) -> StoreResult<Vec<StoredEvent>> {
        events::query(&self.pool, query).await
    }

    async fn prune_events(&self, before: i64) -> StoreResult<u64> {
        events::prune(&self.pool, before).await
    }

    async fn fleet_entities(&self, server_ids: &[i64]) -> StoreResult<Vec<(i64, String)>> {
        monitors::fleet_entities(&self.pool, server_ids).await
    }

    async fn monitors(&self) -> StoreResult<Vec<Monitor>> {
        monitors::all(&self.pool).await
    }

    async fn monitor(&self, id: i64) -> StoreResult<Option<Monitor>> {
        let mut conn = self.pool.acquire().await.map_err(classify)?;
        monitors::one(&mut conn, id, false).await
    }

    async fn add_monitor_minutes(&self, minutes: &[MonitorMinute]) -> StoreResult<()> {
        monitors::add_minutes(&self.pool, minutes).await
    }

    async fn monitor_history(&self, server_id: i64, since: i64) -> StoreResult<Vec<MonitorMinute>> {
        monitors::history(&self.pool, server_id, since).await
    }

    async fn prune_monitor_minutes(&self, before: i64) -> StoreResult<u64> {
        monitors::prune(&self.pool, before).await
    }

    async fn alert_events(&self, alert_id: i64, limit: i64) -> StoreResult<Vec<AlertEvent>> {
        let rows = sqlx::query(
            "SELECT at, kind, alert_id, entity, captures, value, worker, data FROM alert_events \
             WHERE alert_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(alert_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                let at: DateTime<Utc> = row.try_get("at")?;
                let Json(captures) = row.try_get("captures")?;
                let value: Option<Value> = row.try_get("value")?;
                Ok(AlertEvent {
                    kind: AlertEventKind::parse(&kind)
                        .ok_or_else(|| corrupt("event kind", &kind))?,
                    alert_id: row.try_get("alert_id")?,
                    entity: row.try_get("entity")?,
                    ts: at.timestamp_micros() as f64 / 1e6,
                    captures,
                    value: value.unwrap_or(Value::Null),
                    worker: row.try_get("worker")?,
                    data: row.try_get("data")?,
                })
            })
            .collect()
    }

    async fn audit_trail(&self, kind: AuditKind, object_id: &str) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, kind, object_id, action, before, after FROM audit_log \
             WHERE kind = $1 AND object_id = $2 ORDER BY id",
        )
        .bind(kind.as_str())
        .bind(object_id)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter()
            .map(|row| {
                Ok(AuditRecord {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    kind: row.try_get("kind")?,
                    object_id: row.try_get("object_id")?,
                    action: row.try_get("action")?,
                    before: row.try_get("before")?,
                    after: row.try_get("after")?,
                })
            })
            .collect()
    }
}

struct PostgresTx {
    tx: Transaction<'static, Postgres>,
}

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

/// Binds a check's columns, `name` to `source_url`, in table order.
fn bind_check_columns<'q>(query: PgQuery<'q>, check: &NewCheckDefinition) -> PgQuery<'q> {
    query
        .bind(&check.name)
        .bind(&check.description)
        .bind(&check.technical_details)
        .bind(&check.potential_analysis)
        .bind(&check.potential_impact)
        .bind(&check.potential_solution)
        .bind(&check.owning_team)
        .bind(Json(&check.entities))
        .bind(check.interval)
        .bind(&check.command)
        .bind(check.status.as_str())
        .bind(&check.source_url)
}

/// Binds an alert node's columns, `parent_id` to `tags`, in table order.
fn bind_alert_columns<'q>(query: PgQuery<'q>, node: &AlertDefinition) -> StoreResult<PgQuery<'q>> {
    Ok(query
        .bind(node.parent_id)
        .bind(node.template)
        .bind(&node.team)
        .bind(&node.responsible_team)
        .bind(node.status.as_str())
        .bind(&node.name)
        .bind(&node.description)
        .bind(json_or_null(&node.entities)?)
        .bind(json_or_null(&node.entities_exclude)?)
        .bind(&node.condition)
        .bind(json_or_null(&node.notifications)?)
        .bind(node.check_definition_id)
        .bind(node.priority.map(|p| p as i16))
        .bind(&node.period)
        .bind(json_or_null(&node.parameters)?)
        .bind(json_or_null(&node.tags)?))
}

/// Binds a dashboard's columns, `name` to `widget_configuration`.
fn bind_dashboard_columns<'q>(query: PgQuery<'q>, draft: &DashboardDraft) -> PgQuery<'q> {
    query
        .bind(&draft.name)
        .bind(draft.view_mode.as_str())
        .bind(draft.edit_option.as_str())
        .bind(Json(&draft.alert_teams))
        .bind(Json(&draft.tags))
        .bind(Json(&draft.shared_teams))
        .bind(&draft.widget_configuration)
}

fn json_or_null<T: serde::Serialize>(value: &Option<T>) -> StoreResult<Option<Value>> {
    value
        .as_ref()
        .map(|v| serde_json::to_value(v).map_err(|e| corrupt("serialize", e)))
        .transpose()
}

#[async_trait]
impl StoreTx for PostgresTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await.map_err(classify)
    }

    async fn lock_entity(&mut self, id: &str) -> StoreResult<Option<StoredEntity>> {
        // The advisory lock also serialises two first writes of the same
        // id, which a row lock cannot (there is no row yet).
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('entity:' || $1))")
            .bind(id)
            .execute(&mut *self.tx)
            .await
            .map_err(classify)?;
        let sql = format!("SELECT {ENTITY_COLUMNS} FROM entities WHERE id = $1 FOR UPDATE");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.tx)
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
        sqlx::query(
            "INSERT INTO entities (id, type, data, created, created_by, last_modified, last_modified_by) \
             VALUES ($1, $2, $3, $4, $5, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, data = EXCLUDED.data, \
               last_modified = EXCLUDED.last_modified, last_modified_by = EXCLUDED.last_modified_by",
        )
        .bind(entity.id())
        .bind(entity.entity_type())
        .bind(Json(entity.document()))
        .bind(at)
        .bind(actor)
        .execute(&mut *self.tx)
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn delete_entity(&mut self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM entities WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await
            .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    async fn lock_check(&mut self, id: i64) -> StoreResult<Option<CheckRecord>> {
        let sql = format!("SELECT {CHECK_COLUMNS} FROM check_definitions WHERE id = $1 FOR UPDATE");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.tx)
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
        let row = if let Some(url) = source_url {
            let sql = format!(
                "SELECT {CHECK_COLUMNS} FROM check_definitions \
                 WHERE lower(source_url) = lower($1) FOR UPDATE"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(url)
                .fetch_optional(&mut *self.tx)
                .await
                .map_err(classify)?
        } else {
            let sql = format!(
                "SELECT {CHECK_COLUMNS} FROM check_definitions \
                 WHERE lower(name) = lower($1) AND lower(owning_team) = lower($2) FOR UPDATE"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(name)
                .bind(owning_team)
                .fetch_optional(&mut *self.tx)
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
        let sql = format!(
            "INSERT INTO check_definitions (id, name, description, technical_details, \
               potential_analysis, potential_impact, potential_solution, owning_team, entities, \
               \"interval\", command, status, source_url, created, created_by, last_modified, \
               last_modified_by, entities_exclude) \
             VALUES (coalesce($1, nextval(pg_get_serial_sequence('check_definitions', 'id'))), \
               $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $14, $15, $16) \
             RETURNING {CHECK_COLUMNS}"
        );
        let row = bind_check_columns(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(check.id), check)
            .bind(at)
            .bind(actor)
            .bind(Json(&check.entities_exclude))
            .fetch_one(&mut *self.tx)
            .await
            .map_err(classify)?;
        if check.id.is_some() {
            // An explicit id (an import from ZMON) must not collide with
            // the ids handed out later.
            sqlx::query(
                "SELECT setval(pg_get_serial_sequence('check_definitions', 'id'), \
                 (SELECT max(id) FROM check_definitions))",
            )
            .execute(&mut *self.tx)
            .await
            .map_err(classify)?;
        }
        Ok(check_from_row(&row)?.check)
    }

    async fn update_check(
        &mut self,
        id: i64,
        check: &NewCheckDefinition,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<CheckDefinition> {
        let sql = format!(
            "UPDATE check_definitions SET name = $2, description = $3, technical_details = $4, \
               potential_analysis = $5, potential_impact = $6, potential_solution = $7, \
               owning_team = $8, entities = $9, \"interval\" = $10, command = $11, status = $12, \
               source_url = $13, last_modified = $14, last_modified_by = $15, \
               entities_exclude = $16 \
             WHERE id = $1 RETURNING {CHECK_COLUMNS}"
        );
        let row = bind_check_columns(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id), check)
            .bind(at)
            .bind(actor)
            .bind(Json(&check.entities_exclude))
            .fetch_one(&mut *self.tx)
            .await
            .map_err(classify)?;
        Ok(check_from_row(&row)?.check)
    }

    async fn delete_check(&mut self, id: i64) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM check_definitions WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await
            .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    async fn lock_alert_tree(&mut self) -> StoreResult<Vec<AlertDefinition>> {
        // Blocks other writers of the tree, not readers.
        sqlx::query("LOCK TABLE alert_definitions IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *self.tx)
            .await
            .map_err(classify)?;
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alert_definitions ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *self.tx)
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
        let sql = format!(
            "INSERT INTO alert_definitions (parent_id, template, team, responsible_team, status, \
               name, description, entities, entities_exclude, condition, notifications, \
               check_definition_id, priority, period, parameters, tags, created, created_by, \
               last_modified, last_modified_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
               $17, $18, $17, $18) RETURNING {ALERT_COLUMNS}"
        );
        // The id and audit fields are the database's to fill in.
        let node = draft.clone().into_definition(0, 0, actor);
        let row = bind_alert_columns(sqlx::query(sqlx::AssertSqlSafe(sql)), &node)?
            .bind(at)
            .bind(actor)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(classify)?;
        alert_from_row(&row)
    }

    async fn update_alert(&mut self, node: &AlertDefinition) -> StoreResult<()> {
        let at = DateTime::<Utc>::from_timestamp_millis(node.last_modified)
            .ok_or_else(|| corrupt("last_modified", node.last_modified))?;
        let query = sqlx::query(
            "UPDATE alert_definitions SET parent_id = $2, template = $3, team = $4, \
               responsible_team = $5, status = $6, name = $7, description = $8, entities = $9, \
               entities_exclude = $10, condition = $11, notifications = $12, \
               check_definition_id = $13, priority = $14, period = $15, parameters = $16, \
               tags = $17, last_modified = $18, last_modified_by = $19 \
             WHERE id = $1",
        )
        .bind(node.id);
        bind_alert_columns(query, node)?
            .bind(at)
            .bind(&node.last_modified_by)
            .execute(&mut *self.tx)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn delete_alert(&mut self, id: i64) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM alert_definitions WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await
            .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    async fn alerts_using_check(&mut self, check_id: i64) -> StoreResult<Vec<i64>> {
        sqlx::query_scalar(
            "SELECT id FROM alert_definitions WHERE check_definition_id = $1 ORDER BY id",
        )
        .bind(check_id)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(classify)
    }

    async fn insert_downtime_group(
        &mut self,
        group: &DowntimeGroup,
        spec: &DowntimeSpec,
        downtimes: &[Downtime],
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO downtime_groups (id, comment, start_time, end_time, created_by, \
               requested_entities, requested_alert_definitions) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(group.id)
        .bind(&spec.comment)
        .bind(spec.start_time)
        .bind(spec.end_time)
        .bind(&group.created_by)
        .bind(Json(&spec.entities))
        .bind(spec.alert_definitions.as_ref().map(Json))
        .execute(&mut *self.tx)
        .await
        .map_err(classify)?;
        if downtimes.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = downtimes.iter().map(|d| d.id).collect();
        let alerts: Vec<i64> = downtimes.iter().map(|d| d.alert_id).collect();
        let entities: Vec<&str> = downtimes.iter().map(|d| d.entity.as_str()).collect();
        sqlx::query(
            "INSERT INTO downtimes (id, group_id, alert_definition_id, entity_id) \
             SELECT u.id, $2, u.alert, u.entity \
             FROM unnest($1::uuid[], $3::bigint[], $4::text[]) AS u(id, alert, entity)",
        )
        .bind(ids)
        .bind(group.id)
        .bind(alerts)
        .bind(entities)
        .execute(&mut *self.tx)
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn lock_downtime_group(
        &mut self,
        id: Uuid,
    ) -> StoreResult<Option<(DowntimeGroup, Vec<Downtime>)>> {
        let row = sqlx::query(
            "SELECT id, comment, start_time, end_time, created_by FROM downtime_groups \
             WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
        )
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(classify)?;
        let Some(row) = row else { return Ok(None) };
        let sql = format!(
            "{DOWNTIME_SELECT} WHERE d.group_id = $1 ORDER BY d.alert_definition_id, d.entity_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_all(&mut *self.tx)
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
        sqlx::query("UPDATE downtime_groups SET deleted_at = $2, deleted_by = $3 WHERE id = $1")
            .bind(id)
            .bind(at)
            .bind(actor)
            .execute(&mut *self.tx)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn lock_dashboard(&mut self, id: i64) -> StoreResult<Option<Dashboard>> {
        let sql = format!("SELECT {DASHBOARD_COLUMNS} FROM dashboards WHERE id = $1 FOR UPDATE");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.tx)
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
            "INSERT INTO dashboards (name, view_mode, edit_option, alert_teams, tags, shared_teams, \
               widget_configuration, created, created_by, last_modified, last_modified_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $9) RETURNING {DASHBOARD_COLUMNS}"
        );
        let row = bind_dashboard_columns(sqlx::query(sqlx::AssertSqlSafe(sql)), draft)
            .bind(at)
            .bind(actor)
            .fetch_one(&mut *self.tx)
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
            "UPDATE dashboards SET name = $2, view_mode = $3, edit_option = $4, alert_teams = $5, \
               tags = $6, shared_teams = $7, widget_configuration = $8, last_modified = $9, \
               last_modified_by = $10 WHERE id = $1 RETURNING {DASHBOARD_COLUMNS}"
        );
        let row = bind_dashboard_columns(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id), draft)
            .bind(at)
            .bind(actor)
            .fetch_one(&mut *self.tx)
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
        monitors::insert(&mut self.tx, draft, team, actor, at).await
    }

    async fn lock_monitor(&mut self, id: i64) -> StoreResult<Option<Monitor>> {
        monitors::one(&mut self.tx, id, true).await
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
        monitors::update(
            &mut self.tx,
            id,
            draft,
            team,
            check_definition_id,
            actor,
            at,
        )
        .await
    }

    async fn delete_monitor(&mut self, id: i64) -> StoreResult<bool> {
        monitors::delete(&mut self.tx, id).await
    }

    async fn append_audit(&mut self, entry: &AuditEntry) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, kind, object_id, action, before, after) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(entry.kind.as_str())
        .bind(&entry.object_id)
        .bind(entry.action.as_str())
        .bind(&entry.before)
        .bind(&entry.after)
        .execute(&mut *self.tx)
        .await
        .map_err(classify)?;
        Ok(())
    }
}
