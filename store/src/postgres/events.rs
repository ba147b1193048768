//! The event history's query on PostgreSQL.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgPool, QueryBuilder, Row};
use zmon_core::event::{AlertEvent, AlertEventKind};

use super::{classify, corrupt};
use crate::{EventQuery, StoreResult, StoredEvent};

fn micros_to_time(micros: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| corrupt("event time", micros))
}

fn event_from_row(row: &PgRow) -> StoreResult<StoredEvent> {
    let kind: String = row.try_get("kind")?;
    let at: DateTime<Utc> = row.try_get("at")?;
    let Json(captures) = row.try_get("captures")?;
    let value: Option<Value> = row.try_get("value")?;
    Ok(StoredEvent {
        id: row.try_get("id")?,
        event: AlertEvent {
            kind: AlertEventKind::parse(&kind).ok_or_else(|| corrupt("event kind", &kind))?,
            alert_id: row.try_get("alert_id")?,
            entity: row.try_get("entity")?,
            ts: at.timestamp_micros() as f64 / 1e6,
            captures,
            value: value.unwrap_or(Value::Null),
            worker: row.try_get("worker")?,
            data: row.try_get("data")?,
        },
    })
}

pub(super) async fn query(pool: &PgPool, q: &EventQuery) -> StoreResult<Vec<StoredEvent>> {
    let mut sql = QueryBuilder::new(
        "SELECT id, at, kind, alert_id, entity, captures, value, worker, data \
         FROM alert_events WHERE TRUE",
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
        sql.push(" AND kind = ANY(")
            .push_bind(q.kinds.clone())
            .push(")");
    }
    if let Some(since) = q.since {
        sql.push(" AND at >= ").push_bind(micros_to_time(since)?);
    }
    if let Some(until) = q.until {
        sql.push(" AND at < ").push_bind(micros_to_time(until)?);
    }
    if let Some((at, id)) = q.before {
        sql.push(" AND (at, id) < (")
            .push_bind(micros_to_time(at)?)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    sql.push(" ORDER BY at DESC, id DESC LIMIT ")
        .push_bind(q.limit);
    let rows = sql.build().fetch_all(pool).await.map_err(classify)?;
    rows.iter().map(event_from_row).collect()
}

pub(super) async fn prune(pool: &PgPool, before: i64) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM alert_events WHERE at < $1")
        .bind(micros_to_time(before)?)
        .execute(pool)
        .await
        .map_err(classify)?;
    Ok(done.rows_affected())
}
