//! The scheduler: loads ACTIVE checks, merged alert definitions and
//! entities from the store, matches them with the one filter rule of
//! `zmon-core`, and puts one task per (check, entity) on the queues at each
//! check's interval. Replicas elect one leader on the bus; the others wait.

pub mod config;
mod incidents;
mod metrics;
pub mod plan;
mod scheduler;
pub mod timing;

pub use config::SchedulerConfig;
pub use metrics::SchedulerMetrics;
pub use plan::{Plan, Routing};
pub use scheduler::{RunningScheduler, Stopper, start};
