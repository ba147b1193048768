//! Check results, alert state and the downtime mirror, with ZMON's keys.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;
use std::sync::atomic::Ordering;

use ::redis::{AsyncCommands, Script};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use zmon_core::AlertStatus;
use zmon_core::downtime::Downtime;
use zmon_core::status::CheckResult;

use super::{RedisBus, parse_json, run_pipe};
use crate::{AlertTransition, BusError, BusResult, CheckRecord, ClaimedTask, RESULTS_KEPT};

/// Records one alert's verdict on one entity, as ZMON's worker does, in one
/// atomic step. `start_time` survives while the alert stays raised. The
/// state JSON arrives without `start_time`, which is appended here as text,
/// so numbers keep their exact form.
///
/// KEYS: raised set, evaluated hash, state, global set, notifications.
/// ARGV: entity, alert id, captures JSON, raised (1/0), state JSON, now.
const RECORD_ALERT_SOURCE: &str = r#"
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if ARGV[4] == '1' then
  local added = redis.call('SADD', KEYS[1], ARGV[1])
  local start = ARGV[6]
  if added == 0 then
    local prev = redis.call('GET', KEYS[3])
    if prev then
      local kept = string.match(prev, '"start_time":%s*([%-%d%.eE+]+)')
      if kept then start = kept end
    end
  end
  local global = redis.call('SADD', KEYS[4], ARGV[2])
  redis.call('SET', KEYS[3], string.sub(ARGV[5], 1, -2) .. ',"start_time":' .. start .. '}')
  return {added, global, start}
end
local removed = redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[3], KEYS[5])
local global = 0
if redis.call('SCARD', KEYS[1]) == 0 then global = redis.call('SREM', KEYS[4], ARGV[2]) end
return {removed, global, ''}
"#;

/// Forgets an alert on an entity entirely.
///
/// KEYS: raised set, evaluated hash, state, global set, notifications.
/// ARGV: entity, alert id.
const FORGET_ALERT_SOURCE: &str = r#"
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3], KEYS[5])
if redis.call('SCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[4], ARGV[2]) end
return 1
"#;

/// Removes one downtime and drops the index entries it leaves empty, in one
/// atomic step so that a concurrent add is never unindexed.
const UNMIRROR_SOURCE: &str = r#"
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

// Scripts are hashed once; redis-rs hashes on every `Script::new`.
static RECORD_ALERT: LazyLock<Script> = LazyLock::new(|| Script::new(RECORD_ALERT_SOURCE));
static FORGET_ALERT: LazyLock<Script> = LazyLock::new(|| Script::new(FORGET_ALERT_SOURCE));
static UNMIRROR: LazyLock<Script> = LazyLock::new(|| Script::new(UNMIRROR_SOURCE));

pub(super) async fn recent_results(
    bus: &RedisBus,
    check_id: i64,
    entity: &str,
    count: usize,
) -> BusResult<Vec<CheckResult>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let mut conn = bus.conn().await?;
    let key = bus.keys.check_results(check_id, entity);
    let raw: Vec<String> = conn.lrange(&key, 0, count as isize - 1).await?;
    Ok(raw.iter().filter_map(|r| parse_json(&key, r)).collect())
}

pub(super) async fn evaluated_entity_results(
    bus: &RedisBus,
    alert_id: i64,
    check_id: i64,
    count: usize,
) -> BusResult<Vec<(String, Vec<CheckResult>)>> {
    let mut conn = bus.conn().await?;
    let mut entities: Vec<String> = conn
        .hkeys(bus.keys.alert_evaluated_entities(alert_id))
        .await?;
    entities.sort();
    let mut pipe = ::redis::pipe();
    for e in &entities {
        pipe.lrange(
            bus.keys.check_results(check_id, e),
            0,
            count.max(1) as isize - 1,
        );
    }
    let raw: Vec<Vec<String>> = run_pipe(&pipe, &mut conn).await?;
    Ok(entities
        .into_iter()
        .zip(raw)
        .map(|(e, results)| {
            let key = bus.keys.check_results(check_id, &e);
            let parsed = results.iter().filter_map(|r| parse_json(&key, r)).collect();
            (e, parsed)
        })
        .collect())
}

pub(super) async fn task_context(
    bus: &RedisBus,
    check_id: i64,
    entity: &str,
    alert_ids: &[i64],
    history: usize,
) -> BusResult<(Vec<Vec<Downtime>>, Vec<CheckResult>)> {
    let mut conn = bus.conn().await?;
    let mut pipe = ::redis::pipe();
    for alert in alert_ids {
        pipe.hvals(bus.keys.downtimes(*alert, entity));
    }
    let results_key = bus.keys.check_results(check_id, entity);
    if history > 0 {
        pipe.lrange(&results_key, 0, history as isize - 1);
    }
    let mut raw: Vec<Vec<String>> = run_pipe(&pipe, &mut conn).await?;
    let previous = if history > 0 {
        raw.pop().unwrap_or_default()
    } else {
        Vec::new()
    };
    let downtimes = alert_ids
        .iter()
        .zip(raw)
        .map(|(alert, values)| {
            let key = bus.keys.downtimes(*alert, entity);
            values.iter().filter_map(|v| parse_json(&key, v)).collect()
        })
        .collect();
    let results = previous
        .iter()
        .filter_map(|r| parse_json(&results_key, r))
        .collect();
    Ok((downtimes, results))
}

pub(super) async fn record(
    bus: &RedisBus,
    record: &CheckRecord,
    claim: Option<&ClaimedTask>,
) -> BusResult<Vec<AlertTransition>> {
    let keys = &bus.keys;
    let mut conn = bus.conn().await?;
    let mut pipe = ::redis::pipe();
    let results = keys.check_results(record.check_id, &record.entity);
    pipe.lpush(&results, serde_json::to_string(&record.result)?)
        .ignore()
        .ltrim(&results, 0, RESULTS_KEPT as isize - 1)
        .ignore()
        .sadd(keys.checks(), record.check_id)
        .ignore()
        .sadd(keys.check_entities(record.check_id), &record.entity)
        .ignore();
    let now = format!("{:.6}", record.result.ts);
    let script: &Script = &RECORD_ALERT;
    for alert in &record.alerts {
        let state = match &alert.raised {
            Some(s) => state_without_start_time(s)?,
            None => String::new(),
        };
        let mut invocation = script.prepare_invoke();
        invocation
            .key(keys.alert_raised_entities(alert.alert_id))
            .key(keys.alert_evaluated_entities(alert.alert_id))
            .key(keys.alert_state(alert.alert_id, &record.entity))
            .key(keys.active_alerts())
            .key(keys.notifications(alert.alert_id, &record.entity))
            .arg(&record.entity)
            .arg(alert.alert_id)
            .arg(serde_json::to_string(&alert.captures)?)
            .arg(if alert.raised.is_some() { "1" } else { "0" })
            .arg(state)
            .arg(&now);
        pipe.invoke_script(&invocation);
    }
    if let Some(claim) = claim {
        pipe.lrem(
            bus.keys.queue_processing(&claim.queue, &claim.consumer),
            1,
            &claim.receipt,
        )
        .ignore();
    }
    // A pipeline cannot load a script itself: load it once, and again if
    // Redis lost it (a restart), then retry. The retry may store the
    // result a second time; after a restart that loses nothing.
    if !record.alerts.is_empty() && !bus.scripts_loaded.load(Ordering::Relaxed) {
        script.prepare_invoke().load_async(&mut conn).await?;
        bus.scripts_loaded.store(true, Ordering::Relaxed);
    }
    let replies: Vec<(i64, i64, String)> = match run_pipe(&pipe, &mut conn).await {
        Err(BusError::Redis(e))
            if e.kind() == ::redis::ErrorKind::Server(::redis::ServerErrorKind::NoScript) =>
        {
            script.prepare_invoke().load_async(&mut conn).await?;
            run_pipe(&pipe, &mut conn).await?
        }
        other => other?,
    };
    Ok(record
        .alerts
        .iter()
        .zip(replies)
        .map(
            |(alert, (entity_changed, alert_changed, start))| AlertTransition {
                alert_id: alert.alert_id,
                entity_changed: entity_changed == 1,
                alert_changed: alert_changed == 1,
                start_time: start.parse().ok(),
            },
        )
        .collect())
}

/// The state as JSON without `start_time`, which the script appends.
fn state_without_start_time(state: &AlertStatus) -> BusResult<String> {
    let mut value = serde_json::to_value(state)?;
    if let Value::Object(map) = &mut value {
        map.remove("start_time");
    }
    Ok(serde_json::to_string(&value)?)
}

pub(super) async fn forget_check_entity(
    bus: &RedisBus,
    check_id: i64,
    entity: &str,
) -> BusResult<()> {
    let mut conn = bus.conn().await?;
    let mut pipe = ::redis::pipe();
    pipe.del(bus.keys.check_results(check_id, entity))
        .ignore()
        .srem(bus.keys.check_entities(check_id), entity)
        .ignore();
    run_pipe::<()>(&pipe, &mut conn).await
}

pub(super) async fn forget_alert_entity(
    bus: &RedisBus,
    alert_id: i64,
    entity: &str,
) -> BusResult<()> {
    let keys = &bus.keys;
    let mut conn = bus.conn().await?;
    let _: i64 = FORGET_ALERT
        .key(keys.alert_raised_entities(alert_id))
        .key(keys.alert_evaluated_entities(alert_id))
        .key(keys.alert_state(alert_id, entity))
        .key(keys.active_alerts())
        .key(keys.notifications(alert_id, entity))
        .arg(entity)
        .arg(alert_id)
        .invoke_async(&mut conn)
        .await?;
    Ok(())
}

/// Keys per MGET: large enough that a dashboard's request is one or two
/// commands, small enough that one command never blocks Redis for long.
const MGET_CHUNK: usize = 500;

/// The stored state document of every entity each alert is raised on, as
/// (alert, entity, JSON) in the order of `alert_ids`. Two round trips: the
/// raised sets, then the documents in chunked MGETs.
async fn raised_state_documents(
    bus: &RedisBus,
    alert_ids: &[i64],
) -> BusResult<Vec<(i64, String, String)>> {
    let mut conn = bus.conn().await?;
    let mut pipe = ::redis::pipe();
    for id in alert_ids {
        pipe.smembers(bus.keys.alert_raised_entities(*id));
    }
    let members: Vec<Vec<String>> = run_pipe(&pipe, &mut conn).await?;
    let pairs: Vec<(i64, String)> = alert_ids
        .iter()
        .zip(members)
        .flat_map(|(id, entities)| entities.into_iter().map(move |e| (*id, e)))
        .collect();
    let mut pipe = ::redis::pipe();
    for chunk in pairs.chunks(MGET_CHUNK) {
        let keys: Vec<String> = chunk
            .iter()
            .map(|(id, entity)| bus.keys.alert_state(*id, entity))
            .collect();
        pipe.mget(keys);
    }
    let chunks: Vec<Vec<Option<String>>> = run_pipe(&pipe, &mut conn).await?;
    Ok(pairs
        .into_iter()
        .zip(chunks.into_iter().flatten())
        // A writer may be between SADD and SET; skip until both exist.
        .filter_map(|((id, entity), raw)| raw.map(|raw| (id, entity, raw)))
        .collect())
}

pub(super) async fn alert_states(
    bus: &RedisBus,
    alert_ids: &[i64],
) -> BusResult<BTreeMap<i64, BTreeMap<String, AlertStatus>>> {
    let mut out: BTreeMap<i64, BTreeMap<String, AlertStatus>> = BTreeMap::new();
    for (id, entity, raw) in raised_state_documents(bus, alert_ids).await? {
        if let Some(status) = parse_json(&bus.keys.alert_state(id, &entity), &raw) {
            out.entry(id).or_default().insert(entity, status);
        }
    }
    Ok(out)
}

pub(super) async fn alert_states_json(
    bus: &RedisBus,
    alert_ids: &[i64],
) -> BusResult<BTreeMap<i64, BTreeMap<String, Box<RawValue>>>> {
    let mut out: BTreeMap<i64, BTreeMap<String, Box<RawValue>>> = BTreeMap::new();
    for (id, entity, raw) in raised_state_documents(bus, alert_ids).await? {
        let key = || bus.keys.alert_state(id, &entity);
        match RawValue::from_string(raw) {
            Ok(doc) if doc.get().starts_with('{') => {
                out.entry(id).or_default().insert(entity, doc);
            }
            Ok(_) => tracing::warn!(key = key(), "skipping alert state that is not an object"),
            Err(e) => tracing::warn!(key = key(), error = %e, "skipping unreadable JSON in redis"),
        }
    }
    Ok(out)
}

pub(super) async fn raised_entities(bus: &RedisBus, alert_id: i64) -> BusResult<BTreeSet<String>> {
    let mut conn = bus.conn().await?;
    Ok(conn
        .smembers(bus.keys.alert_raised_entities(alert_id))
        .await?)
}

pub(super) async fn evaluated_entities(
    bus: &RedisBus,
    alert_id: i64,
) -> BusResult<BTreeMap<String, Map<String, Value>>> {
    let mut conn = bus.conn().await?;
    let key = bus.keys.alert_evaluated_entities(alert_id);
    let raw: BTreeMap<String, String> = conn.hgetall(&key).await?;
    Ok(raw
        .into_iter()
        .map(|(entity, captures)| {
            let captures = parse_json(&key, &captures).unwrap_or_default();
            (entity, captures)
        })
        .collect())
}

pub(super) async fn latest_results(
    bus: &RedisBus,
    check_id: i64,
    entities: &[String],
) -> BusResult<BTreeMap<String, CheckResult>> {
    let mut conn = bus.conn().await?;
    let mut pipe = ::redis::pipe();
    for entity in entities {
        pipe.lindex(bus.keys.check_results(check_id, entity), 0);
    }
    let raw: Vec<Option<String>> = run_pipe(&pipe, &mut conn).await?;
    Ok(entities
        .iter()
        .zip(raw)
        .filter_map(|(entity, raw)| {
            let key = bus.keys.check_results(check_id, entity);
            raw.and_then(|r| parse_json(&key, &r))
                .map(|result| (entity.clone(), result))
        })
        .collect())
}

pub(super) async fn id_set(bus: &RedisBus, key: &str) -> BusResult<BTreeSet<i64>> {
    let mut conn = bus.conn().await?;
    let ids: Vec<String> = conn.smembers(key).await?;
    Ok(ids.iter().filter_map(|id| id.parse().ok()).collect())
}

pub(super) async fn mirror_downtimes(bus: &RedisBus, downtimes: &[Downtime]) -> BusResult<()> {
    if downtimes.is_empty() {
        return Ok(());
    }
    let keys = &bus.keys;
    let mut conn = bus.conn().await?;
    let mut pipe = ::redis::pipe();
    pipe.atomic();
    for d in downtimes {
        pipe.sadd(keys.downtime_alerts(), d.alert_id)
            .ignore()
            .sadd(keys.downtime_entities(d.alert_id), &d.entity)
            .ignore()
            .hset(
                keys.downtimes(d.alert_id, &d.entity),
                d.id.to_string(),
                serde_json::to_string(d)?,
            )
            .ignore()
            .sadd(
                keys.downtime_group(&d.group_id.to_string()),
                d.id.to_string(),
            )
            .ignore();
    }
    run_pipe::<()>(&pipe, &mut conn).await
}

pub(super) async fn unmirror_downtimes(bus: &RedisBus, downtimes: &[Downtime]) -> BusResult<()> {
    let keys = &bus.keys;
    let mut conn = bus.conn().await?;
    let script: &Script = &UNMIRROR;
    for d in downtimes {
        let _: i64 = script
            .key(keys.downtimes(d.alert_id, &d.entity))
            .key(keys.downtime_entities(d.alert_id))
            .key(keys.downtime_alerts())
            .key(keys.downtime_group(&d.group_id.to_string()))
            .arg(d.id.to_string())
            .arg(&d.entity)
            .arg(d.alert_id)
            .invoke_async(&mut conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn downtime_mirror_version(bus: &RedisBus) -> BusResult<Option<i64>> {
    let mut conn = bus.conn().await?;
    let raw: Option<String> = conn.get(bus.keys.downtime_mirror_marker()).await?;
    Ok(raw.and_then(|v| v.parse().ok()))
}

pub(super) async fn set_downtime_mirror_version(bus: &RedisBus, version: i64) -> BusResult<()> {
    let mut conn = bus.conn().await?;
    let _: () = conn.set(bus.keys.downtime_mirror_marker(), version).await?;
    Ok(())
}

pub(super) async fn mirrored_downtimes(bus: &RedisBus) -> BusResult<Vec<Downtime>> {
    let keys = &bus.keys;
    let mut conn = bus.conn().await?;
    let alerts: Vec<i64> = conn.smembers(keys.downtime_alerts()).await?;
    let mut pipe = ::redis::pipe();
    for a in &alerts {
        pipe.smembers(keys.downtime_entities(*a));
    }
    let entities: Vec<Vec<String>> = run_pipe(&pipe, &mut conn).await?;
    let pairs: Vec<(i64, String)> = alerts
        .iter()
        .zip(entities)
        .flat_map(|(a, es)| es.into_iter().map(move |e| (*a, e)))
        .collect();
    let mut pipe = ::redis::pipe();
    for (a, e) in &pairs {
        pipe.hvals(keys.downtimes(*a, e));
    }
    let stored: Vec<Vec<String>> = run_pipe(&pipe, &mut conn).await?;
    Ok(pairs
        .iter()
        .zip(stored)
        .flat_map(|((a, e), values)| {
            let key = keys.downtimes(*a, e);
            values
                .into_iter()
                .filter_map(move |raw| parse_json::<Downtime>(&key, &raw))
        })
        .collect())
}
