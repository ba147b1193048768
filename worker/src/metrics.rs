//! The worker's Prometheus metrics.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabel {
    pub queue: String,
}

#[derive(Clone)]
pub struct WorkerMetrics {
    registry: Arc<Registry>,
    pub tasks: Family<OutcomeLabel, Counter>,
    pub alerts_evaluated: Counter,
    pub in_flight: Gauge,
    pub check_seconds: Histogram,
    pub alert_transitions: Family<KindLabel, Counter>,
    pub redelivered: Counter,
    pub queue_depth: Family<QueueLabel, Gauge>,
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("zmon_worker");
        let tasks = Family::<OutcomeLabel, Counter>::default();
        let alerts_evaluated = Counter::default();
        let in_flight = Gauge::default();
        let check_seconds = Histogram::new([
            0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0,
        ]);
        registry.register(
            "tasks",
            "Tasks handled, by outcome (ok, check_error, expired, invalid, failed)",
            tasks.clone(),
        );
        registry.register(
            "alerts_evaluated",
            "Alert conditions evaluated",
            alerts_evaluated.clone(),
        );
        registry.register("tasks_in_flight", "Tasks running now", in_flight.clone());
        registry.register(
            "check_duration_seconds",
            "Time check commands take",
            check_seconds.clone(),
        );
        let alert_transitions = Family::<KindLabel, Counter>::default();
        registry.register(
            "alert_transitions",
            "Alert state changes this worker recorded, by event kind",
            alert_transitions.clone(),
        );
        let redelivered = Counter::default();
        registry.register(
            "tasks_redelivered",
            "Tasks a dead or stopped worker left claimed, put back on their queue by this one",
            redelivered.clone(),
        );
        let queue_depth = Family::<QueueLabel, Gauge>::default();
        registry.register(
            "queue_depth",
            "Tasks waiting on each queue this worker consumes (sampled)",
            queue_depth.clone(),
        );
        Self {
            registry: Arc::new(registry),
            tasks,
            alerts_evaluated,
            in_flight,
            check_seconds,
            alert_transitions,
            redelivered,
            queue_depth,
        }
    }
}

impl WorkerMetrics {
    pub fn count(&self, outcome: &'static str) {
        self.tasks.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "could not encode metrics");
        }
        out
    }
}
