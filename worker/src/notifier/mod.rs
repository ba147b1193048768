//! The notifier role: delivers the notifications workers publish, so mail,
//! chat and paging credentials live in one place and a slow target never
//! delays a check.
//!
//! Each request is tried up to `max_attempts` times with exponential
//! backoff (network errors, 429 and 5xx; other 4xx and missing settings are
//! final). Every attempt is recorded in the event history as
//! `NOTIFICATION_SENT` or `NOTIFICATION_FAILED`. A request is acknowledged
//! on the bus only once it is delivered or given up, so a notifier that
//! dies mid-way leaves it to another.

mod content;
mod http;
mod mail;
mod targets;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::{Semaphore, watch};
use zmon_bus::{Bus, StreamConsumer};
use zmon_core::event::{AlertEvent, AlertEventKind};
use zmon_core::notification::NotificationRequest;

pub use targets::Attempt;

/// The consumer group all notifiers share.
pub const GROUP: &str = "notifier";

#[derive(Clone)]
pub struct NotifierConfig {
    /// This notifier among those sharing the stream.
    pub name: String,
    /// `smtp://host:port`, `smtp://user:pass@host:587?tls=required`,
    /// `smtps://user:pass@host:465`.
    pub smtp_url: Option<String>,
    pub smtp_from: String,
    /// The default webhook of `send_slack`.
    pub slack_webhook: Option<String>,
    pub pagerduty_routing_key: Option<String>,
    pub pagerduty_events_url: String,
    /// The SMS provider's URL; `to`, `from` and `message` are added.
    pub sms_url: Option<String>,
    pub opsgenie_url: String,
    pub opsgenie_api_key: Option<String>,
    /// URL prefixes `notify_http` may call; `*` allows any.
    pub http_allow: Vec<String>,
    /// The UI's external URL, for links to alerts.
    pub public_url: Option<String>,
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Per attempt.
    pub timeout: Duration,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// Least time between two messages to one Slack webhook (Slack takes
    /// about one a second).
    pub slack_interval: Duration,
    /// Least time between two events for one PagerDuty routing key
    /// (PagerDuty takes about 120 a minute).
    pub pagerduty_interval: Duration,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        Self {
            name: format!("notifier.{}", std::process::id()),
            smtp_url: None,
            smtp_from: "zmon@localhost".into(),
            slack_webhook: None,
            pagerduty_routing_key: None,
            pagerduty_events_url: "https://events.pagerduty.com/v2/enqueue".into(),
            sms_url: None,
            opsgenie_url: "https://api.opsgenie.com".into(),
            opsgenie_api_key: None,
            http_allow: Vec::new(),
            public_url: None,
            max_attempts: 5,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(60),
            timeout: Duration::from_secs(5),
            concurrency: 16,
            slack_interval: Duration::from_secs(1),
            pagerduty_interval: Duration::from_millis(500),
        }
    }
}

impl NotifierConfig {
    /// Wait before attempt `attempt + 1` (1-based): base·2^(attempt−1),
    /// capped, or what the target asked for (also capped).
    pub fn backoff(&self, attempt: u32, asked: Option<Duration>) -> Duration {
        let exponential = self
            .backoff_base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        asked.unwrap_or(exponential).min(self.backoff_cap)
    }
}

/// `zmon_notifier_attempts_total{outcome}`: delivered, retry, failed.
#[derive(Clone)]
pub struct NotifierMetrics {
    registry: Arc<prometheus_client::registry::Registry>,
    attempts: prometheus_client::metrics::family::Family<
        OutcomeLabel,
        prometheus_client::metrics::counter::Counter,
    >,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

impl Default for NotifierMetrics {
    fn default() -> Self {
        let mut registry = prometheus_client::registry::Registry::with_prefix("zmon_notifier");
        let attempts = prometheus_client::metrics::family::Family::default();
        registry.register(
            "attempts",
            "Delivery attempts by outcome (delivered, retry, failed)",
            attempts.clone(),
        );
        Self {
            registry: Arc::new(registry),
            attempts,
        }
    }
}

impl NotifierMetrics {
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "could not encode metrics");
        }
        out
    }
}

pub struct Notifier {
    config: Arc<NotifierConfig>,
    metrics: NotifierMetrics,
    bus: Arc<dyn Bus>,
    targets: targets::Targets,
    stop: watch::Receiver<bool>,
    stop_tx: watch::Sender<bool>,
}

#[derive(Clone)]
pub struct NotifierStopper(watch::Sender<bool>);

impl NotifierStopper {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

impl Notifier {
    pub fn new(config: NotifierConfig, bus: Arc<dyn Bus>) -> Result<Self, String> {
        let config = Arc::new(config);
        let targets = targets::Targets::new(config.clone(), bus.clone())?;
        let (stop_tx, stop) = watch::channel(false);
        Ok(Self {
            config,
            metrics: NotifierMetrics::default(),
            bus,
            targets,
            stop,
            stop_tx,
        })
    }

    pub fn metrics(&self) -> NotifierMetrics {
        self.metrics.clone()
    }

    pub fn stopper(&self) -> NotifierStopper {
        NotifierStopper(self.stop_tx.clone())
    }

    /// Delivers until stopped; deliveries in flight finish first.
    pub async fn run(self) {
        let this = Arc::new(self);
        let permits = Arc::new(Semaphore::new(this.config.concurrency.max(1)));
        let mut healthy = true;
        while !*this.stop.borrow() {
            let mut stream = match this
                .bus
                .notification_consumer(GROUP, &this.config.name)
                .await
            {
                Ok(s) => s,
                Err(e) => {
                    if healthy {
                        tracing::warn!(error = %e, "cannot read notifications; retrying");
                    }
                    healthy = false;
                    this.pause(Duration::from_secs(2)).await;
                    continue;
                }
            };
            healthy = true;
            if let Err(e) = this.clone().serve(stream.as_mut(), &permits).await {
                tracing::warn!(error = %e, "reading notifications failed; reconnecting");
                this.pause(Duration::from_secs(1)).await;
            }
        }
        // Wait for deliveries in flight.
        let _ = permits
            .acquire_many(this.config.concurrency.max(1) as u32)
            .await;
        tracing::info!("notifier stopped");
    }

    async fn pause(&self, d: Duration) {
        let mut stop = self.stop.clone();
        let _ = tokio::time::timeout(d, stop.wait_for(|s| *s)).await;
    }

    async fn serve(
        self: Arc<Self>,
        stream: &mut dyn StreamConsumer<NotificationRequest>,
        permits: &Arc<Semaphore>,
    ) -> Result<(), zmon_bus::BusError> {
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        while !*self.stop.borrow() {
            let mut finished = Vec::new();
            while let Ok(id) = done_rx.try_recv() {
                finished.push(id);
            }
            stream.ack(&finished).await?;
            let available = permits.available_permits();
            if available == 0 {
                self.pause(Duration::from_millis(50)).await;
                continue;
            }
            let batch = stream.next(available, Duration::from_millis(500)).await?;
            for (id, request) in batch {
                let request = match request {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(entry = %id, error = %e, "dropping an unreadable notification");
                        stream.ack(std::slice::from_ref(&id)).await?;
                        continue;
                    }
                };
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return Ok(());
                };
                let this = self.clone();
                let done = done_tx.clone();
                tokio::spawn(async move {
                    this.deliver(&request).await;
                    let _ = done.send(id);
                    drop(permit);
                });
            }
        }
        // Acknowledge what finished while stopping.
        let _ = permits
            .acquire_many(self.config.concurrency.max(1) as u32)
            .await;
        let mut finished = Vec::new();
        while let Ok(id) = done_rx.try_recv() {
            finished.push(id);
        }
        stream.ack(&finished).await
    }

    /// Tries a request until it is delivered, fails for good, or runs out
    /// of attempts; records every attempt.
    pub async fn deliver(&self, request: &NotificationRequest) -> Attempt {
        let mut attempt = 1;
        loop {
            let outcome = self.targets.send(request).await;
            let last = attempt >= self.config.max_attempts;
            let label = match &outcome {
                Attempt::Delivered { .. } => "delivered",
                Attempt::Retry { .. } if !last => "retry",
                _ => "failed",
            };
            self.metrics
                .attempts
                .get_or_create(&OutcomeLabel { outcome: label })
                .inc();
            self.record(request, attempt, &outcome, last).await;
            match &outcome {
                Attempt::Retry { after, .. } if !last => {
                    let wait = self.config.backoff(attempt, *after);
                    tracing::debug!(request = %request.id, attempt, ?wait, "notification failed; retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                _ => return outcome,
            }
        }
    }

    async fn record(&self, r: &NotificationRequest, attempt: u32, outcome: &Attempt, last: bool) {
        let mut data = Map::new();
        data.insert("request_id".into(), json!(r.id));
        data.insert("expr".into(), json!(r.expr));
        data.insert("function".into(), json!(r.spec.function));
        data.insert("target_type".into(), json!(r.spec.kind));
        data.insert("event".into(), json!(r.event));
        data.insert("attempt".into(), json!(attempt));
        if let Some(reason) = &r.reason {
            data.insert("reason".into(), json!(reason));
        }
        let kind = match outcome {
            Attempt::Delivered { targets, status } => {
                data.insert("targets".into(), json!(targets));
                data.insert("http_status".into(), json!(status));
                AlertEventKind::NotificationSent
            }
            Attempt::Retry { error, status, .. } | Attempt::Fatal { error, status } => {
                data.insert("error".into(), json!(error));
                data.insert("http_status".into(), json!(status));
                let retrying = matches!(outcome, Attempt::Retry { .. }) && !last;
                data.insert("will_retry".into(), json!(retrying));
                if !retrying {
                    tracing::warn!(alert = r.alert.id, entity = %r.entity_id, expr = %r.expr, %error, "notification not delivered");
                }
                AlertEventKind::NotificationFailed
            }
        };
        let event = AlertEvent {
            kind,
            alert_id: r.alert.id,
            entity: r.entity_id.clone(),
            ts: chrono::Utc::now().timestamp_micros() as f64 / 1e6,
            captures: Map::new(),
            value: Value::Null,
            worker: self.config.name.clone(),
            data: Some(Value::Object(data)),
        };
        if let Err(e) = self.bus.publish_events(&[event]).await {
            tracing::warn!(error = %e, "cannot record a notification attempt");
        }
    }
}

/// A header or query value from a literal: strings as they are, others as
/// JSON text.
pub(crate) fn literal_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let c = NotifierConfig {
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(1),
            ..NotifierConfig::default()
        };
        assert_eq!(c.backoff(1, None), Duration::from_millis(100));
        assert_eq!(c.backoff(3, None), Duration::from_millis(400));
        assert_eq!(c.backoff(10, None), Duration::from_secs(1));
        assert_eq!(
            c.backoff(1, Some(Duration::from_secs(30))),
            Duration::from_secs(1)
        );
    }
}
