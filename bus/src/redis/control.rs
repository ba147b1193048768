//! Heartbeats, platform status, trial runs, instant evaluation and
//! leadership.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use ::redis::{AsyncCommands, Script};
use zmon_core::task::TrialResult;

use super::{RedisBus, parse_json, run_pipe};
use crate::{BusResult, PlatformStatus, QueueStatus, WorkerStatus};

/// Takes the lead if nobody has it, or keeps it if we have it.
const LEAD_SOURCE: &str = r#"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"#;

const RESIGN_SOURCE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"#;

// Scripts are hashed once; redis-rs hashes on every `Script::new`.
static LEAD: LazyLock<Script> = LazyLock::new(|| Script::new(LEAD_SOURCE));
static RESIGN: LazyLock<Script> = LazyLock::new(|| Script::new(RESIGN_SOURCE));

pub(super) async fn heartbeat(
    bus: &RedisBus,
    name: &str,
    checks_run: u64,
    now: f64,
) -> BusResult<()> {
    let mut conn = bus.conn().await?;
    let mut pipe = ::redis::pipe();
    pipe.sadd(bus.keys.metrics(), name)
        .ignore()
        .set(bus.keys.metrics_ts(name), now)
        .ignore();
    if checks_run > 0 {
        pipe.incr(bus.keys.metrics_check_count(name), checks_run)
            .ignore();
    }
    run_pipe::<()>(&pipe, &mut conn).await
}

pub(super) async fn platform_status(
    bus: &RedisBus,
    queues: &[String],
) -> BusResult<PlatformStatus> {
    let keys = &bus.keys;
    let mut conn = bus.conn().await?;
    let (alerts_active, mut names): (i64, Vec<String>) = ::redis::pipe()
        .scard(keys.active_alerts())
        .smembers(keys.metrics())
        .query_async(&mut conn)
        .await?;
    names.sort();
    let mut pipe = ::redis::pipe();
    for name in &names {
        pipe.get(keys.metrics_ts(name))
            .get(keys.metrics_check_count(name));
    }
    let queue_keys: Vec<String> = queues.iter().map(|q| keys.queue(q)).collect();
    for key in &queue_keys {
        pipe.llen(key);
    }
    let raw: Vec<::redis::Value> = run_pipe(&pipe, &mut conn).await?;
    let number = |v: Option<&::redis::Value>| -> f64 {
        match v {
            Some(::redis::Value::BulkString(b)) => {
                String::from_utf8_lossy(b).parse().unwrap_or(0.0)
            }
            Some(::redis::Value::Int(i)) => *i as f64,
            Some(::redis::Value::Double(d)) => *d,
            _ => 0.0,
        }
    };
    let workers = names
        .iter()
        .enumerate()
        .map(|(i, name)| WorkerStatus {
            name: name.clone(),
            last_execution_time: number(raw.get(2 * i)),
            check_invocations: number(raw.get(2 * i + 1)) as i64,
        })
        .collect();
    let offset = 2 * names.len();
    let queues = queue_keys
        .into_iter()
        .enumerate()
        .map(|(i, name)| QueueStatus {
            name,
            size: number(raw.get(offset + i)) as i64,
        })
        .collect();
    Ok(PlatformStatus {
        alerts_active,
        workers,
        queues,
    })
}

pub(super) async fn start_trial_run(
    bus: &RedisBus,
    id: &str,
    entities: &[String],
    ttl: Duration,
) -> BusResult<()> {
    let mut conn = bus.conn().await?;
    let key = bus.keys.trial_run(id);
    let mut pipe = ::redis::pipe();
    pipe.atomic().del(&key).ignore();
    if !entities.is_empty() {
        pipe.sadd(&key, entities).ignore();
    } else {
        // An empty set cannot exist; a marker keeps the run known.
        pipe.sadd(&key, "").ignore();
    }
    pipe.expire(&key, ttl.as_secs() as i64).ignore();
    run_pipe::<()>(&pipe, &mut conn).await
}

pub(super) async fn record_trial_result(
    bus: &RedisBus,
    id: &str,
    result: &TrialResult,
    ttl: Duration,
) -> BusResult<()> {
    let mut conn = bus.conn().await?;
    let key = bus.keys.trial_run_results(id);
    let mut pipe = ::redis::pipe();
    pipe.hset(&key, &result.entity, serde_json::to_string(result)?)
        .ignore()
        .expire(&key, ttl.as_secs() as i64)
        .ignore();
    run_pipe::<()>(&pipe, &mut conn).await
}

pub(super) async fn trial_run(
    bus: &RedisBus,
    id: &str,
) -> BusResult<Option<(usize, Vec<TrialResult>)>> {
    let mut conn = bus.conn().await?;
    let (entities, results): (Vec<String>, BTreeMap<String, String>) = ::redis::pipe()
        .smembers(bus.keys.trial_run(id))
        .hgetall(bus.keys.trial_run_results(id))
        .query_async(&mut conn)
        .await?;
    if entities.is_empty() && results.is_empty() {
        return Ok(None);
    }
    let expected = entities.iter().filter(|e| !e.is_empty()).count();
    let key = bus.keys.trial_run_results(id);
    let results = results
        .values()
        .filter_map(|raw| parse_json::<TrialResult>(&key, raw))
        .collect();
    Ok(Some((expected, results)))
}

pub(super) async fn request_instant_evaluation(bus: &RedisBus, check_id: i64) -> BusResult<()> {
    let mut conn = bus.conn().await?;
    let _: () = conn.rpush(bus.keys.instant_evaluations(), check_id).await?;
    Ok(())
}

pub(super) async fn take_instant_evaluations(bus: &RedisBus) -> BusResult<Vec<i64>> {
    let mut conn = bus.conn().await?;
    let key = bus.keys.instant_evaluations();
    let (ids,): (Vec<String>,) = ::redis::pipe()
        .atomic()
        .lrange(&key, 0, -1)
        .del(&key)
        .ignore()
        .query_async(&mut conn)
        .await?;
    Ok(ids.iter().filter_map(|s| s.parse().ok()).collect())
}

pub(super) async fn lead(
    bus: &RedisBus,
    role: &str,
    holder: &str,
    ttl: Duration,
) -> BusResult<bool> {
    let mut conn = bus.conn().await?;
    let led: i64 = LEAD
        .key(bus.keys.leader(role))
        .arg(holder)
        .arg(ttl.as_millis().max(1) as u64)
        .invoke_async(&mut conn)
        .await?;
    Ok(led == 1)
}

pub(super) async fn resign(bus: &RedisBus, role: &str, holder: &str) -> BusResult<()> {
    let mut conn = bus.conn().await?;
    let _: i64 = RESIGN
        .key(bus.keys.leader(role))
        .arg(holder)
        .invoke_async(&mut conn)
        .await?;
    Ok(())
}
