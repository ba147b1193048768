//! Keeps the alert events that workers publish: reads them from the bus
//! and appends them to the store (at most once each: the store skips an
//! event id it has).

use async_trait::async_trait;
use zmon_core::event::AlertEvent;

use super::streams::{GROUP, StreamSink};
use crate::bus::{BusResult, StreamConsumer};
use crate::state::AppState;
use crate::store::StoreResult;

pub struct AlertEvents;

#[async_trait]
impl StreamSink for AlertEvents {
    type Entry = AlertEvent;
    const WHAT: &'static str = "alert events";

    async fn open(
        &self,
        state: &AppState,
        consumer: &str,
    ) -> BusResult<Box<dyn StreamConsumer<AlertEvent>>> {
        state.bus.event_consumer(GROUP, consumer).await
    }

    async fn keep(&self, state: &AppState, entries: Vec<(String, AlertEvent)>) -> StoreResult<()> {
        state.store.append_alert_events(&entries).await.map(|_| ())
    }
}
