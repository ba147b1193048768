//! Host registrations (one per host, kept) and host status (one per host,
//! expiring so a host that stops reporting fades out).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::time::Instant;
use zmon_core::host::{HostRegistration, HostReport};

use super::SWEEP_EVERY;

#[derive(Default)]
pub(super) struct Hosts {
    registrations: BTreeMap<String, HostRegistration>,
    reports: HashMap<String, (HostReport, Instant)>,
    last_sweep: Option<Instant>,
}

impl Hosts {
    pub(super) fn register(&mut self, registration: &HostRegistration) {
        self.registrations
            .insert(registration.id.clone(), registration.clone());
    }

    pub(super) fn registrations(&self) -> Vec<HostRegistration> {
        self.registrations.values().cloned().collect()
    }

    pub(super) fn report_status(&mut self, report: &HostReport, ttl: Duration) {
        let now = Instant::now();
        if self
            .last_sweep
            .is_none_or(|last| now.duration_since(last) >= SWEEP_EVERY)
        {
            self.last_sweep = Some(now);
            self.reports.retain(|_, (_, until)| *until > now);
        }
        self.reports
            .insert(report.id.clone(), (report.clone(), now + ttl));
    }

    pub(super) fn reports(&self, ids: &[String]) -> BTreeMap<String, HostReport> {
        let now = Instant::now();
        ids.iter()
            .filter_map(|id| {
                let (report, until) = self.reports.get(id)?;
                (*until > now).then(|| (id.clone(), report.clone()))
            })
            .collect()
    }
}
