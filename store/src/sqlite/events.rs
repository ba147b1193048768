//! The event history's query on SQLite.

use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, SqliteConnection, SqlitePool};
use zmon_core::event::{AlertEvent, AlertEventKind};

use super::errors::{classify, corrupt};
use super::rows::{json, opt_json, time, to_json};
use crate::{EventQuery, StoreResult, StoredEvent};

fn event_from_row(row: &SqliteRow) -> StoreResult<StoredEvent> {
    let kind: String = row.try_get("kind")?;
    let value: Option<Value> = opt_json(row, "value")?;
    Ok(StoredEvent {
        id: row.try_get("id")?,
        event: AlertEvent {
            kind: AlertEventKind::parse(&kind).ok_or_else(|| corrupt("event kind", &kind))?,
            alert_id: row.try_get("alert_id")?,
            entity: row.try_get("entity")?,
            ts: time(row, "at")?.timestamp_micros() as f64 / 1e6,
            captures: json(row, "captures")?,
            value: value.unwrap_or(Value::Null),
            worker: row.try_get("worker")?,
            data: opt_json(row, "data")?,
        },
    })
}

pub(super) async fn query(pool: &SqlitePool, q: &EventQuery) -> StoreResult<Vec<StoredEvent>> {
    let mut sql = QueryBuilder::new(
        "SELECT id, at, kind, alert_id, entity, captures, value, worker, data \
         FROM alert_events WHERE 1",
    );
    if let Some(alert) = q.alert_id {
        sql.push(" AND alert_id = ").push_bind(alert);
    }
    if let Some(entity) = &q.entity {
        sql.push(" AND entity = ").push_bind(entity.clone());
    }
    if let Some(team) = &q.team {
        sql.push(" AND alert_id IN (SELECT id FROM alert_definitions WHERE lower(team) = lower(")
            .push_bind(team.clone())
            .push("))");
    }
    if !q.kinds.is_empty() {
        sql.push(" AND kind IN (SELECT value FROM json_each(")
            .push_bind(to_json(&q.kinds)?)
            .push("))");
    }
    if let Some(since) = q.since {
        sql.push(" AND at >= ").push_bind(since);
    }
    if let Some(until) = q.until {
        sql.push(" AND at < ").push_bind(until);
    }
    if let Some((at, id)) = q.before {
        sql.push(" AND (at < ")
            .push_bind(at)
            .push(" OR (at = ")
            .push_bind(at)
            .push(" AND id < ")
            .push_bind(id)
            .push("))");
    }
    sql.push(" ORDER BY at DESC, id DESC LIMIT ")
        .push_bind(q.limit);
    let rows = sql.build().fetch_all(pool).await.map_err(classify)?;
    rows.iter().map(event_from_row).collect()
}

pub(super) async fn prune(conn: &mut SqliteConnection, before: i64) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM alert_events WHERE at < ?1")
        .bind(before)
        .execute(conn)
        .await
        .map_err(classify)?;
    Ok(done.rows_affected())
}
