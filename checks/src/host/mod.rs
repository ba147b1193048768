//! Host collectors: one background sampler reads `/proc` and `/sys` on a
//! fixed tick and publishes an immutable [`Snapshot`]. Rhai checks, the
//! worker's Glances-compatible API and the host registration all read that
//! snapshot; none of them ever triggers a collection.
//!
//! Field names, units and formulas follow Glances v4, so its clients (Home
//! Assistant, Homepage, Glances' own web UI) read our output unchanged.

mod history;
mod snapshot;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use arc_swap::ArcSwap;

pub use history::HistoryStore;
pub use snapshot::{Snapshot, gzip};

/// How the sampler runs.
#[derive(Debug, Clone)]
pub struct SamplerConfig {
    /// The fast tick: cpu, memory, load, network, disk I/O, processes.
    pub tick: Duration,
    /// Process command lines and user names.
    pub process_details_tick: Duration,
    /// Filesystem usage (statvfs on every mount).
    pub fs_tick: Duration,
    /// System facts, IP addresses, sensors.
    pub system_tick: Duration,
    /// Points kept per history series.
    pub history_size: usize,
    /// Where `/proc`, `/sys` and `/etc` are; `/` unless a test or a
    /// container with the host mounted elsewhere says otherwise.
    pub root: HostRoot,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(2),
            process_details_tick: Duration::from_secs(60),
            fs_tick: Duration::from_secs(10),
            system_tick: Duration::from_secs(60),
            history_size: 1200,
            root: HostRoot::default(),
        }
    }
}

/// The directories the collectors read.
#[derive(Debug, Clone)]
pub struct HostRoot {
    pub proc: PathBuf,
    pub sys: PathBuf,
    pub etc: PathBuf,
}

impl Default for HostRoot {
    fn default() -> Self {
        Self {
            proc: PathBuf::from("/proc"),
            sys: PathBuf::from("/sys"),
            etc: PathBuf::from("/etc"),
        }
    }
}

/// Which finished events [`HostMonitor::clear_events`] drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClearEvents {
    /// Finished WARNING events.
    Warning,
    /// Every finished event.
    All,
}

/// The handle every consumer holds: the latest snapshot, the history and
/// the events. Cheap to clone.
#[derive(Clone)]
pub struct HostMonitor {
    inner: Arc<Inner>,
}

struct Inner {
    current: ArcSwap<Snapshot>,
    history: RwLock<HistoryStore>,
    clear_requests: Mutex<Vec<ClearEvents>>,
    config: SamplerConfig,
}

impl std::fmt::Debug for HostMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostMonitor")
            .field("seq", &self.latest().seq)
            .finish_non_exhaustive()
    }
}

impl HostMonitor {
    /// A monitor that always shows `snapshot` and runs no sampler: for
    /// tests and for tools that replay recorded data.
    pub fn fixed(snapshot: Snapshot, history: HistoryStore) -> Self {
        Self {
            inner: Arc::new(Inner {
                current: ArcSwap::from_pointee(snapshot),
                history: RwLock::new(history),
                clear_requests: Mutex::new(Vec::new()),
                config: SamplerConfig::default(),
            }),
        }
    }

    /// The newest snapshot.
    pub fn latest(&self) -> Arc<Snapshot> {
        self.inner.current.load_full()
    }

    pub fn config(&self) -> &SamplerConfig {
        &self.inner.config
    }

    /// `{series: [[iso, value], ...]}` for a plugin (see
    /// [`HistoryStore::plugin_history`]).
    pub fn plugin_history(
        &self,
        plugin: &str,
        nb: Option<usize>,
    ) -> Option<serde_json::Map<String, serde_json::Value>> {
        self.history_read().plugin_history(plugin, nb)
    }

    /// `[[iso, value], ...]` for one series.
    pub fn item_history(
        &self,
        plugin: &str,
        item: &str,
        nb: Option<usize>,
    ) -> Option<serde_json::Value> {
        self.history_read().item_history(plugin, item, nb)
    }

    /// Asks the sampler to drop finished events; the `alert` plugin shows
    /// it from the next tick on.
    pub fn clear_events(&self, which: ClearEvents) {
        if let Ok(mut requests) = self.inner.clear_requests.lock() {
            requests.push(which);
        }
    }

    fn history_read(&self) -> std::sync::RwLockReadGuard<'_, HistoryStore> {
        // A panic while holding the lock leaves consistent data behind
        // (pushes are single steps), so a poisoned lock is still usable.
        self.inner
            .history
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A field's description and unit, for `/api/4/{plugin}/{field}/description`
/// and `/unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    pub description: &'static str,
    pub unit: Option<&'static str>,
}

/// The description and unit of `plugin`'s `field`. A stub with a few
/// entries until the collectors' own table lands.
pub fn field_info(plugin: &str, field: &str) -> Option<FieldInfo> {
    let (description, unit) = match (plugin, field) {
        ("cpu", "total") => ("Sum of all CPU percentages (except idle).", Some("percent")),
        ("cpu", "user") => ("Percent time spent in user space.", Some("percent")),
        ("cpu", "system") => ("Percent time spent in kernel space.", Some("percent")),
        ("mem", "percent") => ("The percentage usage.", Some("percent")),
        ("diskio", "read_bytes") => ("Number of bytes read.", Some("byte")),
        ("network", "bytes_all") => ("Number of bytes sent and received.", Some("byte")),
        ("network", "interface_name") => ("Interface name.", None),
        _ => return None,
    };
    Some(FieldInfo { description, unit })
}
