//! Host collectors: one background sampler reads `/proc` and `/sys` on a
//! fixed tick and publishes an immutable [`Snapshot`]. Rhai checks, the
//! worker's Glances-compatible API and the host registration all read that
//! snapshot; none of them ever triggers a collection.
//!
//! Field names, units and formulas follow Glances v4, so its clients (Home
//! Assistant, Homepage, Glances' own web UI) read our output unchanged.

pub mod collector;
mod events;
mod fields;
mod history;
mod limits;
mod plugins;
pub mod probe;
mod rates;
mod read;
mod sampler;
mod series;
mod snapshot;
mod views;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use arc_swap::ArcSwap;

pub use collector::{Collector, Now};
pub use fields::field_info;
pub use history::HistoryStore;
pub use probe::{FixedProbe, FsUsage, IfAddr, LiveProbe, Probe, Uname};
pub use snapshot::{Snapshot, gzip};

/// Every plugin a snapshot carries, in Glances' (alphabetical) order.
pub const PLUGINS: &[&str] = &[
    "alert",
    "amps",
    "connections",
    "containers",
    "core",
    "cpu",
    "diskio",
    "folders",
    "fs",
    "gpu",
    "ip",
    "irq",
    "load",
    "mem",
    "memswap",
    "network",
    "now",
    "percpu",
    "ports",
    "processcount",
    "processlist",
    "programlist",
    "psutilversion",
    "quicklook",
    "sensors",
    "system",
    "uptime",
    "version",
    "wifi",
];

/// A TCP port the `ports` plugin checks every `system_tick`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortTarget {
    pub host: String,
    pub port: u16,
    pub description: String,
    /// Connect timeout; keep it short, the sampler waits for it.
    pub timeout: Duration,
}

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
    /// Targets of the `ports` plugin; none by default (no gateway scan).
    pub ports: Vec<PortTarget>,
    /// Pause between the priming collection and the first published
    /// snapshot, so that its rates cover a real interval.
    pub priming: Duration,
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
            ports: Vec::new(),
            priming: Duration::from_millis(200),
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
    stop: AtomicBool,
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
                stop: AtomicBool::new(false),
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

/// Appends the Glances history series of `snapshot` to `store`, stamped
/// with the snapshot's time (what the sampler does each tick).
pub fn record_history(store: &mut HistoryStore, snapshot: &Snapshot) {
    series::record(store, snapshot, snapshot.taken_at);
}

/// The monitor Rhai's host builtins read.
static INSTALLED: RwLock<Option<HostMonitor>> = RwLock::new(None);

/// Makes `monitor` the one host builtins (`cpu()`, `mem()`, ...) read in
/// this process, replacing any earlier one. The process keeps a handle, so
/// a started sampler runs until [`HostMonitor::stop`].
pub fn install(monitor: HostMonitor) {
    let mut slot = INSTALLED
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *slot = Some(monitor);
}

/// The monitor installed with [`install`], if any.
pub fn installed() -> Option<HostMonitor> {
    INSTALLED
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}
