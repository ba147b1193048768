//! The worker's loops: claim tasks from each queue and run them, bounded by
//! a semaphore; report heartbeats and keep claims alive; hand back the
//! tasks of dead workers; and on shutdown, finish or hand back what is in
//! flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use zmon_bus::{Bus, BusError, ClaimedTask};
use zmon_core::time::Clock;

use crate::cache::ScriptCache;
use crate::config::WorkerConfig;
use crate::execute::{Executor, Outcome};
use crate::metrics::{QueueLabel, WorkerMetrics};
use crate::notify::dispatch::Notifications;

/// How long one wait for a task lasts; it bounds how fast shutdown is seen.
const CLAIM_WAIT: Duration = Duration::from_secs(1);

struct Shared {
    config: WorkerConfig,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
    executor: Executor,
    metrics: WorkerMetrics,
    permits: Arc<Semaphore>,
    checks_run: AtomicU64,
    stop: watch::Receiver<bool>,
}

/// A started worker.
pub struct RunningWorker {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    loops: JoinSet<()>,
}

/// Asks a running worker to stop.
#[derive(Clone)]
pub struct Stopper(watch::Sender<bool>);

impl Stopper {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

impl RunningWorker {
    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop.clone())
    }

    pub fn metrics(&self) -> WorkerMetrics {
        self.shared.metrics.clone()
    }

    pub fn name(&self) -> &str {
        &self.shared.config.name
    }

    /// Runs until stopped, then finishes in-flight tasks (or hands them
    /// back after the shutdown timeout).
    pub async fn run(mut self) {
        while self.loops.join_next().await.is_some() {}
        let shared = &self.shared;
        let all = u32::try_from(shared.config.concurrency).unwrap_or(u32::MAX);
        let drained = tokio::time::timeout(
            shared.config.shutdown_timeout,
            shared.permits.acquire_many(all),
        )
        .await;
        if drained.is_err() {
            tracing::warn!("shutdown timeout reached with tasks still running");
        }
        for queue in &shared.config.queues {
            if let Err(e) = shared.bus.hand_back(queue, &shared.config.name).await {
                tracing::warn!(queue, error = %e, "could not hand back unfinished tasks; they return when this worker's claims expire");
            }
        }
        if let Err(e) = shared
            .bus
            .heartbeat(
                &shared.config.name,
                shared.checks_run.swap(0, Ordering::Relaxed),
                now(shared),
            )
            .await
        {
            tracing::debug!(error = %e, "last heartbeat failed");
        }
        tracing::info!(worker = %shared.config.name, "worker stopped");
    }
}

fn now(shared: &Shared) -> f64 {
    shared.clock.now().timestamp_micros() as f64 / 1e6
}

/// Starts a worker on the bus. Tasks this worker held in an earlier life
/// (a crash or a kill) go back to the queue first.
pub async fn start(
    mut config: WorkerConfig,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
) -> Result<RunningWorker, BusError> {
    if let Some(agent) = &config.host
        && !config.queues.contains(&agent.reporting.queue)
    {
        config.queues.push(agent.reporting.queue.clone());
    }
    for queue in &config.queues {
        bus.hand_back(queue, &config.name).await?;
        bus.keep_consumer_alive(queue, &config.name, config.claim_ttl)
            .await?;
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let metrics = WorkerMetrics::default();
    let shared = Arc::new(Shared {
        executor: Executor {
            bus: bus.clone(),
            clock: clock.clone(),
            scripts: ScriptCache::default(),
            worker: config.name.clone(),
            metrics: metrics.clone(),
            notifications: Notifications::default(),
        },
        permits: Arc::new(Semaphore::new(config.concurrency.max(1))),
        metrics,
        checks_run: AtomicU64::new(0),
        stop: stop_rx,
        config,
        bus,
        clock,
    });
    let mut loops = JoinSet::new();
    for queue in shared.config.queues.clone() {
        loops.spawn(claim_loop(shared.clone(), queue));
    }
    loops.spawn(heartbeat_loop(shared.clone()));
    loops.spawn(recovery_loop(shared.clone()));
    if let Some(agent) = shared.config.host.clone() {
        loops.spawn(crate::host::report_loop(
            shared.bus.clone(),
            agent,
            shared.config.name.clone(),
            shared.stop.clone(),
        ));
    }
    tracing::info!(worker = %shared.config.name, queues = ?shared.config.queues,
        concurrency = shared.config.concurrency, "worker started");
    Ok(RunningWorker {
        shared,
        stop: stop_tx,
        loops,
    })
}

fn stopping(shared: &Shared) -> bool {
    *shared.stop.borrow()
}

/// Sleeps for `d` unless the worker is asked to stop first.
async fn pause(shared: &Shared, d: Duration) {
    let mut stop = shared.stop.clone();
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = stop.wait_for(|s| *s) => {}
    }
}

async fn claim_loop(shared: Arc<Shared>, queue: String) {
    let mut consumer = None;
    let mut failing = false;
    while !stopping(&shared) {
        let permit = tokio::select! {
            p = shared.permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = pause(&shared, Duration::from_secs(3600)) => continue,
        };
        if consumer.is_none() {
            match shared.bus.consumer(&queue, &shared.config.name).await {
                Ok(c) => consumer = Some(c),
                Err(e) => {
                    if !failing {
                        tracing::warn!(queue, error = %e, "cannot claim tasks; retrying");
                    }
                    failing = true;
                    drop(permit);
                    pause(&shared, Duration::from_secs(1)).await;
                    continue;
                }
            }
        }
        let Some(c) = consumer.as_mut() else { continue };
        match c.next(CLAIM_WAIT).await {
            Ok(Some(claimed)) => {
                failing = false;
                let shared = shared.clone();
                tokio::spawn(async move {
                    handle(&shared, claimed).await;
                    drop(permit);
                });
            }
            Ok(None) => failing = false,
            Err(e) => {
                if !failing {
                    tracing::warn!(queue, error = %e, "cannot claim tasks; retrying");
                }
                failing = true;
                consumer = None;
                drop(permit);
                pause(&shared, Duration::from_secs(1)).await;
            }
        }
    }
}

/// What became of a claimed task.
enum Settle {
    /// Done; the claim still has to be finished.
    Ack,
    /// Done, and the claim was finished with the record.
    Finished,
    /// Not done; hand it back for another try.
    Release,
}

async fn handle(shared: &Shared, claimed: ClaimedTask) {
    shared.metrics.in_flight.inc();
    let settle = match &claimed.task {
        Err(e) => {
            tracing::warn!(queue = %claimed.queue, error = %e, "dropping an unreadable task");
            shared.metrics.count("invalid");
            Settle::Ack
        }
        Ok(task) => {
            let started = std::time::Instant::now();
            match shared.executor.execute(task.clone(), &claimed).await {
                Ok((outcome, finished)) => {
                    shared.metrics.count(outcome.label());
                    if outcome != Outcome::Expired {
                        shared.checks_run.fetch_add(1, Ordering::Relaxed);
                        shared
                            .metrics
                            .check_seconds
                            .observe(started.elapsed().as_secs_f64());
                        shared
                            .metrics
                            .alerts_evaluated
                            .inc_by(task.alerts.len() as u64);
                    }
                    if finished {
                        Settle::Finished
                    } else {
                        Settle::Ack
                    }
                }
                Err(e) => {
                    tracing::warn!(task = %task.id, error = %e, "could not record a task; handing it back");
                    shared.metrics.count("failed");
                    Settle::Release
                }
            }
        }
    };
    let settled = match settle {
        Settle::Finished => Ok(()),
        Settle::Ack => shared.bus.ack(&claimed).await,
        Settle::Release => shared.bus.release(&claimed).await,
    };
    if let Err(e) = settled {
        tracing::warn!(error = %e, "could not settle a task; it returns to the queue when this worker's claim expires");
    }
    shared.metrics.in_flight.dec();
}

async fn heartbeat_loop(shared: Arc<Shared>) {
    while !stopping(&shared) {
        let run = shared.checks_run.swap(0, Ordering::Relaxed);
        if let Err(e) = shared
            .bus
            .heartbeat(&shared.config.name, run, now(&shared))
            .await
        {
            shared.checks_run.fetch_add(run, Ordering::Relaxed);
            tracing::debug!(error = %e, "heartbeat failed");
        }
        for queue in &shared.config.queues {
            if let Err(e) = shared
                .bus
                .keep_consumer_alive(queue, &shared.config.name, shared.config.claim_ttl)
                .await
            {
                tracing::debug!(queue, error = %e, "could not renew claims");
            }
        }
        pause(&shared, shared.config.heartbeat_interval).await;
    }
}

async fn recovery_loop(shared: Arc<Shared>) {
    while !stopping(&shared) {
        pause(&shared, shared.config.recovery_interval).await;
        for queue in &shared.config.queues {
            match shared.bus.recover_abandoned(queue).await {
                Ok(recovered) => {
                    shared.metrics.redelivered.inc_by(recovered as u64);
                }
                Err(e) => tracing::debug!(queue, error = %e, "recovery failed"),
            }
            if let Ok(depth) = shared.bus.queue_length(queue).await {
                shared
                    .metrics
                    .queue_depth
                    .get_or_create(&QueueLabel {
                        queue: queue.clone(),
                    })
                    .set(depth);
            }
        }
    }
}
