//! Host registrations (a hash, one field per host) and host status (a key
//! per host with a TTL, so a host that stops reporting fades out).

use std::collections::BTreeMap;
use std::time::Duration;

use ::redis::AsyncCommands;
use zmon_core::host::{HostRegistration, HostReport};

use super::{RedisBus, parse_json};
use crate::BusResult;

pub(super) async fn register(bus: &RedisBus, registration: &HostRegistration) -> BusResult<()> {
    let payload = serde_json::to_string(registration)?;
    let mut conn = bus.conn().await?;
    let _: () = conn
        .hset(bus.keys.host_registrations(), &registration.id, payload)
        .await?;
    Ok(())
}

pub(super) async fn registrations(bus: &RedisBus) -> BusResult<Vec<HostRegistration>> {
    let key = bus.keys.host_registrations();
    let mut conn = bus.conn().await?;
    let raw: BTreeMap<String, String> = conn.hgetall(&key).await?;
    Ok(raw
        .values()
        .filter_map(|payload| parse_json(&key, payload))
        .collect())
}

pub(super) async fn report_status(
    bus: &RedisBus,
    report: &HostReport,
    ttl: Duration,
) -> BusResult<()> {
    let payload = serde_json::to_string(report)?;
    let mut conn = bus.conn().await?;
    let _: () = conn
        .set_ex(
            bus.keys.host_status(&report.id),
            payload,
            ttl.as_secs().max(1),
        )
        .await?;
    Ok(())
}

pub(super) async fn reports(
    bus: &RedisBus,
    ids: &[String],
) -> BusResult<BTreeMap<String, HostReport>> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let keys: Vec<String> = ids.iter().map(|id| bus.keys.host_status(id)).collect();
    let mut conn = bus.conn().await?;
    let raw: Vec<Option<String>> = ::redis::cmd("MGET")
        .arg(&keys)
        .query_async(&mut conn)
        .await?;
    Ok(ids
        .iter()
        .zip(keys.iter().zip(raw))
        .filter_map(|(id, (key, payload))| {
            let report: HostReport = parse_json(key, payload.as_deref()?)?;
            Some((id.clone(), report))
        })
        .collect())
}
