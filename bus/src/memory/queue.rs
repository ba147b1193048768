//! Task queues with at-least-once delivery, as in `redis::queue`.
//!
//! A claimed task moves into its consumer's processing list and stays
//! there until acknowledged or released. A consumer that stops renewing its
//! liveness has its tasks handed back by `recover_abandoned`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;
use zmon_core::{KeySpace, Task};

use super::{Shared, lock};
use crate::{BusResult, ClaimedTask, QueueStatus, TaskConsumer};

/// How long a consumer counts as alive after it registers, until its first
/// explicit heartbeat (as with Redis).
const INITIAL_TTL: Duration = Duration::from_secs(30);

pub(super) struct Queues {
    queues: Mutex<HashMap<String, Queue>>,
    max_length: usize,
}

/// A task and its receipt, which identifies it while it is queued or
/// claimed (the same task enqueued twice gets two receipts).
struct Entry {
    receipt: String,
    task: Task,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Entry>,
    /// Claimed tasks per consumer, oldest claim first.
    processing: HashMap<String, Vec<Entry>>,
    /// Registered consumers and when their liveness ends.
    alive_until: HashMap<String, Instant>,
    /// Woken whenever tasks become claimable.
    ready: Arc<Notify>,
    next_receipt: u64,
    /// Set while the queue overflows, so the overflow is logged once.
    overflowing: bool,
}

impl Queue {
    /// Puts a consumer's claimed tasks back at the head, in claim order:
    /// they were due first.
    fn move_back(&mut self, consumer: &str) -> usize {
        let Some(held) = self.processing.remove(consumer) else {
            return 0;
        };
        let moved = held.len();
        for entry in held.into_iter().rev() {
            self.waiting.push_front(entry);
        }
        if moved > 0 {
            self.ready.notify_waiters();
        }
        moved
    }
}

impl Queues {
    pub(super) fn new(max_length: usize) -> Self {
        Self {
            queues: Mutex::default(),
            // A zero bound would drop every task.
            max_length: max_length.max(1),
        }
    }

    pub(super) fn enqueue(&self, name: &str, tasks: &[Task]) {
        if tasks.is_empty() {
            return;
        }
        let mut queues = lock(&self.queues);
        let queue = queues.entry(name.to_string()).or_default();
        for task in tasks {
            queue.next_receipt += 1;
            queue.waiting.push_back(Entry {
                receipt: queue.next_receipt.to_string(),
                task: task.clone(),
            });
        }
        let excess = queue.waiting.len().saturating_sub(self.max_length);
        if excess > 0 {
            queue.waiting.drain(..excess);
            if !queue.overflowing {
                tracing::warn!(
                    queue = name,
                    max_length = self.max_length,
                    dropped = excess,
                    "task queue full: dropping its oldest tasks until workers catch up"
                );
            }
            queue.overflowing = true;
        } else if queue.waiting.len() < self.max_length / 2 {
            queue.overflowing = false;
        }
        queue.ready.notify_waiters();
    }

    pub(super) fn keep_alive(&self, name: &str, consumer: &str, ttl: Duration) {
        let mut queues = lock(&self.queues);
        let queue = queues.entry(name.to_string()).or_default();
        queue
            .alive_until
            .insert(consumer.to_string(), Instant::now() + ttl);
    }

    /// Claims the oldest waiting task, or hands out the queue's wake-up
    /// signal to wait on.
    fn claim(&self, name: &str, consumer: &str) -> Result<ClaimedTask, Arc<Notify>> {
        let mut queues = lock(&self.queues);
        let queue = queues.entry(name.to_string()).or_default();
        let Some(entry) = queue.waiting.pop_front() else {
            return Err(Arc::clone(&queue.ready));
        };
        let claimed = ClaimedTask {
            task: Ok(entry.task.clone()),
            queue: name.to_string(),
            consumer: consumer.to_string(),
            receipt: entry.receipt.clone(),
        };
        queue
            .processing
            .entry(consumer.to_string())
            .or_default()
            .push(entry);
        Ok(claimed)
    }

    fn take_claim(&self, task: &ClaimedTask) -> Option<Entry> {
        let mut queues = lock(&self.queues);
        let held = queues
            .get_mut(&task.queue)?
            .processing
            .get_mut(&task.consumer)?;
        let at = held.iter().position(|e| e.receipt == task.receipt)?;
        Some(held.remove(at))
    }

    pub(super) fn ack(&self, task: &ClaimedTask) {
        // A task no longer held (handed back meanwhile) has nothing to finish.
        let _ = self.take_claim(task);
    }

    /// Unlike Redis, which pushes the payload back whether or not it was
    /// still held, a task that was handed back meanwhile is not queued a
    /// second time.
    pub(super) fn release(&self, task: &ClaimedTask) {
        let mut queues = lock(&self.queues);
        let Some(queue) = queues.get_mut(&task.queue) else {
            return;
        };
        let Some(held) = queue.processing.get_mut(&task.consumer) else {
            return;
        };
        let Some(at) = held.iter().position(|e| e.receipt == task.receipt) else {
            return;
        };
        let entry = held.remove(at);
        queue.waiting.push_front(entry);
        queue.ready.notify_waiters();
    }

    pub(super) fn recover_abandoned(&self, name: &str) -> usize {
        let mut queues = lock(&self.queues);
        let Some(queue) = queues.get_mut(name) else {
            return 0;
        };
        let now = Instant::now();
        let dead: Vec<String> = queue
            .alive_until
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(consumer, _)| consumer.clone())
            .collect();
        let mut recovered = 0;
        for consumer in dead {
            queue.alive_until.remove(&consumer);
            let moved = queue.move_back(&consumer);
            if moved > 0 {
                tracing::info!(
                    queue = name,
                    consumer,
                    moved,
                    "handed back the tasks of a dead worker"
                );
            }
            recovered += moved;
        }
        recovered
    }

    pub(super) fn hand_back(&self, name: &str, consumer: &str) -> usize {
        let mut queues = lock(&self.queues);
        let Some(queue) = queues.get_mut(name) else {
            return 0;
        };
        let moved = queue.move_back(consumer);
        if moved > 0 {
            tracing::info!(
                queue = name,
                consumer,
                moved,
                "handed tasks back to the queue"
            );
        }
        moved
    }

    pub(super) fn length(&self, name: &str) -> usize {
        lock(&self.queues).get(name).map_or(0, |q| q.waiting.len())
    }

    /// Named by their Redis keys, as `RedisBus` reports them.
    pub(super) fn status(&self, names: &[String]) -> Vec<QueueStatus> {
        let keys = KeySpace::default();
        let queues = lock(&self.queues);
        names
            .iter()
            .map(|name| QueueStatus {
                name: keys.queue(name),
                size: queues.get(name).map_or(0, |q| q.waiting.len()) as i64,
            })
            .collect()
    }
}

pub(super) struct MemoryConsumer {
    shared: Arc<Shared>,
    queue: String,
    consumer: String,
}

impl MemoryConsumer {
    pub(super) fn new(shared: Arc<Shared>, queue: &str, consumer: &str) -> Self {
        shared.queues.keep_alive(queue, consumer, INITIAL_TTL);
        Self {
            shared,
            queue: queue.to_string(),
            consumer: consumer.to_string(),
        }
    }
}

#[async_trait]
impl TaskConsumer for MemoryConsumer {
    async fn next(&mut self, wait: Duration) -> BusResult<Option<ClaimedTask>> {
        let deadline = Instant::now() + wait;
        loop {
            let ready = match self.shared.queues.claim(&self.queue, &self.consumer) {
                Ok(claimed) => return Ok(Some(claimed)),
                Err(ready) => ready,
            };
            let notified = ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // A task may have arrived between the look and the enable.
            if let Ok(claimed) = self.shared.queues.claim(&self.queue, &self.consumer) {
                return Ok(Some(claimed));
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(None);
            }
        }
    }
}
