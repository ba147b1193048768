//! Redis streams read by consumer groups: alert state changes
//! (`zmon:events`, field `event`) and monitor probe samples
//! (`zmon:probe-samples`, field `sample`).

use std::time::Duration;

use ::redis::aio::MultiplexedConnection;
use ::redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamReadOptions, StreamReadReply,
};
use ::redis::{AsyncCommands, ErrorKind};
use std::marker::PhantomData;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{RedisBus, run_pipe};
use crate::{BusResult, StreamConsumer};

/// One stream: its key and the field its entries carry their JSON in.
#[derive(Debug, Clone)]
pub(super) struct StreamKey {
    pub key: String,
    pub field: &'static str,
}

/// A stream keeps about this many entries; the controller normally reads
/// them within a second.
const MAX_LENGTH: usize = 100_000;
/// Events a consumer took but did not acknowledge for this long go to
/// another consumer of the group.
const CLAIM_AFTER: Duration = Duration::from_secs(60);

pub(super) async fn publish<T: Serialize>(
    bus: &RedisBus,
    stream: &StreamKey,
    entries: &[T],
) -> BusResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut conn = bus.conn().await?;
    let mut pipe = ::redis::pipe();
    for entry in entries {
        pipe.xadd_maxlen(
            &stream.key,
            ::redis::streams::StreamMaxlen::Approx(MAX_LENGTH),
            "*",
            &[(stream.field, serde_json::to_string(entry)?)],
        )
        .ignore();
    }
    run_pipe::<()>(&pipe, &mut conn).await
}

pub(super) async fn consumer<T: DeserializeOwned + Send + 'static>(
    bus: &RedisBus,
    stream: StreamKey,
    group: &str,
    consumer: &str,
) -> BusResult<Box<dyn StreamConsumer<T>>> {
    let mut conn = bus.blocking_conn().await?;
    let created: Result<(), _> = conn.xgroup_create_mkstream(&stream.key, group, "0").await;
    if let Err(e) = created
        && !e.to_string().contains("BUSYGROUP")
        && e.kind() != ErrorKind::Extension
    {
        return Err(e.into());
    }
    Ok(Box::new(RedisStreamConsumer {
        conn,
        key: stream.key,
        field: stream.field,
        group: group.to_string(),
        consumer: consumer.to_string(),
        entries: PhantomData,
    }))
}

struct RedisStreamConsumer<T> {
    conn: MultiplexedConnection,
    key: String,
    field: &'static str,
    group: String,
    consumer: String,
    entries: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> RedisStreamConsumer<T> {
    fn decode(&self, entry: StreamId) -> (String, Result<T, String>) {
        let parsed = match entry.map.get(self.field) {
            Some(::redis::Value::BulkString(bytes)) => {
                serde_json::from_slice(bytes).map_err(|e| format!("unreadable {}: {e}", self.field))
            }
            _ => Err(format!("an entry without its {}", self.field)),
        };
        (entry.id, parsed)
    }
}

#[async_trait]
impl<T: DeserializeOwned + Send + 'static> StreamConsumer<T> for RedisStreamConsumer<T> {
    async fn next(
        &mut self,
        max: usize,
        wait: Duration,
    ) -> BusResult<Vec<(String, Result<T, String>)>> {
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
            return Ok(claimed
                .claimed
                .into_iter()
                .map(|e| self.decode(e))
                .collect());
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
            .map(|e| self.decode(e))
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
