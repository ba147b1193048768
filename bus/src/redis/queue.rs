//! Task queues with at-least-once delivery.
//!
//! The scheduler appends to `zmon:queue:<q>` (a list, as in ZMON, so its
//! length is the backlog). A worker claims a task by moving it atomically
//! into its own `…:processing:<consumer>` list, and removes it from there
//! when done. A consumer keeps an `…:alive:<consumer>` key with a TTL; once
//! that expires, any worker hands the dead consumer's tasks back.

use std::time::Duration;

use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncCommands, Direction};
use async_trait::async_trait;
use zmon_core::Task;

use super::{RedisBus, run_pipe};
use crate::{BusResult, ClaimedTask, TaskConsumer};

/// How long a consumer counts as alive after it registers, until its first
/// explicit heartbeat.
const INITIAL_TTL: Duration = Duration::from_secs(30);

pub(super) async fn enqueue(bus: &RedisBus, queue: &str, tasks: &[Task]) -> BusResult<()> {
    if tasks.is_empty() {
        return Ok(());
    }
    let payloads: Vec<String> = tasks
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<_, _>>()?;
    let mut conn = bus.conn().await?;
    let _: () = conn.rpush(bus.keys.queue(queue), payloads).await?;
    Ok(())
}

pub(super) async fn keep_alive(
    bus: &RedisBus,
    queue: &str,
    consumer: &str,
    ttl: Duration,
) -> BusResult<()> {
    let mut conn = bus.conn().await?;
    let mut pipe = ::redis::pipe();
    pipe.sadd(bus.keys.queue_consumers(queue), consumer)
        .ignore()
        .pset_ex(
            bus.keys.queue_consumer_alive(queue, consumer),
            1,
            ttl.as_millis().max(1) as u64,
        )
        .ignore();
    run_pipe::<()>(&pipe, &mut conn).await
}

pub(super) async fn consumer(
    bus: &RedisBus,
    queue: &str,
    consumer: &str,
) -> BusResult<Box<dyn TaskConsumer>> {
    keep_alive(bus, queue, consumer, INITIAL_TTL).await?;
    Ok(Box::new(RedisConsumer {
        conn: bus.blocking_conn().await?,
        queue: queue.to_string(),
        consumer: consumer.to_string(),
        queue_key: bus.keys.queue(queue),
        processing_key: bus.keys.queue_processing(queue, consumer),
    }))
}

struct RedisConsumer {
    conn: MultiplexedConnection,
    queue: String,
    consumer: String,
    queue_key: String,
    processing_key: String,
}

#[async_trait]
impl TaskConsumer for RedisConsumer {
    async fn next(&mut self, wait: Duration) -> BusResult<Option<ClaimedTask>> {
        let seconds = wait.as_secs_f64().max(0.01);
        let raw: Option<String> = self
            .conn
            .blmove(
                &self.queue_key,
                &self.processing_key,
                Direction::Left,
                Direction::Right,
                seconds,
            )
            .await?;
        Ok(raw.map(|receipt| ClaimedTask {
            task: serde_json::from_str(&receipt).map_err(|e| e.to_string()),
            queue: self.queue.clone(),
            consumer: self.consumer.clone(),
            receipt,
        }))
    }
}

pub(super) async fn ack(bus: &RedisBus, task: &ClaimedTask) -> BusResult<()> {
    let mut conn = bus.conn().await?;
    let _: i64 = conn
        .lrem(
            bus.keys.queue_processing(&task.queue, &task.consumer),
            1,
            &task.receipt,
        )
        .await?;
    Ok(())
}

pub(super) async fn release(bus: &RedisBus, task: &ClaimedTask) -> BusResult<()> {
    let mut conn = bus.conn().await?;
    let mut pipe = ::redis::pipe();
    pipe.atomic()
        .lrem(
            bus.keys.queue_processing(&task.queue, &task.consumer),
            1,
            &task.receipt,
        )
        .ignore()
        // At the head: it was due first.
        .lpush(bus.keys.queue(&task.queue), &task.receipt)
        .ignore();
    run_pipe::<()>(&pipe, &mut conn).await
}

pub(super) async fn recover_abandoned(bus: &RedisBus, queue: &str) -> BusResult<usize> {
    let mut conn = bus.conn().await?;
    let consumers: Vec<String> = conn.smembers(bus.keys.queue_consumers(queue)).await?;
    let mut recovered = 0;
    for consumer in consumers {
        let alive: bool = conn
            .exists(bus.keys.queue_consumer_alive(queue, &consumer))
            .await?;
        if alive {
            continue;
        }
        let moved = move_back(bus, &mut conn, queue, &consumer).await?;
        let _: i64 = conn
            .srem(bus.keys.queue_consumers(queue), &consumer)
            .await?;
        if moved > 0 {
            tracing::info!(
                queue,
                consumer,
                moved,
                "handed back the tasks of a dead worker"
            );
        }
        recovered += moved;
    }
    Ok(recovered)
}

/// Moves everything `consumer` holds back to the head of the queue. Each
/// move is atomic, so two callers never hand back the same task twice.
async fn move_back(
    bus: &RedisBus,
    conn: &mut ::redis::aio::ConnectionManager,
    queue: &str,
    consumer: &str,
) -> BusResult<usize> {
    let processing = bus.keys.queue_processing(queue, consumer);
    let mut moved = 0;
    loop {
        let task: Option<String> = conn
            .lmove(
                &processing,
                bus.keys.queue(queue),
                Direction::Right,
                Direction::Left,
            )
            .await?;
        if task.is_none() {
            return Ok(moved);
        }
        moved += 1;
    }
}

pub(super) async fn hand_back(bus: &RedisBus, queue: &str, consumer: &str) -> BusResult<usize> {
    let mut conn = bus.conn().await?;
    let moved = move_back(bus, &mut conn, queue, consumer).await?;
    if moved > 0 {
        tracing::info!(queue, consumer, moved, "handed tasks back to the queue");
    }
    Ok(moved)
}

pub(super) async fn length(bus: &RedisBus, queue: &str) -> BusResult<i64> {
    let mut conn = bus.conn().await?;
    Ok(conn.llen(bus.keys.queue(queue)).await?)
}
