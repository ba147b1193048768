//! A stream for consumer groups (alert events, probe samples), like the
//! Redis stream: each group
//! sees every event, one consumer of the group takes it, and an event taken
//! but not acknowledged within `claim_after` goes to the next consumer of
//! the group that reads.
//!
//! Unlike the Redis stream, events every group has acknowledged are
//! dropped at once, so memory holds only the backlog. Events published
//! before any group exists are kept (up to the bound) for the first one.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::lock;
use crate::{BusResult, StreamConsumer};

pub(super) struct Events<T> {
    stream: Mutex<Stream<T>>,
    /// Woken whenever events are published.
    published: Notify,
    max_length: usize,
    claim_after: Duration,
}

struct Stream<T> {
    /// Oldest first, by sequence number.
    entries: VecDeque<(u64, T)>,
    last_sequence: u64,
    groups: HashMap<String, Group>,
    /// Set while the stream overflows, so the overflow is logged once.
    overflowing: bool,
}

#[derive(Default)]
struct Group {
    /// The newest event handed to a consumer of the group.
    last_delivered: u64,
    /// Events delivered and not acknowledged: who has each, since when.
    pending: BTreeMap<u64, (String, Instant)>,
}

type Delivery<T> = (String, Result<T, String>);

impl<T> Default for Stream<T> {
    fn default() -> Self {
        Self {
            entries: VecDeque::new(),
            last_sequence: 0,
            groups: HashMap::new(),
            overflowing: false,
        }
    }
}

impl<T: Clone> Stream<T> {
    fn event(&self, sequence: u64) -> Option<&T> {
        let first = self.entries.front()?.0;
        let at = usize::try_from(sequence.checked_sub(first)?).ok()?;
        self.entries.get(at).map(|(_, e)| e)
    }

    /// The oldest sequence number some group may still need.
    fn oldest_needed(&self) -> u64 {
        self.groups
            .values()
            .map(|g| {
                g.pending
                    .keys()
                    .next()
                    .copied()
                    .unwrap_or(g.last_delivered + 1)
            })
            .min()
            .unwrap_or(0)
    }

    fn drop_acknowledged(&mut self) {
        if self.groups.is_empty() {
            return;
        }
        let keep_from = self.oldest_needed();
        while self.entries.front().is_some_and(|(s, _)| *s < keep_from) {
            self.entries.pop_front();
        }
    }

    /// Events idle in another delivery for `claim_after`, handed to
    /// `consumer` now.
    fn reclaim(
        &mut self,
        group: &str,
        consumer: &str,
        max: usize,
        claim_after: Duration,
    ) -> Vec<Delivery<T>> {
        let now = Instant::now();
        let Some(g) = self.groups.get(group) else {
            return Vec::new();
        };
        let due: Vec<u64> = g
            .pending
            .iter()
            .filter(|(_, (_, since))| now.duration_since(*since) >= claim_after)
            .map(|(sequence, _)| *sequence)
            .take(max)
            .collect();
        let mut out = Vec::with_capacity(due.len());
        for sequence in due {
            let event = self.event(sequence).cloned();
            let Some(g) = self.groups.get_mut(group) else {
                break;
            };
            match event {
                Some(event) => {
                    g.pending.insert(sequence, (consumer.to_string(), now));
                    out.push((sequence.to_string(), Ok(event)));
                }
                // Trimmed away meanwhile: as XAUTOCLAIM, forget it.
                None => {
                    g.pending.remove(&sequence);
                }
            }
        }
        out
    }

    fn read_new(&mut self, group: &str, consumer: &str, max: usize) -> Vec<Delivery<T>> {
        let now = Instant::now();
        let Some(g) = self.groups.get_mut(group) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let after = g.last_delivered;
        for (sequence, event) in self
            .entries
            .iter()
            .skip_while(|(s, _)| *s <= after)
            .take(max)
        {
            g.pending.insert(*sequence, (consumer.to_string(), now));
            g.last_delivered = *sequence;
            out.push((sequence.to_string(), Ok(event.clone())));
        }
        out
    }
}

impl<T: Clone> Events<T> {
    pub(super) fn new(max_length: usize, claim_after: Duration) -> Self {
        Self {
            stream: Mutex::default(),
            published: Notify::new(),
            max_length: max_length.max(1),
            claim_after,
        }
    }

    pub(super) fn publish(&self, events: &[T]) {
        if events.is_empty() {
            return;
        }
        let mut stream = lock(&self.stream);
        for event in events {
            stream.last_sequence += 1;
            let sequence = stream.last_sequence;
            stream.entries.push_back((sequence, event.clone()));
        }
        let excess = stream.entries.len().saturating_sub(self.max_length);
        if excess > 0 {
            stream.entries.drain(..excess);
            let first_kept = stream.entries.front().map_or(0, |(s, _)| *s);
            for g in stream.groups.values_mut() {
                g.pending = g.pending.split_off(&first_kept);
            }
            if !stream.overflowing {
                tracing::warn!(
                    max_events = self.max_length,
                    dropped = excess,
                    "stream full: dropping its oldest entries until they are read"
                );
            }
            stream.overflowing = true;
        } else if stream.entries.len() < self.max_length / 2 {
            stream.overflowing = false;
        }
        drop(stream);
        self.published.notify_waiters();
    }
}

pub(super) struct MemoryStreamConsumer<T> {
    events: Arc<Events<T>>,
    group: String,
    consumer: String,
}

impl<T: Clone> MemoryStreamConsumer<T> {
    /// A new group starts at the oldest event kept, as a Redis group
    /// created at `0`.
    pub(super) fn new(events: Arc<Events<T>>, group: &str, consumer: &str) -> Self {
        lock(&events.stream)
            .groups
            .entry(group.to_string())
            .or_default();
        Self {
            events,
            group: group.to_string(),
            consumer: consumer.to_string(),
        }
    }

    fn take(&self, max: usize) -> Vec<Delivery<T>> {
        let mut stream = lock(&self.events.stream);
        // Events a dead consumer left unacknowledged come first.
        let reclaimed = stream.reclaim(&self.group, &self.consumer, max, self.events.claim_after);
        if !reclaimed.is_empty() {
            return reclaimed;
        }
        stream.read_new(&self.group, &self.consumer, max)
    }
}

#[async_trait]
impl<T: Clone + Send + Sync + 'static> StreamConsumer<T> for MemoryStreamConsumer<T> {
    async fn next(&mut self, max: usize, wait: Duration) -> BusResult<Vec<Delivery<T>>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let deadline = Instant::now() + wait;
        loop {
            let published = self.events.published.notified();
            tokio::pin!(published);
            published.as_mut().enable();
            let got = self.take(max);
            if !got.is_empty() {
                return Ok(got);
            }
            if tokio::time::timeout_at(deadline, published).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    async fn ack(&mut self, ids: &[String]) -> BusResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut stream = lock(&self.events.stream);
        if let Some(g) = stream.groups.get_mut(&self.group) {
            // Ids this bus never handed out cannot be pending.
            for sequence in ids.iter().filter_map(|id| id.parse::<u64>().ok()) {
                g.pending.remove(&sequence);
            }
        }
        stream.drop_acknowledged();
        Ok(())
    }
}
