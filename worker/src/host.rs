//! The worker as its host's agent: it registers the host (the controller
//! makes it a `type: host` entity that names this worker's own queue, so
//! checks on the host run here) and publishes the host's compact status for
//! the fleet view. Both read the sampler's latest snapshot.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use zmon_bus::Bus;
use zmon_checks::host::{HostMonitor, Snapshot};
use zmon_core::host::{HostRegistration, HostReport};

/// Prefix of a host's own queue: `host-<entity id>`.
pub const HOST_QUEUE_PREFIX: &str = "host-";

/// How a worker reports its host.
#[derive(Debug, Clone)]
pub struct HostReporting {
    /// The host entity id (lower-case host name unless configured).
    pub entity_id: String,
    /// The queue checks on this host are routed to; the worker consumes it.
    pub queue: String,
    /// How often the registration is published again (facts change on
    /// reboot or upgrade; a lost registration comes back by itself).
    pub registration_interval: Duration,
    /// How often the status is published.
    pub status_interval: Duration,
    /// How long a status stays readable without a newer one. Long, so the
    /// fleet view can still say when a dead host was last seen.
    pub status_ttl: Duration,
}

impl HostReporting {
    /// Reporting for the host entity `id` (lower-cased), on the queue
    /// `host-<id>`.
    pub fn for_host(id: &str) -> Self {
        let entity_id = id.trim().to_lowercase();
        Self {
            queue: format!("{HOST_QUEUE_PREFIX}{entity_id}"),
            entity_id,
            registration_interval: Duration::from_secs(60),
            status_interval: Duration::from_secs(2),
            status_ttl: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// The sampler and how to report what it sees.
#[derive(Debug, Clone)]
pub struct HostAgent {
    pub monitor: HostMonitor,
    pub reporting: HostReporting,
}

pub fn registration(
    reporting: &HostReporting,
    worker: &str,
    snapshot: &Snapshot,
) -> HostRegistration {
    HostRegistration {
        id: reporting.entity_id.clone(),
        queue: reporting.queue.clone(),
        worker: worker.to_string(),
        facts: snapshot.facts.clone(),
    }
}

pub fn report(reporting: &HostReporting, snapshot: &Snapshot) -> HostReport {
    HostReport {
        id: reporting.entity_id.clone(),
        last_active: snapshot.taken_at.timestamp(),
        status: snapshot.status.clone(),
    }
}

/// Publishes the registration at once and then every
/// `registration_interval`, and the status every `status_interval`, until
/// `stop` turns true. Bus failures are logged and retried on the next round.
pub(crate) async fn report_loop(
    bus: Arc<dyn Bus>,
    agent: HostAgent,
    worker: String,
    mut stop: watch::Receiver<bool>,
) {
    let HostAgent { monitor, reporting } = agent;
    let mut registered_at: Option<tokio::time::Instant> = None;
    let mut last_seq = None;
    let mut healthy = true;
    while !*stop.borrow() {
        let snapshot = monitor.latest();
        let due = registered_at.is_none_or(|at| at.elapsed() >= reporting.registration_interval);
        let mut result = Ok(());
        if due {
            result = bus
                .register_host(&registration(&reporting, &worker, &snapshot))
                .await;
            if result.is_ok() {
                registered_at = Some(tokio::time::Instant::now());
                tracing::debug!(host = %reporting.entity_id, queue = %reporting.queue, "host registered");
            }
        }
        // An unchanged snapshot says nothing new; republishing it would
        // make a stuck sampler look alive.
        if result.is_ok() && last_seq != Some(snapshot.seq) {
            result = bus
                .report_host_status(&report(&reporting, &snapshot), reporting.status_ttl)
                .await;
            if result.is_ok() {
                last_seq = Some(snapshot.seq);
            }
        }
        match result {
            Ok(()) if !healthy => {
                tracing::info!("publishing host status again");
                healthy = true;
            }
            Err(e) if healthy => {
                tracing::warn!(error = %e, "cannot publish host registration or status; retrying");
                healthy = false;
            }
            _ => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(reporting.status_interval) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }
}
