//! Notification marks: ZMON's `zmon:notifications:<alert>:<entity>` hash
//! (entry → next repeat time), plus `zmon:notifications:<alert>` for
//! entries that notify per alert.

use std::collections::BTreeMap;

use ::redis::AsyncCommands;

use super::{RedisBus, run_pipe};
use crate::BusResult;

fn key(bus: &RedisBus, alert_id: i64, scope: &str) -> String {
    if scope.is_empty() {
        bus.keys.alert_notifications(alert_id)
    } else {
        bus.keys.notifications(alert_id, scope)
    }
}

pub(super) async fn marks(
    bus: &RedisBus,
    alert_id: i64,
    scope: &str,
) -> BusResult<BTreeMap<String, f64>> {
    let mut conn = bus.conn().await?;
    let raw: BTreeMap<String, String> = conn.hgetall(key(bus, alert_id, scope)).await?;
    Ok(raw
        .into_iter()
        .map(|(field, value)| (field, value.parse().unwrap_or(0.0)))
        .collect())
}

pub(super) async fn update_marks(
    bus: &RedisBus,
    alert_id: i64,
    scope: &str,
    set: &[(String, f64)],
    remove: &[String],
) -> BusResult<()> {
    if set.is_empty() && remove.is_empty() {
        return Ok(());
    }
    let key = key(bus, alert_id, scope);
    let mut pipe = ::redis::pipe();
    pipe.atomic();
    if !remove.is_empty() {
        pipe.hdel(&key, remove).ignore();
    }
    for (field, value) in set {
        pipe.hset(&key, field, format!("{value:.6}")).ignore();
    }
    let mut conn = bus.conn().await?;
    run_pipe::<()>(&pipe, &mut conn).await
}
