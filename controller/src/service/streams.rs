//! Reading a bus stream into the store, shared by alert events and probe
//! samples. Several controllers share a stream through one consumer group;
//! entries are acknowledged only after they are stored, so a crash loses
//! none (they come back to another consumer instead).

use std::time::Duration;

use actix_web::web;
use async_trait::async_trait;

use crate::bus::{BusResult, StreamConsumer};
use crate::state::AppState;
use crate::store::StoreResult;

pub const GROUP: &str = "controller";
const BATCH: usize = 200;
const WAIT: Duration = Duration::from_secs(1);

/// One stream and where its entries go.
#[async_trait]
pub trait StreamSink: Send + Sync + 'static {
    type Entry: Send + 'static;
    /// Names the stream in logs.
    const WHAT: &'static str;

    async fn open(
        &self,
        state: &AppState,
        consumer: &str,
    ) -> BusResult<Box<dyn StreamConsumer<Self::Entry>>>;

    /// Stores a batch; an error leaves it unacknowledged, to be retried.
    async fn keep(&self, state: &AppState, entries: Vec<(String, Self::Entry)>) -> StoreResult<()>;
}

pub async fn consume_loop<S: StreamSink>(state: web::Data<AppState>, consumer: String, sink: S) {
    let what = S::WHAT;
    let mut healthy = true;
    loop {
        let mut stream = match sink.open(&state, &consumer).await {
            Ok(c) => c,
            Err(e) => {
                if healthy {
                    tracing::warn!(error = %e, "cannot read {what}; retrying");
                }
                healthy = false;
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        loop {
            let batch = match stream.next(BATCH, WAIT).await {
                Ok(b) => b,
                Err(e) => {
                    if healthy {
                        tracing::warn!(error = %e, "reading {what} failed; reconnecting");
                    }
                    healthy = false;
                    break;
                }
            };
            if !healthy {
                tracing::info!("reading {what} again");
                healthy = true;
            }
            if batch.is_empty() {
                continue;
            }
            let ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
            let good: Vec<_> = batch
                .into_iter()
                .filter_map(|(id, entry)| match entry {
                    Ok(e) => Some((id, e)),
                    Err(e) => {
                        tracing::warn!(entry = %id, error = %e, "skipping an unreadable entry of {what}");
                        None
                    }
                })
                .collect();
            if let Err(e) = sink.keep(&state, good).await {
                tracing::warn!(error = %e, "cannot store {what}; they will be retried");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            if let Err(e) = stream.ack(&ids).await {
                tracing::debug!(error = %e, "could not acknowledge {what}; they may be stored again");
            }
        }
    }
}
