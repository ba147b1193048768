//! Alert state changes on a Redis stream, read by a consumer group.

use std::time::Duration;

use ::redis::aio::MultiplexedConnection;
use ::redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamReadOptions, StreamReadReply,
};
use ::redis::{AsyncCommands, ErrorKind};
use async_trait::async_trait;
use zmon_core::event::AlertEvent;

use super::{RedisBus, run_pipe};
use crate::{BusResult, EventConsumer};

/// The stream keeps about this many events; the controller normally reads
/// them within a second.
const MAX_LENGTH: usize = 100_000;
/// Events a consumer took but did not acknowledge for this long go to
/// another consumer of the group.
const CLAIM_AFTER: Duration = Duration::from_secs(60);

pub(super) async fn publish(bus: &RedisBus, events: &[AlertEvent]) -> BusResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut conn = bus.conn().await?;
    let mut pipe = ::redis::pipe();
    for event in events {
        pipe.xadd_maxlen(
            bus.keys.events(),
            ::redis::streams::StreamMaxlen::Approx(MAX_LENGTH),
            "*",
            &[("event", serde_json::to_string(event)?)],
        )
        .ignore();
    }
    run_pipe::<()>(&pipe, &mut conn).await
}

pub(super) async fn consumer(
    bus: &RedisBus,
    group: &str,
    consumer: &str,
) -> BusResult<Box<dyn EventConsumer>> {
    let mut conn = bus.blocking_conn().await?;
    let created: Result<(), _> = conn
        .xgroup_create_mkstream(bus.keys.events(), group, "0")
        .await;
    if let Err(e) = created
        && !e.to_string().contains("BUSYGROUP")
        && e.kind() != ErrorKind::Extension
    {
        return Err(e.into());
    }
    Ok(Box::new(RedisEventConsumer {
        conn,
        key: bus.keys.events(),
        group: group.to_string(),
        consumer: consumer.to_string(),
    }))
}

struct RedisEventConsumer {
    conn: MultiplexedConnection,
    key: String,
    group: String,
    consumer: String,
}

fn decode(entry: StreamId) -> (String, Result<AlertEvent, String>) {
    let parsed = match entry.map.get("event") {
        Some(::redis::Value::BulkString(bytes)) => {
            serde_json::from_slice(bytes).map_err(|e| format!("unreadable event: {e}"))
        }
        _ => Err("an event without payload".to_string()),
    };
    (entry.id, parsed)
}

#[async_trait]
impl EventConsumer for RedisEventConsumer {
    async fn next(
        &mut self,
        max: usize,
        wait: Duration,
    ) -> BusResult<Vec<(String, Result<AlertEvent, String>)>> {
        // Events a dead consumer left unacknowledged come first.
        let claimed: StreamAutoClaimReply = self
            .conn
            .xautoclaim_options(
                &self.key,
                &self.group,
                &self.consumer,
                CLAIM_AFTER.as_millis() as usize,
                "0-0",
                StreamAutoClaimOptions::default().count(max),
            )
            .await?;
        if !claimed.claimed.is_empty() {
            return Ok(claimed.claimed.into_iter().map(decode).collect());
        }
        let options = StreamReadOptions::default()
            .group(&self.group, &self.consumer)
            .count(max)
            .block(wait.as_millis().max(1) as usize);
        let reply: Option<StreamReadReply> = self
            .conn
            .xread_options(&[&self.key], &[">"], &options)
            .await?;
        Ok(reply
            .into_iter()
            .flat_map(|r| r.keys)
            .flat_map(|k| k.ids)
            .map(decode)
            .collect())
    }

    async fn ack(&mut self, ids: &[String]) -> BusResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let _: i64 = self.conn.xack(&self.key, &self.group, ids).await?;
        Ok(())
    }
}
