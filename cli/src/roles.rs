//! `zmon controller`, `zmon scheduler` and `zmon worker`: each starts its
//! role, serves until SIGTERM or Ctrl-C, and shuts down gracefully.

use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use zmon_bus::Bus;
use zmon_checks::host::HostMonitor;
use zmon_core::time::SystemClock;
use zmon_scheduler::SchedulerMetrics;
use zmon_store::Store;
use zmon_worker::{HostAgent, WorkerMetrics};

use crate::probes::{self, Probe};
use crate::settings::Settings;

pub async fn controller(settings: &Settings) -> anyhow::Result<()> {
    let mut config = settings.controller();
    config.oauth = settings.oauth()?;
    tracing::info!(?config, "starting controller");
    let store = zmon_controller::connect_store(&config).await?;
    let bus = zmon_controller::connect_bus(&config)?;
    let running = zmon_controller::start(&config, store, bus).await?;
    let handle = running.handle();
    on_shutdown_signal("finishing in-flight requests", async move {
        handle.stop(true).await;
    });
    running
        .run()
        .await
        .context("controller stopped with an error")?;
    tracing::info!("controller stopped");
    Ok(())
}

struct SchedulerProbe {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    metrics: SchedulerMetrics,
}

#[async_trait]
impl Probe for SchedulerProbe {
    async fn ready(&self) -> Result<(), String> {
        self.store
            .ping()
            .await
            .map_err(|e| format!("database: {e}"))?;
        self.bus.ping().await.map_err(|e| format!("redis: {e}"))
    }

    fn metrics(&self) -> String {
        self.metrics.render()
    }
}

pub async fn scheduler(settings: &Settings) -> anyhow::Result<()> {
    let config = settings.scheduler();
    let controller = settings.controller();
    tracing::info!(name = %config.name, "starting scheduler");
    let store: Arc<dyn Store> = zmon_controller::connect_store(&controller).await?;
    let bus: Arc<dyn Bus> = zmon_controller::connect_bus(&controller)?;
    let running = zmon_scheduler::start(config, store.clone(), bus.clone(), Arc::new(SystemClock));
    let admin = probes::serve(
        &settings.scheduler_admin_bind,
        Arc::new(SchedulerProbe {
            store,
            bus,
            metrics: running.metrics(),
        }),
    )?;
    let stopper = running.stopper();
    on_shutdown_signal("stopping the scheduler", async move { stopper.stop() });
    running.run().await;
    admin.stop(true).await;
    Ok(())
}

struct WorkerProbe {
    bus: Arc<dyn Bus>,
    metrics: WorkerMetrics,
}

#[async_trait]
impl Probe for WorkerProbe {
    async fn ready(&self) -> Result<(), String> {
        self.bus.ping().await.map_err(|e| format!("redis: {e}"))
    }

    fn metrics(&self) -> String {
        self.metrics.render()
    }
}

struct NotifierProbe {
    bus: Arc<dyn Bus>,
    metrics: zmon_worker::notifier::NotifierMetrics,
}

#[async_trait]
impl Probe for NotifierProbe {
    async fn ready(&self) -> Result<(), String> {
        self.bus.ping().await.map_err(|e| format!("redis: {e}"))
    }

    fn metrics(&self) -> String {
        self.metrics.render()
    }
}

/// `zmon notifier`: delivers the notifications workers publish. The mail,
/// chat and paging credentials live here only.
pub async fn notifier(settings: &Settings) -> anyhow::Result<()> {
    let config = settings.notifier();
    tracing::info!(
        name = %config.name,
        mail = config.smtp_url.is_some(),
        slack = config.slack_webhook.is_some(),
        pagerduty = config.pagerduty_routing_key.is_some(),
        sms = config.sms_url.is_some(),
        "starting notifier"
    );
    let bus: Arc<dyn Bus> = zmon_controller::connect_bus(&settings.controller())?;
    let notifier = zmon_worker::notifier::Notifier::new(config, bus.clone())
        .map_err(|e| anyhow::anyhow!("invalid notifier configuration: {e}"))?;
    let admin = probes::serve(
        &settings.notifier_admin_bind,
        Arc::new(NotifierProbe {
            bus,
            metrics: notifier.metrics(),
        }),
    )?;
    let stopper = notifier.stopper();
    on_shutdown_signal(
        "finishing deliveries in flight",
        async move { stopper.stop() },
    );
    notifier.run().await;
    admin.stop(true).await;
    Ok(())
}

pub async fn worker(settings: &Settings) -> anyhow::Result<()> {
    let mut config = settings.worker();
    let reporting = settings.host_reporting();
    let glances = settings.glances();
    // One sampler serves the host builtins, the host agent and the
    // Glances API; without any of them it does not run at all.
    let monitor = (reporting.is_some() || glances.is_some()).then(|| {
        let monitor = HostMonitor::start(settings.sampler());
        zmon_checks::host::install(monitor.clone());
        monitor
    });
    if let (Some(monitor), Some(reporting)) = (&monitor, reporting) {
        tracing::info!(host = %reporting.entity_id, queue = %reporting.queue, "this worker is its host's agent");
        config.host = Some(HostAgent {
            monitor: monitor.clone(),
            reporting,
        });
    }
    tracing::info!(name = %config.name, queues = ?config.queues, "starting worker");
    // Workers hold no database credentials: the bus is all they use.
    let bus: Arc<dyn Bus> = zmon_controller::connect_bus(&settings.controller())?;
    let running = zmon_worker::start(config, bus.clone(), Arc::new(SystemClock))
        .await
        .context("cannot start the worker (is Redis reachable?)")?;
    let glances_server = match (glances, &monitor) {
        (Some(glances), Some(monitor)) => {
            let bind = glances.bind.clone();
            let server = zmon_worker::glances::serve(glances, monitor.clone())
                .await
                .with_context(|| format!("cannot serve the Glances API on {bind}"))?;
            tracing::info!(addr = %server.local_addr(), "serving the Glances-compatible API");
            Some(server)
        }
        _ => None,
    };
    let admin = probes::serve(
        &settings.worker_admin_bind,
        Arc::new(WorkerProbe {
            bus,
            metrics: running.metrics(),
        }),
    )?;
    let stopper = running.stopper();
    on_shutdown_signal("finishing in-flight tasks", async move { stopper.stop() });
    running.run().await;
    if let Some(server) = glances_server {
        server.stop().await;
    }
    if let Some(monitor) = monitor {
        monitor.stop();
    }
    admin.stop(true).await;
    Ok(())
}

/// Runs `stop` once SIGTERM or Ctrl-C arrives.
fn on_shutdown_signal(what: &'static str, stop: impl Future<Output = ()> + Send + 'static) {
    tokio::spawn(async move {
        wait_for_shutdown_signal().await;
        tracing::info!("shutting down: {what}");
        stop.await;
    });
}

/// SIGTERM (Kubernetes) or Ctrl-C.
pub(crate) async fn wait_for_shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the process");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
