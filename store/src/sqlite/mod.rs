//! SQLite implementation of the storage seam, for the embedded
//! (standalone) mode: a file, no server, no configuration.
//!
//! Type mapping (the migrations in `migrations/sqlite` say the same):
//! timestamps are INTEGER microseconds since the Unix epoch, the precision
//! PostgreSQL keeps, which also orders correctly; JSON documents and
//! arrays are TEXT checked with `json_valid`; UUIDs are lower-case
//! hyphenated TEXT; booleans are INTEGER 0/1; identity columns are
//! `INTEGER PRIMARY KEY AUTOINCREMENT`, which never hands out an id twice.
//!
//! Durability: WAL with `synchronous=FULL`. Under WAL, NORMAL already
//! survives a killed process (a commit is in the WAL file before it
//! returns); FULL also survives power loss, at one fsync per commit, which
//! the rate of definition changes easily affords.
//!
//! Concurrency: SQLite has one writer at a time. Write transactions first
//! take an in-process lock and then `BEGIN IMMEDIATE`, so writers queue in
//! order instead of failing with SQLITE_BUSY when a deferred transaction
//! tries to upgrade its read lock. Reads go to the pool in parallel.

mod changes;
mod errors;
mod events;
mod monitors;
mod rows;
mod tx;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite};
use tokio::sync::{Mutex, OwnedMutexGuard};
use uuid::Uuid;
use zmon_core::alert::AlertDefinition;
use zmon_core::check::{CheckDefinition, DefinitionStatus};
use zmon_core::dashboard::Dashboard;
use zmon_core::downtime::{Downtime, DowntimeGroup};
use zmon_core::event::{AlertEvent, AlertEventKind};
use zmon_core::filter::matches_any;

use self::changes::Changes;
use self::errors::{classify, corrupt, unavailable};
use self::rows::*;
use self::tx::SqliteTx;
use crate::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// How long a statement waits for a lock another process holds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Serialises this process's writers; see the module documentation.
    writer: Arc<Mutex<()>>,
    changes: Arc<Changes>,
}

impl SqliteStore {
    /// The fleet ids already assigned to `entity_ids`, in id order.
    async fn known_fleet_server_ids(
        &self,
        entity_ids: &[String],
    ) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT entity_id, id FROM fleet_servers \
             WHERE entity_id IN (SELECT value FROM json_each(?1)) ORDER BY id",
        )
        .bind(to_json(&entity_ids)?)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter()
            .map(|row| Ok((row.try_get("entity_id")?, row.try_get("id")?)))
            .collect()
    }

    /// Opens the database at a `sqlite:` URL or a plain file path,
    /// creating the file and its directory when missing.
    pub async fn connect(url_or_path: &str, max_connections: u32) -> StoreResult<Self> {
        let options = if url_or_path.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url_or_path)
                .map_err(|e| StoreError::Unavailable(format!("invalid database URL: {e}")))?
        } else {
            SqliteConnectOptions::new().filename(url_or_path)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        create_parent_dir(options.get_filename())?;
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        tracing::debug!(path = %url_or_path, "opened SQLite database");
        Ok(Self {
            pool,
            writer: Arc::new(Mutex::new(())),
            changes: Arc::new(Changes::new()),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// `PRAGMA integrity_check`: `Ok` when the file is sound, else the
    /// problems SQLite lists.
    pub async fn integrity_check(&self) -> StoreResult<()> {
        let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        if problems.len() == 1 && problems[0] == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt(problems.join("; ")))
        }
    }

    /// A write transaction with this process's write lock held.
    async fn begin_write(&self) -> StoreResult<WriteTx> {
        let guard = self.writer.clone().lock_owned().await;
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(classify)?;
        Ok(WriteTx { tx, _guard: guard })
    }
}

/// A transaction that holds the write lock. `tx` is declared first so it
/// is rolled back before the lock goes to the next writer.
struct WriteTx {
    tx: sqlx::Transaction<'static, Sqlite>,
    _guard: OwnedMutexGuard<()>,
}

fn create_parent_dir(file: &Path) -> StoreResult<()> {
    let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    std::fs::create_dir_all(dir).map_err(|e| {
        StoreError::Unavailable(format!("cannot create directory {}: {e}", dir.display()))
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn listen_changes(&self) -> StoreResult<Box<dyn ChangeListener>> {
        Ok(Box::new(self.changes.listener()))
    }

    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
        let write = self.begin_write().await?;
        Ok(Box::new(SqliteTx::new(write, self.changes.clone())))
    }

    async fn entity(&self, id: &str) -> StoreResult<Option<StoredEntity>> {
        let sql = format!("SELECT {ENTITY_COLUMNS} FROM entities WHERE id = ?1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        row.as_ref().map(entity_from_row).transpose()
    }

    async fn entities(&self, query: &EntityQuery) -> StoreResult<Vec<StoredEntity>> {
        // As for PostgreSQL: SQL narrows the candidates (the filter's keys
        // exist; string `id`/`type` are equal) and the exact rule runs in
        // Rust, the same for both backends.
        let mut sql = QueryBuilder::<Sqlite>::new("SELECT ");
        sql.push(ENTITY_COLUMNS).push(" FROM entities WHERE 1");
        if let Some(filters) = &query.filters {
            if filters.is_empty() {
                return Ok(Vec::new());
            }
            sql.push(" AND (0");
            for filter in filters {
                let keys: Vec<&str> = filter.keys().collect();
                sql.push(" OR (NOT EXISTS (SELECT 1 FROM json_each(")
                    .push_bind(to_json(&keys)?)
                    .push(") k WHERE k.value NOT IN (SELECT key FROM json_each(entities.data)))");
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
            sql.push(" AND NOT EXISTS (SELECT 1 FROM json_each(entities.data) WHERE key = ")
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
        let sql = format!(
            "SELECT {ENTITY_COLUMNS} FROM entities \
             WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to_json(ids)?)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter().map(entity_from_row).collect()
    }

    async fn check(&self, id: i64) -> StoreResult<Option<CheckDefinition>> {
        let sql = format!("SELECT {CHECK_COLUMNS} FROM check_definitions WHERE id = ?1");
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
             WHERE ?1 IS NULL OR status = ?1 ORDER BY id"
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
               SELECT a.*, 0 AS depth FROM alert_definitions a WHERE a.id = ?1 \
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
             WHERE deleted_at IS NULL AND end_time > ?1 ORDER BY start_time, id",
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
            "{DOWNTIME_SELECT} WHERE g.deleted_at IS NULL AND g.end_time > ?1 \
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
        let sql = format!("SELECT {DASHBOARD_COLUMNS} FROM dashboards WHERE id = ?1");
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
        // The write lock makes the check and the insert atomic, as the
        // advisory lock does for PostgreSQL.
        let mut write = self.begin_write().await?;
        let recent: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM onetime_tokens WHERE created_by = ?1 AND created > ?2)",
        )
        .bind(&token.created_by)
        .bind(micros(not_after))
        .fetch_one(&mut *write.tx)
        .await
        .map_err(classify)?;
        if recent {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO onetime_tokens (token, created_by, created, expires) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(&token.token)
        .bind(&token.created_by)
        .bind(micros(token.created))
        .bind(micros(token.expires))
        .execute(&mut *write.tx)
        .await
        .map_err(classify)?;
        write.tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn onetime_tokens(&self, user: &str) -> StoreResult<Vec<OnetimeToken>> {
        let sql = format!(
            "SELECT {ONETIME_COLUMNS} FROM onetime_tokens WHERE created_by = ?1 ORDER BY created"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter().map(onetime_from_row).collect()
    }

    async fn user(&self, name: &str) -> StoreResult<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1");
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
        let now = micros(Utc::now());
        let mut write = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (name, password_hash, role, teams, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        )
        .bind(&user.name)
        .bind(&user.password_hash)
        .bind(user.role.as_str())
        .bind(to_json(&user.teams)?)
        .bind(now)
        .execute(&mut *write.tx)
        .await
        .map_err(classify)?;
        write.tx.commit().await.map_err(classify)
    }

    async fn upsert_external_user(&self, user: &NewUser) -> StoreResult<UserRecord> {
        let now = micros(Utc::now());
        let mut write = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (name, password_hash, role, teams, created_at, updated_at) \
             VALUES (?1, NULL, ?2, ?3, ?4, ?4) \
             ON CONFLICT (name) DO UPDATE SET role = excluded.role, teams = excluded.teams, updated_at = excluded.updated_at \
             WHERE users.password_hash IS NULL",
        )
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(to_json(&user.teams)?)
        .bind(now)
        .execute(&mut *write.tx)
        .await
        .map_err(classify)?;
        write.tx.commit().await.map_err(classify)?;
        self.user(&user.name).await?.ok_or_else(|| {
            StoreError::Conflict(format!("user {} was deleted during login", user.name))
        })
    }

    async fn put_oauth_login(
        &self,
        login: &OAuthLogin,
        expired_before: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut write = self.begin_write().await?;
        sqlx::query("DELETE FROM oauth_logins WHERE created_at < ?1")
            .bind(micros(expired_before))
            .execute(&mut *write.tx)
            .await
            .map_err(classify)?;
        sqlx::query(
            "INSERT INTO oauth_logins (state, provider, pkce_verifier, nonce, next_path, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(&login.state)
        .bind(&login.provider)
        .bind(&login.pkce_verifier)
        .bind(&login.nonce)
        .bind(&login.next_path)
        .bind(micros(login.created_at))
        .execute(&mut *write.tx)
        .await
        .map_err(classify)?;
        write.tx.commit().await.map_err(classify)
    }

    async fn take_oauth_login(&self, state: &str) -> StoreResult<Option<OAuthLogin>> {
        let mut write = self.begin_write().await?;
        let row = sqlx::query(
            "DELETE FROM oauth_logins WHERE state = ?1 \
             RETURNING state, provider, pkce_verifier, nonce, next_path, created_at",
        )
        .bind(state)
        .fetch_optional(&mut *write.tx)
        .await
        .map_err(classify)?;
        write.tx.commit().await.map_err(classify)?;
        row.map(|r| {
            let created: i64 = r.try_get("created_at")?;
            Ok(OAuthLogin {
                state: r.try_get("state")?,
                provider: r.try_get("provider")?,
                pkce_verifier: r.try_get("pkce_verifier")?,
                nonce: r.try_get("nonce")?,
                next_path: r.try_get("next_path")?,
                created_at: time_from_micros(created)?,
            })
        })
        .transpose()
    }

    async fn delete_user(&self, name: &str) -> StoreResult<bool> {
        let mut write = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM users WHERE name = ?1")
            .bind(name)
            .execute(&mut *write.tx)
            .await
            .map_err(classify)?;
        write.tx.commit().await.map_err(classify)?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_token(&self, token: &NewToken) -> StoreResult<()> {
        let mut write = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, user_name, token_hash, label, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(uuid_text(token.id))
        .bind(&token.user_name)
        .bind(&token.token_hash)
        .bind(&token.label)
        .bind(micros(Utc::now()))
        .bind(token.expires_at.map(micros))
        .execute(&mut *write.tx)
        .await
        .map_err(classify)?;
        write.tx.commit().await.map_err(classify)
    }

    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<(TokenRecord, UserRecord)>> {
        let row = sqlx::query(
            "SELECT t.id, t.user_name, t.label, t.created_at AS token_created_at, t.expires_at, \
                    t.revoked_at, t.last_used_at, u.name, u.password_hash, u.role, u.teams, \
                    u.created_at \
             FROM api_tokens t JOIN users u ON u.name = t.user_name WHERE t.token_hash = ?1",
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
             WHERE ?1 IS NULL OR user_name = ?1 ORDER BY created_at, id"
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
        let mut write = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        )
        .bind(uuid_text(id))
        .bind(micros(Utc::now()))
        .execute(&mut *write.tx)
        .await
        .map_err(classify)?;
        write.tx.commit().await.map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    async fn touch_token(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        let mut write = self.begin_write().await?;
        sqlx::query("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1")
            .bind(uuid_text(id))
            .bind(micros(at))
            .execute(&mut *write.tx)
            .await
            .map_err(classify)?;
        write.tx.commit().await.map_err(classify)
    }

    async fn instance_secret(&self, name: &str, candidate: &str) -> StoreResult<String> {
        let mut write = self.begin_write().await?;
        sqlx::query("INSERT INTO instance_secrets (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(candidate)
            .execute(&mut *write.tx)
            .await
            .map_err(classify)?;
        let value = sqlx::query_scalar("SELECT value FROM instance_secrets WHERE name = ?1")
            .bind(name)
            .fetch_one(&mut *write.tx)
            .await
            .map_err(classify)?;
        write.tx.commit().await.map_err(classify)?;
        Ok(value)
    }

    async fn teams(&self) -> StoreResult<Vec<String>> {
        let mut rows: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT team FROM ( \
                SELECT team FROM alert_definitions \
                UNION SELECT responsible_team FROM alert_definitions \
                UNION SELECT owning_team FROM check_definitions \
                UNION SELECT j.value FROM users, json_each(users.teams) j \
             ) t WHERE trim(team) <> ''",
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
        let at: Option<i64> = sqlx::query_scalar("SELECT max(at) FROM audit_log WHERE kind = ?1")
            .bind(kind.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        at.map(time_from_micros).transpose()
    }

    async fn change_counter(&self, kinds: &[AuditKind]) -> StoreResult<i64> {
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        sqlx::query_scalar(
            "SELECT coalesce(max(id), 0) FROM audit_log \
             WHERE kind IN (SELECT value FROM json_each(?1))",
        )
        .bind(to_json(&kinds)?)
        .fetch_one(&self.pool)
        .await
        .map_err(classify)
    }

    async fn append_alert_events(&self, events: &[(String, AlertEvent)]) -> StoreResult<usize> {
        if events.is_empty() {
            return Ok(0);
        }
        let mut write = self.begin_write().await?;
        let mut added = 0;
        for (id, e) in events {
            let at = DateTime::<Utc>::from_timestamp_micros((e.ts * 1e6) as i64)
                .ok_or_else(|| corrupt("event time", e.ts))?;
            let done = sqlx::query(
                "INSERT INTO alert_events (stream_id, at, kind, alert_id, entity, captures, \
                   value, worker, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (stream_id) DO NOTHING",
            )
            .bind(id)
            .bind(micros(at))
            .bind(e.kind.as_str())
            .bind(e.alert_id)
            .bind(&e.entity)
            .bind(to_json(&e.captures)?)
            .bind(to_json(&e.value)?)
            .bind(&e.worker)
            .bind(e.data.as_ref().map(to_json).transpose()?)
            .execute(&mut *write.tx)
            .await
            .map_err(classify)?;
            added += done.rows_affected() as usize;
        }
        write.tx.commit().await.map_err(classify)?;
        Ok(added)
    }

    async fn events(&self, query: &crate::EventQuery) -> StoreResult<Vec<crate::StoredEvent>> {
        events::query(&self.pool, query).await
    }

    async fn prune_events(&self, before: i64) -> StoreResult<u64> {
        let mut write = self.begin_write().await?;
        let pruned = events::prune(&mut write.tx, before).await?;
        write.tx.commit().await.map_err(classify)?;
        Ok(pruned)
    }

    async fn fleet_entities(&self, server_ids: &[i64]) -> StoreResult<Vec<(i64, String)>> {
        monitors::fleet_entities(&self.pool, server_ids).await
    }

    async fn monitors(&self) -> StoreResult<Vec<zmon_core::monitor::Monitor>> {
        monitors::all(&self.pool).await
    }

    async fn monitor(&self, id: i64) -> StoreResult<Option<zmon_core::monitor::Monitor>> {
        let mut conn = self.pool.acquire().await.map_err(classify)?;
        monitors::one(&mut conn, id).await
    }

    async fn add_monitor_minutes(
        &self,
        minutes: &[zmon_core::monitor::MonitorMinute],
    ) -> StoreResult<()> {
        if minutes.is_empty() {
            return Ok(());
        }
        let mut write = self.begin_write().await?;
        monitors::add_minutes(&mut write.tx, minutes).await?;
        write.tx.commit().await.map_err(classify)
    }

    async fn monitor_history(
        &self,
        server_id: i64,
        since: i64,
    ) -> StoreResult<Vec<zmon_core::monitor::MonitorMinute>> {
        monitors::history(&self.pool, server_id, since).await
    }

    async fn prune_monitor_minutes(&self, before: i64) -> StoreResult<u64> {
        let mut write = self.begin_write().await?;
        let pruned = monitors::prune(&mut write.tx, before).await?;
        write.tx.commit().await.map_err(classify)?;
        Ok(pruned)
    }

    async fn fleet_server_ids(&self, entity_ids: &[String]) -> StoreResult<Vec<(String, i64)>> {
        let known = self.known_fleet_server_ids(entity_ids).await?;
        // Reads are the common case: only new hosts take the writer lock.
        if known.len() == entity_ids.len() {
            return Ok(known);
        }
        let mut write = self.begin_write().await?;
        for entity in entity_ids {
            sqlx::query(
                "INSERT INTO fleet_servers (entity_id) SELECT ?1 \
                 WHERE NOT EXISTS (SELECT 1 FROM fleet_servers WHERE entity_id = ?1)",
            )
            .bind(entity)
            .execute(&mut *write.tx)
            .await
            .map_err(classify)?;
        }
        write.tx.commit().await.map_err(classify)?;
        self.known_fleet_server_ids(entity_ids).await
    }

    async fn alert_events(&self, alert_id: i64, limit: i64) -> StoreResult<Vec<AlertEvent>> {
        let rows = sqlx::query(
            "SELECT at, kind, alert_id, entity, captures, value, worker, data FROM alert_events \
             WHERE alert_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
        )
        .bind(alert_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                let value: Option<Value> = opt_json(row, "value")?;
                Ok(AlertEvent {
                    kind: AlertEventKind::parse(&kind)
                        .ok_or_else(|| corrupt("event kind", &kind))?,
                    alert_id: row.try_get("alert_id")?,
                    entity: row.try_get("entity")?,
                    ts: time(row, "at")?.timestamp_micros() as f64 / 1e6,
                    captures: json(row, "captures")?,
                    value: value.unwrap_or(Value::Null),
                    worker: row.try_get("worker")?,
                    data: opt_json(row, "data")?,
                })
            })
            .collect()
    }

    async fn audit_trail(&self, kind: AuditKind, object_id: &str) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, kind, object_id, action, before, after FROM audit_log \
             WHERE kind = ?1 AND object_id = ?2 ORDER BY id",
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
                    at: time(row, "at")?,
                    actor: row.try_get("actor")?,
                    kind: row.try_get("kind")?,
                    object_id: row.try_get("object_id")?,
                    action: row.try_get("action")?,
                    before: opt_json(row, "before")?,
                    after: opt_json(row, "after")?,
                })
            })
            .collect()
    }
}
