//! Keeps the alert events that workers publish: reads them from the bus
//! and appends them to the store. Several controllers share the work; an
//! event is acknowledged only after it is stored, so none is lost.

use std::time::Duration;

use actix_web::web;

use crate::state::AppState;

pub const GROUP: &str = "controller";
const BATCH: usize = 200;
const WAIT: Duration = Duration::from_secs(1);

pub async fn consume_loop(state: web::Data<AppState>, consumer: String) {
    let mut healthy = true;
    loop {
        let mut events = match state.bus.event_consumer(GROUP, &consumer).await {
            Ok(c) => c,
            Err(e) => {
                if healthy {
                    tracing::warn!(error = %e, "cannot read alert events; retrying");
                }
                healthy = false;
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        loop {
            let batch = match events.next(BATCH, WAIT).await {
                Ok(b) => b,
                Err(e) => {
                    if healthy {
                        tracing::warn!(error = %e, "reading alert events failed; reconnecting");
                    }
                    healthy = false;
                    break;
                }
            };
            if !healthy {
                tracing::info!("reading alert events again");
                healthy = true;
            }
            if batch.is_empty() {
                continue;
            }
            let ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
            let good: Vec<_> = batch
                .into_iter()
                .filter_map(|(id, event)| match event {
                    Ok(e) => Some((id, e)),
                    Err(e) => {
                        tracing::warn!(event = %id, error = %e, "skipping an unreadable alert event");
                        None
                    }
                })
                .collect();
            if let Err(e) = state.store.append_alert_events(&good).await {
                // Not acknowledged: the events come back to a consumer.
                tracing::warn!(error = %e, "cannot store alert events; they will be retried");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            if let Err(e) = events.ack(&ids).await {
                tracing::debug!(error = %e, "could not acknowledge alert events; they are stored once anyway");
            }
        }
    }
}
