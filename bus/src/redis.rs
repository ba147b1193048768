//! The bus on Redis, with ZMON's key names (see `zmon_core::keys`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{AsyncCommands, Script};
use async_trait::async_trait;
use serde_json::{Map, Value};
use tokio::sync::OnceCell;
use zmon_core::downtime::Downtime;
use zmon_core::status::CheckResult;
use zmon_core::{AlertStatus, KeySpace};

use super::*;

/// Removes one downtime and drops the index entries it leaves empty, in one
/// atomic step so that a concurrent add is never unindexed.
const UNMIRROR: &str = r#"
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[2], ARGV[2])
  if redis.call('SCARD', KEYS[2]) == 0 then
    redis.call('SREM', KEYS[3], ARGV[3])
  end
end
return 1
"#;

pub struct RedisBus {
    client: ::redis::Client,
    connection: OnceCell<ConnectionManager>,
    keys: KeySpace,
}

impl RedisBus {
    /// Does not connect yet: the controller starts (and reports not ready)
    /// while Redis is down, and connects on first use.
    pub fn new(url: &str, keys: KeySpace) -> BusResult<Self> {
        Ok(Self {
            client: ::redis::Client::open(url)?,
            connection: OnceCell::new(),
            keys,
        })
    }

    pub fn keys(&self) -> &KeySpace {
        &self.keys
    }

    async fn conn(&self) -> BusResult<ConnectionManager> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(1);
        let conn = self
            .connection
            .get_or_try_init(|| async {
                tokio::time::timeout(
                    Duration::from_secs(3),
                    ConnectionManager::new_with_config(self.client.clone(), config),
                )
                .await
                .map_err(|_| BusError::Timeout)?
                .map_err(BusError::from)
            })
            .await?;
        Ok(conn.clone())
    }
}

/// Runs a pipeline; an empty one answers nothing instead of an error.
async fn run_pipe<T: ::redis::FromRedisValue + Default>(
    pipe: &::redis::Pipeline,
    conn: &mut ConnectionManager,
) -> BusResult<T> {
    if pipe.is_empty() {
        return Ok(T::default());
    }
    Ok(pipe.query_async(conn).await?)
}

fn parse_json<T: serde::de::DeserializeOwned>(key: &str, raw: &str) -> Option<T> {
    match serde_json::from_str(raw) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(key, error = %e, "skipping unreadable JSON in redis");
            None
        }
    }
}

#[async_trait]
impl Bus for RedisBus {
    async fn ping(&self) -> BusResult<()> {
        let mut conn = self.conn().await?;
        let _: String = ::redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }

    async fn alert_states(
        &self,
        alert_ids: &[i64],
    ) -> BusResult<BTreeMap<i64, BTreeMap<String, AlertStatus>>> {
        let mut conn = self.conn().await?;
        let mut pipe = ::redis::pipe();
        for id in alert_ids {
            pipe.smembers(self.keys.alert_raised_entities(*id));
        }
        let members: Vec<Vec<String>> = run_pipe(&pipe, &mut conn).await?;
        let pairs: Vec<(i64, String)> = alert_ids
            .iter()
            .zip(members)
            .flat_map(|(id, entities)| entities.into_iter().map(move |e| (*id, e)))
            .collect();
        let mut out: BTreeMap<i64, BTreeMap<String, AlertStatus>> = BTreeMap::new();
        if pairs.is_empty() {
            return Ok(out);
        }
        let mut pipe = ::redis::pipe();
        for (id, entity) in &pairs {
            pipe.get(self.keys.alert_state(*id, entity));
        }
        let states: Vec<Option<String>> = run_pipe(&pipe, &mut conn).await?;
        for ((id, entity), raw) in pairs.into_iter().zip(states) {
            // A worker may be between SADD and SET; skip until both exist.
            let Some(raw) = raw else { continue };
            if let Some(status) = parse_json(&self.keys.alert_state(id, &entity), &raw) {
                out.entry(id).or_default().insert(entity, status);
            }
        }
        Ok(out)
    }

    async fn raised_entities(&self, alert_id: i64) -> BusResult<BTreeSet<String>> {
        let mut conn = self.conn().await?;
        Ok(conn
            .smembers(self.keys.alert_raised_entities(alert_id))
            .await?)
    }

    async fn evaluated_entities(
        &self,
        alert_id: i64,
    ) -> BusResult<BTreeMap<String, Map<String, Value>>> {
        let mut conn = self.conn().await?;
        let key = self.keys.alert_evaluated_entities(alert_id);
        let raw: BTreeMap<String, String> = conn.hgetall(&key).await?;
        Ok(raw
            .into_iter()
            .map(|(entity, captures)| {
                let captures = parse_json(&key, &captures).unwrap_or_default();
                (entity, captures)
            })
            .collect())
    }

    async fn latest_results(
        &self,
        check_id: i64,
        entities: &[String],
    ) -> BusResult<BTreeMap<String, CheckResult>> {
        if entities.is_empty() {
            return Ok(BTreeMap::new());
        }
        let mut conn = self.conn().await?;
        let mut pipe = ::redis::pipe();
        for entity in entities {
            pipe.lindex(self.keys.check_results(check_id, entity), 0);
        }
        let raw: Vec<Option<String>> = run_pipe(&pipe, &mut conn).await?;
        Ok(entities
            .iter()
            .zip(raw)
            .filter_map(|(entity, raw)| {
                let key = self.keys.check_results(check_id, entity);
                raw.and_then(|r| parse_json(&key, &r))
                    .map(|result| (entity.clone(), result))
            })
            .collect())
    }

    async fn raised_alert_ids(&self) -> BusResult<BTreeSet<i64>> {
        let mut conn = self.conn().await?;
        let ids: Vec<String> = conn.smembers(self.keys.active_alerts()).await?;
        Ok(ids.iter().filter_map(|id| id.parse().ok()).collect())
    }

    async fn acknowledged_alert_ids(&self) -> BusResult<BTreeSet<i64>> {
        let mut conn = self.conn().await?;
        let ids: Vec<String> = conn.smembers(self.keys.alert_acks()).await?;
        Ok(ids.iter().filter_map(|id| id.parse().ok()).collect())
    }

    async fn platform_status(&self, queues: &[String]) -> BusResult<PlatformStatus> {
        let mut conn = self.conn().await?;
        let (alerts_active, mut names): (i64, Vec<String>) = ::redis::pipe()
            .scard(self.keys.active_alerts())
            .smembers(self.keys.metrics())
            .query_async(&mut conn)
            .await?;
        names.sort();
        let mut pipe = ::redis::pipe();
        for name in &names {
            pipe.get(self.keys.metrics_ts(name))
                .get(self.keys.metrics_check_count(name));
        }
        let queue_keys: Vec<String> = queues.iter().map(|q| self.keys.queue(q)).collect();
        for key in &queue_keys {
            pipe.llen(key);
        }
        let raw: Vec<::redis::Value> = run_pipe(&pipe, &mut conn).await?;
        let values: Vec<Value> = raw.into_iter().map(redis_to_json).collect();
        let number = |v: Option<&Value>| -> f64 {
            match v {
                Some(Value::String(s)) => s.parse().unwrap_or(0.0),
                Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
                _ => 0.0,
            }
        };
        let workers = names
            .iter()
            .enumerate()
            .map(|(i, name)| WorkerStatus {
                name: name.clone(),
                last_execution_time: number(values.get(2 * i)),
                check_invocations: number(values.get(2 * i + 1)) as i64,
            })
            .collect();
        let offset = 2 * names.len();
        let queues = queue_keys
            .into_iter()
            .enumerate()
            .map(|(i, name)| QueueStatus {
                name,
                size: number(values.get(offset + i)) as i64,
            })
            .collect();
        Ok(PlatformStatus {
            alerts_active,
            workers,
            queues,
        })
    }

    async fn mirror_downtimes(&self, downtimes: &[Downtime]) -> BusResult<()> {
        if downtimes.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn().await?;
        let mut pipe = ::redis::pipe();
        pipe.atomic();
        for d in downtimes {
            let json = serde_json::to_string(d).unwrap_or_default();
            pipe.sadd(self.keys.downtime_alerts(), d.alert_id)
                .ignore()
                .sadd(self.keys.downtime_entities(d.alert_id), &d.entity)
                .ignore()
                .hset(
                    self.keys.downtimes(d.alert_id, &d.entity),
                    d.id.to_string(),
                    json,
                )
                .ignore()
                .sadd(
                    self.keys.downtime_group(&d.group_id.to_string()),
                    d.id.to_string(),
                )
                .ignore();
        }
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    async fn unmirror_downtimes(&self, downtimes: &[Downtime]) -> BusResult<()> {
        if downtimes.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn().await?;
        let script = Script::new(UNMIRROR);
        for d in downtimes {
            script
                .key(self.keys.downtimes(d.alert_id, &d.entity))
                .key(self.keys.downtime_entities(d.alert_id))
                .key(self.keys.downtime_alerts())
                .key(self.keys.downtime_group(&d.group_id.to_string()))
                .arg(d.id.to_string())
                .arg(&d.entity)
                .arg(d.alert_id)
                .invoke_async::<i64>(&mut conn)
                .await?;
        }
        Ok(())
    }

    async fn downtime_mirror_version(&self) -> BusResult<Option<i64>> {
        let mut conn = self.conn().await?;
        let raw: Option<String> = conn.get(self.keys.downtime_mirror_marker()).await?;
        Ok(raw.and_then(|v| v.parse().ok()))
    }

    async fn mirrored_downtimes(&self) -> BusResult<Vec<Downtime>> {
        let mut conn = self.conn().await?;
        let alerts: Vec<i64> = conn.smembers(self.keys.downtime_alerts()).await?;
        let mut pipe = ::redis::pipe();
        for a in &alerts {
            pipe.smembers(self.keys.downtime_entities(*a));
        }
        let entities: Vec<Vec<String>> = run_pipe(&pipe, &mut conn).await?;
        let pairs: Vec<(i64, String)> = alerts
            .iter()
            .zip(entities)
            .flat_map(|(a, es)| es.into_iter().map(move |e| (*a, e)))
            .collect();
        let mut pipe = ::redis::pipe();
        for (a, e) in &pairs {
            pipe.hgetall(self.keys.downtimes(*a, e));
        }
        let stored: Vec<BTreeMap<String, String>> = run_pipe(&pipe, &mut conn).await?;
        Ok(pairs
            .iter()
            .zip(stored)
            .flat_map(|((a, e), hash)| {
                let key = self.keys.downtimes(*a, e);
                hash.into_values()
                    .filter_map(move |raw| parse_json::<Downtime>(&key, &raw))
            })
            .collect())
    }

    async fn set_downtime_mirror_version(&self, version: i64) -> BusResult<()> {
        let mut conn = self.conn().await?;
        let _: () = conn
            .set(self.keys.downtime_mirror_marker(), version)
            .await?;
        Ok(())
    }
}

fn redis_to_json(v: ::redis::Value) -> Value {
    match v {
        ::redis::Value::Int(i) => Value::from(i),
        ::redis::Value::BulkString(b) => Value::String(String::from_utf8_lossy(&b).into_owned()),
        ::redis::Value::SimpleString(s) => Value::String(s),
        ::redis::Value::Double(d) => Value::from(d),
        _ => Value::Null,
    }
}
