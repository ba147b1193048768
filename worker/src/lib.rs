//! The worker: claims check tasks from the bus, runs them in the sandboxed
//! engine, evaluates their alerts, and records results, alert state and
//! events on the bus. Workers never touch the database.

mod cache;
pub mod config;
mod execute;
pub mod glances;
pub mod host;
mod metrics;
pub mod notifier;
pub mod notify;
mod worker;

pub use config::WorkerConfig;
pub use execute::TRIAL_TTL;
pub use host::{HostAgent, HostReporting};
pub use metrics::WorkerMetrics;
pub use worker::{RunningWorker, Stopper, start};
