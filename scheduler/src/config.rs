//! What a scheduler needs to run.

use std::time::Duration;

use crate::plan::Routing;

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Names this replica in the leader election and in `/api/v1/status`.
    pub name: String,
    pub routing: Routing,
    /// Full reload from the store at least this often, whatever the change
    /// notifications say.
    pub reload_interval: Duration,
    /// How long leadership lasts without renewal; a new leader takes over
    /// within about this long after the old one dies.
    pub leader_ttl: Duration,
    /// Results and alert state of a (check, entity) or (alert, entity) that
    /// no longer runs are removed after this delay, so in-flight tasks do
    /// not write them back.
    pub cleanup_delay: Duration,
    pub heartbeat_interval: Duration,
    /// Synthesise ZMON's `GLOBAL` entity for checks that filter on it.
    pub global_entity: bool,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            name: format!("scheduler.{}", std::process::id()),
            routing: Routing {
                default_queue: "default".into(),
                by_check: Default::default(),
            },
            reload_interval: Duration::from_secs(60),
            leader_ttl: Duration::from_secs(10),
            cleanup_delay: Duration::from_secs(90),
            heartbeat_interval: Duration::from_secs(5),
            global_entity: true,
        }
    }
}
