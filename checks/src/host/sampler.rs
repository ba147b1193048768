//! The background thread: one collection per tick on a fixed schedule.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use chrono::Utc;

use super::collector::{Collector, Now};
use super::probe::{LiveProbe, Probe};
use super::{HistoryStore, HostMonitor, Inner, SamplerConfig, Snapshot, series};

/// Longest sleep between checks for a stop request or a dropped monitor.
const POLL: Duration = Duration::from_millis(100);

impl HostMonitor {
    /// Starts the sampler thread (`host-sampler`) on this machine and
    /// returns once the first snapshot, with primed rates, is published.
    /// The thread ends on [`HostMonitor::stop`] or when the last handle is
    /// dropped.
    pub fn start(config: SamplerConfig) -> HostMonitor {
        Self::start_with_probe(config, Box::new(LiveProbe::default()))
    }

    /// [`HostMonitor::start`] with another [`Probe`] (recorded fixtures).
    pub fn start_with_probe(config: SamplerConfig, probe: Box<dyn Probe>) -> HostMonitor {
        let origin = Instant::now();
        let now = || Now::new(Utc::now(), origin.elapsed());
        let mut collector = Collector::new(config.clone(), probe);
        // The priming pass sets the baselines of every rate and percentage.
        let _ = collector.collect(now());
        std::thread::sleep(config.priming);
        let first = collector.collect(now());
        let mut history = HistoryStore::new(config.history_size);
        series::record(&mut history, &first, first.taken_at);
        let monitor = HostMonitor {
            inner: Arc::new(Inner {
                current: ArcSwap::from_pointee(first),
                history: RwLock::new(history),
                clear_requests: Mutex::new(Vec::new()),
                config: config.clone(),
                stop: AtomicBool::new(false),
            }),
        };
        let weak = Arc::downgrade(&monitor.inner);
        let spawned = std::thread::Builder::new()
            .name("host-sampler".into())
            .spawn(move || run(weak, collector, origin, config.tick));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the host sampler thread");
        }
        monitor
    }

    /// Stops the sampler after its current collection; the last snapshot
    /// stays readable.
    pub fn stop(&self) {
        self.inner.stop.store(true, Ordering::Relaxed);
    }
}

fn run(weak: Weak<Inner>, mut collector: Collector, origin: Instant, tick: Duration) {
    let tick = tick.max(Duration::from_millis(10));
    let mut next = Instant::now() + tick;
    loop {
        // Sleep in slices so that a stop or a drop is noticed quickly.
        loop {
            let now = Instant::now();
            if now >= next {
                break;
            }
            match weak.upgrade() {
                Some(inner) if !inner.stop.load(Ordering::Relaxed) => {}
                _ => return,
            }
            std::thread::sleep((next - now).min(POLL));
        }
        // A fixed schedule: missed ticks are skipped, never bunched, and
        // the lateness of one tick does not shift the next.
        let now_i = Instant::now();
        while next <= now_i {
            next += tick;
        }
        let Some(inner) = weak.upgrade() else { return };
        if inner.stop.load(Ordering::Relaxed) {
            return;
        }
        let requests: Vec<_> = inner
            .clear_requests
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        for which in requests {
            collector.clear_events(which);
        }
        let now = Now::new(Utc::now(), origin.elapsed());
        // A bug in one collector must not end the sampler: readers keep
        // the previous snapshot and the next tick tries again.
        let collected =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| collector.collect(now)));
        let snapshot: Snapshot = match collected {
            Ok(s) => s,
            Err(_) => {
                tracing::warn!("host collection panicked; keeping the previous snapshot");
                continue;
            }
        };
        {
            let mut history = inner
                .history
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            series::record(&mut history, &snapshot, snapshot.taken_at);
        }
        inner.current.store(Arc::new(snapshot));
    }
}
