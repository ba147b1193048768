//! A short in-memory history of each host's status, sampled from the
//! reports workers keep on the bus, for the UI's host charts.
//!
//! Workers keep longer histories (their Glances API), but the controller
//! cannot reach every worker; this is what it can show without another
//! store. Each controller keeps its own, and a restart starts it afresh;
//! the page says so while it fills.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use zmon_core::host::HostReport;

/// One hour at the default 10 s sampling.
pub const DEFAULT_CAPACITY: usize = 360;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Unix seconds when the worker measured it.
    pub ts: i64,
    pub cpu: f64,
    pub mem_used: u64,
    pub disk_used: u64,
    pub load1: f64,
    pub net_in_speed: u64,
    pub net_out_speed: u64,
}

pub struct HostHistory {
    capacity: usize,
    hosts: Mutex<HashMap<String, VecDeque<Sample>>>,
}

impl Default for HostHistory {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl HostHistory {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Adds the reports that are newer than what each host has.
    pub fn record(&self, reports: &[HostReport]) {
        let Ok(mut hosts) = self.hosts.lock() else {
            return;
        };
        for report in reports {
            let series = hosts.entry(report.id.clone()).or_default();
            if series.back().is_some_and(|s| s.ts >= report.last_active) {
                continue;
            }
            if series.len() == self.capacity {
                series.pop_front();
            }
            let s = &report.status;
            series.push_back(Sample {
                ts: report.last_active,
                cpu: s.cpu,
                mem_used: s.mem_used,
                disk_used: s.disk_used,
                load1: s.load1,
                net_in_speed: s.net_in_speed,
                net_out_speed: s.net_out_speed,
            });
        }
    }

    /// Oldest first.
    pub fn samples(&self, host: &str) -> Vec<Sample> {
        self.hosts
            .lock()
            .ok()
            .and_then(|h| h.get(host).map(|s| s.iter().copied().collect()))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zmon_core::host::HostStatus;

    fn report(ts: i64, cpu: f64) -> HostReport {
        HostReport {
            id: "h".into(),
            last_active: ts,
            status: HostStatus {
                cpu,
                ..HostStatus::default()
            },
        }
    }

    #[test]
    fn keeps_new_reports_only_and_at_most_its_capacity() {
        let history = HostHistory::new(2);
        history.record(&[report(10, 1.0)]);
        history.record(&[report(10, 9.0)]);
        assert_eq!(
            history.samples("h").len(),
            1,
            "the same report twice is one sample"
        );
        history.record(&[report(20, 2.0)]);
        history.record(&[report(30, 3.0)]);
        let cpu: Vec<f64> = history.samples("h").iter().map(|s| s.cpu).collect();
        assert_eq!(cpu, [2.0, 3.0]);
        assert!(history.samples("other").is_empty());
    }
}
