//! The scheduler's Prometheus metrics.

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone)]
pub struct SchedulerMetrics {
    registry: Arc<Registry>,
    pub tasks: Counter,
    pub reloads: Counter,
    pub leader: Gauge,
    pub targets: Gauge,
}

impl Default for SchedulerMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("zmon_scheduler");
        let tasks = Counter::default();
        let reloads = Counter::default();
        let leader = Gauge::default();
        let targets = Gauge::default();
        registry.register("tasks", "Tasks put on queues", tasks.clone());
        registry.register("reloads", "Plans rebuilt from the store", reloads.clone());
        registry.register("leader", "1 while this replica schedules", leader.clone());
        registry.register(
            "targets",
            "(check, entity) pairs scheduled",
            targets.clone(),
        );
        Self {
            registry: Arc::new(registry),
            tasks,
            reloads,
            leader,
            targets,
        }
    }
}

impl SchedulerMetrics {
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "could not encode metrics");
        }
        out
    }
}
