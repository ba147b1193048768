//! What a worker needs to run.

use std::time::Duration;

use crate::host::HostAgent;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Shown in `/api/v1/status`, and names this worker's claims on the
    /// queues; one per process. ZMON used `plocal.<hostname>`.
    pub name: String,
    /// Queues to take tasks from (`default` → `zmon:queue:default`).
    pub queues: Vec<String>,
    /// Tasks run at the same time.
    pub concurrency: usize,
    /// How often the worker reports that it lives.
    pub heartbeat_interval: Duration,
    /// How long the worker's claims stay valid without a heartbeat; after
    /// that its tasks go to other workers.
    pub claim_ttl: Duration,
    /// How often the worker looks for tasks of dead workers.
    pub recovery_interval: Duration,
    /// How long in-flight tasks may finish at shutdown before they are
    /// handed back.
    pub shutdown_timeout: Duration,
    /// When set, the worker is its host's agent: it registers the host,
    /// publishes its status, and also consumes the host's own queue.
    pub host: Option<HostAgent>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            name: default_name(),
            queues: vec!["default".into()],
            concurrency: 32,
            heartbeat_interval: Duration::from_secs(5),
            claim_ttl: Duration::from_secs(20),
            recovery_interval: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(10),
            host: None,
        }
    }
}

/// `plocal.<hostname>`, as ZMON named its workers.
pub fn default_name() -> String {
    format!("plocal.{}", hostname())
}

/// This machine's name (the pod name on Kubernetes), for naming processes.
pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
