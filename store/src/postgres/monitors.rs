//! Monitors and their per-minute probe history on PostgreSQL.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Row};
use zmon_core::monitor::{Cover, Monitor, MonitorDraft, MonitorKind, MonitorMinute};
use zmon_core::time::epoch_millis;

use super::{classify, corrupt};
use crate::StoreResult;

const MONITOR_COLUMNS: &str = "id, name, kind, target, \"interval\", cover, servers, team, \
    check_definition_id, last_modified, last_modified_by";

fn monitor_from_row(row: &PgRow) -> StoreResult<Monitor> {
    let kind: String = row.try_get("kind")?;
    let cover: String = row.try_get("cover")?;
    let Json(servers) = row.try_get("servers")?;
    let check: Option<i64> = row.try_get("check_definition_id")?;
    let last_modified: DateTime<Utc> = row.try_get("last_modified")?;
    Ok(Monitor {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: MonitorKind::parse(&kind).ok_or_else(|| corrupt("monitor kind", &kind))?,
        target: row.try_get("target")?,
        interval: row.try_get("interval")?,
        cover: Cover::parse(&cover).ok_or_else(|| corrupt("monitor cover", &cover))?,
        servers,
        team: row.try_get("team")?,
        check_definition_id: check.unwrap_or_default(),
        last_modified_by: row.try_get("last_modified_by")?,
        last_modified: epoch_millis(last_modified),
    })
}

fn minute_from_row(row: &PgRow) -> StoreResult<MonitorMinute> {
    Ok(MonitorMinute {
        monitor_id: row.try_get("monitor_id")?,
        server_id: row.try_get("server_id")?,
        minute: row.try_get("minute")?,
        successes: row.try_get("successes")?,
        failures: row.try_get("failures")?,
        delay_sum_ms: row.try_get("delay_sum_ms")?,
    })
}

/// Binds a monitor's columns, `name` to `team`, in table order.
fn bind_monitor_columns<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    draft: &'q MonitorDraft,
    team: &'q str,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(&draft.name)
        .bind(draft.kind.as_str())
        .bind(&draft.target)
        .bind(draft.interval)
        .bind(draft.cover.as_str())
        .bind(Json(&draft.servers))
        .bind(team)
}

pub(super) async fn all(pool: &PgPool) -> StoreResult<Vec<Monitor>> {
    let sql = format!("SELECT {MONITOR_COLUMNS} FROM monitors ORDER BY id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .map_err(classify)?;
    rows.iter().map(monitor_from_row).collect()
}

pub(super) async fn one(
    conn: &mut PgConnection,
    id: i64,
    for_update: bool,
) -> StoreResult<Option<Monitor>> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {MONITOR_COLUMNS} FROM monitors WHERE id = $1{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(classify)?;
    row.as_ref().map(monitor_from_row).transpose()
}

pub(super) async fn insert(
    conn: &mut PgConnection,
    draft: &MonitorDraft,
    team: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<Monitor> {
    let sql = format!(
        "INSERT INTO monitors (name, kind, target, \"interval\", cover, servers, team, \
           created, created_by, last_modified, last_modified_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $9) RETURNING {MONITOR_COLUMNS}"
    );
    let query = sqlx::query(sqlx::AssertSqlSafe(sql));
    let row = bind_monitor_columns(query, draft, team)
        .bind(at)
        .bind(actor)
        .fetch_one(conn)
        .await
        .map_err(classify)?;
    monitor_from_row(&row)
}

pub(super) async fn update(
    conn: &mut PgConnection,
    id: i64,
    draft: &MonitorDraft,
    team: &str,
    check_definition_id: i64,
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<Monitor> {
    let sql = format!(
        "UPDATE monitors SET name = $2, kind = $3, target = $4, \"interval\" = $5, cover = $6, \
           servers = $7, team = $8, check_definition_id = $9, last_modified = $10, \
           last_modified_by = $11 \
         WHERE id = $1 RETURNING {MONITOR_COLUMNS}"
    );
    let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
    let row = bind_monitor_columns(query, draft, team)
        .bind(check_definition_id)
        .bind(at)
        .bind(actor)
        .fetch_one(conn)
        .await
        .map_err(classify)?;
    monitor_from_row(&row)
}

pub(super) async fn delete(conn: &mut PgConnection, id: i64) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM monitors WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await
        .map_err(classify)?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn add_minutes(pool: &PgPool, minutes: &[MonitorMinute]) -> StoreResult<()> {
    let minutes = zmon_core::monitor::merge_minutes(minutes);
    if minutes.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&MonitorMinute) -> i64| minutes.iter().map(f).collect::<Vec<i64>>();
    let sums: Vec<f64> = minutes.iter().map(|m| m.delay_sum_ms).collect();
    // One statement for the batch; the join drops counts of monitors
    // deleted since the probe ran.
    sqlx::query(
        "INSERT INTO monitor_minutes \
           (monitor_id, server_id, minute, successes, failures, delay_sum_ms) \
         SELECT t.monitor_id, t.server_id, t.minute, t.successes, t.failures, t.delay_sum_ms \
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], \
                     $6::float8[]) \
           AS t(monitor_id, server_id, minute, successes, failures, delay_sum_ms) \
         JOIN monitors m ON m.id = t.monitor_id \
         ON CONFLICT (monitor_id, server_id, minute) DO UPDATE SET \
           successes = monitor_minutes.successes + excluded.successes, \
           failures = monitor_minutes.failures + excluded.failures, \
           delay_sum_ms = monitor_minutes.delay_sum_ms + excluded.delay_sum_ms",
    )
    .bind(column(|m| m.monitor_id))
    .bind(column(|m| m.server_id))
    .bind(column(|m| m.minute))
    .bind(column(|m| m.successes))
    .bind(column(|m| m.failures))
    .bind(sums)
    .execute(pool)
    .await
    .map_err(classify)?;
    Ok(())
}

pub(super) async fn history(
    pool: &PgPool,
    server_id: i64,
    since: i64,
) -> StoreResult<Vec<MonitorMinute>> {
    let rows = sqlx::query(
        "SELECT monitor_id, server_id, minute, successes, failures, delay_sum_ms \
         FROM monitor_minutes WHERE server_id = $1 AND minute >= $2 \
         ORDER BY monitor_id, minute",
    )
    .bind(server_id)
    .bind(since)
    .fetch_all(pool)
    .await
    .map_err(classify)?;
    rows.iter().map(minute_from_row).collect()
}

pub(super) async fn prune(pool: &PgPool, before: i64) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM monitor_minutes WHERE minute < $1")
        .bind(before)
        .execute(pool)
        .await
        .map_err(classify)?;
    Ok(done.rows_affected())
}

pub(super) async fn fleet_entities(
    pool: &PgPool,
    server_ids: &[i64],
) -> StoreResult<Vec<(i64, String)>> {
    let rows =
        sqlx::query("SELECT id, entity_id FROM fleet_servers WHERE id = ANY($1) ORDER BY id")
            .bind(server_ids)
            .fetch_all(pool)
            .await
            .map_err(classify)?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("entity_id")?)))
        .collect()
}
