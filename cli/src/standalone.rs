//! `zmon standalone`: controller, scheduler, worker (the local host's
//! agent) and the Glances API in one process, with one shutdown path.
//!
//! On first run (no admin user yet) it creates the admin, prints its
//! password and an API token once unless `ZMON_ADMIN_PASSWORD` is set, and
//! loads the ready-made host checks, so alerts and host status mean
//! something at once. Later runs keep everything and print no secrets.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use uuid::Uuid;
use zmon_bus::{Bus, MemoryBus, MemoryBusConfig};
use zmon_checks::host::HostMonitor;
use zmon_controller::auth::tokens;
use zmon_controller::config::redact_url;
use zmon_controller::store::{Backend, NewToken, Store};
use zmon_core::time::SystemClock;
use zmon_worker::HostAgent;

use crate::library::{self, Credentials};
use crate::settings::Settings;

/// The host checks and alerts, loaded on first run.
const HOST_LIBRARY: &str = include_str!("../../checks/library/host.yaml");

const ADMIN: &str = "admin";
const DEFAULT_GLANCES_BIND: &str = "127.0.0.1:61208";
/// Relative to the working directory, like Grafana's and Gatus' data dirs.
const DEFAULT_DATABASE: &str = "zmon-data/zmon.db";

/// What the first run created, shown once.
struct Secrets {
    password: Option<String>,
    token: String,
}

/// Standalone's own defaults for settings the user did not give.
fn standalone_settings(settings: &Settings, explicit: &BTreeSet<String>) -> Settings {
    let mut settings = settings.clone();
    if !explicit.contains("glances_bind") {
        settings.glances_bind = Some(DEFAULT_GLANCES_BIND.into());
    }
    if !explicit.contains("database_url") {
        settings.database_url = DEFAULT_DATABASE.into();
    }
    settings
}

pub async fn standalone(settings: &Settings, explicit: &BTreeSet<String>) -> anyhow::Result<()> {
    let settings = standalone_settings(settings, explicit);
    let mut controller_config = settings.controller();
    controller_config.oauth = settings.oauth()?;
    // The local host should show up within seconds, not at the next
    // 10 s round.
    controller_config.host_sync_interval = Duration::from_secs(1);

    let store: Arc<dyn Store> = zmon_controller::connect_store(&controller_config)
        .await
        .context("cannot open the database")?;
    // Redis only when asked for: one process needs no broker.
    let redis = explicit.contains("redis_url");
    let bus: Arc<dyn Bus> = if redis {
        zmon_controller::connect_bus(&controller_config)?
    } else {
        Arc::new(MemoryBus::new(MemoryBusConfig::default()))
    };

    let admin = controller_config
        .admin_user
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| ADMIN.into());
    let first_run = store.user(&admin).await?.is_none();
    let generated_password =
        (first_run && controller_config.admin_password.is_none()).then(tokens::generate);
    controller_config.admin_user = Some(admin.clone());
    if let Some(password) = &generated_password {
        controller_config.admin_password = Some(password.clone());
    }
    if controller_config.admin_password.is_none() {
        // Not the first run and no password given: the admin exists.
        controller_config.admin_user = None;
    }

    let controller = zmon_controller::start(&controller_config, store.clone(), bus.clone()).await?;
    let base = format!("http://{}", controller.addr);
    let controller_handle = controller.handle();
    let controller_task = tokio::spawn(controller.run());

    let scheduler = zmon_scheduler::start(
        settings.scheduler(),
        store.clone(),
        bus.clone(),
        Arc::new(SystemClock),
    );
    let scheduler_stop = scheduler.stopper();
    let scheduler_task = tokio::spawn(scheduler.run());

    let monitor = HostMonitor::start(settings.sampler());
    zmon_checks::host::install(monitor.clone());
    let mut worker_config = settings.worker();
    let reporting = settings.host_reporting();
    let host_id = reporting.as_ref().map(|r| r.entity_id.clone());
    if let Some(reporting) = reporting {
        worker_config.host = Some(HostAgent {
            monitor: monitor.clone(),
            reporting,
        });
    }
    let worker = zmon_worker::start(worker_config, bus.clone(), Arc::new(SystemClock))
        .await
        .context("cannot start the worker")?;
    let worker_stop = worker.stopper();
    let worker_task = tokio::spawn(worker.run());

    // Notifications are delivered in process too; targets without settings
    // fail with a message naming the setting.
    let mut notifier_config = settings.notifier();
    if public_url_unset(&settings) {
        notifier_config.public_url = Some(base.clone());
    }
    let notifier = zmon_worker::notifier::Notifier::new(notifier_config, bus.clone())
        .map_err(|e| anyhow::anyhow!("invalid notifier configuration: {e}"))?;
    let notifier_stop = notifier.stopper();
    let notifier_task = tokio::spawn(notifier.run());

    let glances = match settings.glances() {
        Some(config) => {
            let bind = config.bind.clone();
            Some(
                zmon_worker::glances::serve(config, monitor.clone())
                    .await
                    .with_context(|| format!("cannot serve the Glances API on {bind}"))?,
            )
        }
        None => None,
    };

    let secrets = if first_run {
        first_run_setup(
            store.as_ref(),
            &base,
            &admin,
            generated_password,
            controller_config.admin_password.clone(),
        )
        .await
    } else {
        None
    };
    print_summary(
        &settings,
        redis,
        &base,
        glances.as_ref().map(|g| g.local_addr()),
        host_id.as_deref(),
        &admin,
        secrets.as_ref(),
    );

    crate::roles::wait_for_shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight checks and requests");
    worker_stop.stop();
    scheduler_stop.stop();
    notifier_stop.stop();
    let _ = notifier_task.await;
    let _ = worker_task.await;
    let _ = scheduler_task.await;
    if let Some(glances) = glances {
        glances.stop().await;
    }
    controller_handle.stop(true).await;
    let _ = controller_task.await;
    monitor.stop();
    tracing::info!("standalone stopped");
    Ok(())
}

/// Makes an API token for the admin and loads the host library. Failures
/// are logged, not fatal: the server is useful without them.
async fn first_run_setup(
    store: &dyn Store,
    base: &str,
    admin: &str,
    generated_password: Option<String>,
    password: Option<String>,
) -> Option<Secrets> {
    let token = tokens::generate();
    let created = store
        .create_token(&NewToken {
            id: Uuid::new_v4(),
            user_name: admin.to_string(),
            token_hash: tokens::hash(&token),
            label: Some("created by the first run of zmon standalone".into()),
            expires_at: None,
        })
        .await;
    let token = match created {
        Ok(()) => Some(token),
        Err(e) => {
            tracing::warn!(error = %e, "cannot create the admin's API token");
            None
        }
    };
    let credentials = match (&token, &password) {
        (Some(token), _) => Credentials::Token(token.clone()),
        (None, Some(password)) => Credentials::Basic(admin.to_string(), Some(password.clone())),
        (None, None) => Credentials::None,
    };
    match library::load_text(base, credentials, HOST_LIBRARY, "the host library", false).await {
        Ok((checks, alerts)) => {
            tracing::info!(checks, alerts, "loaded the host checks and alerts")
        }
        Err(e) => tracing::warn!(error = %e, "cannot load the host checks and alerts"),
    }
    // Shown only when we made the password: a configured one is known.
    generated_password.and_then(|password| {
        token.map(|token| Secrets {
            password: Some(password),
            token,
        })
    })
}

fn print_summary(
    settings: &Settings,
    redis: bool,
    base: &str,
    glances: Option<std::net::SocketAddr>,
    host: Option<&str>,
    admin: &str,
    secrets: Option<&Secrets>,
) {
    let mut lines = vec![
        format!("zmon standalone {} is running", env!("CARGO_PKG_VERSION")),
        format!("  API           {base}/api/v1/  (interactive docs {base}/docs/)"),
    ];
    if let Some(addr) = glances {
        lines.push(format!("  Glances API   http://{addr}/api/4/"));
    }
    lines.push(match Backend::for_url(&settings.database_url) {
        Ok(Backend::Sqlite) => {
            let path = settings.database_url.trim_start_matches("sqlite:");
            let path = std::path::Path::new(path.trim_start_matches("//"));
            let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            format!("  Data          SQLite {}", shown.display())
        }
        _ => format!(
            "  Data          PostgreSQL {}",
            redact_url(&settings.database_url)
        ),
    });
    lines.push(if redis {
        format!("  Bus           Redis {}", redact_url(&settings.redis_url))
    } else {
        "  Bus           in-process (set ZMON_REDIS_URL to use Redis)".into()
    });
    if let Some(host) = host {
        lines.push(format!(
            "  This host     entity '{host}'; its checks run in this process"
        ));
    }
    match secrets {
        Some(secrets) => {
            lines.push(String::new());
            lines.push("  First run: these secrets are shown only this once.".into());
            if let Some(password) = &secrets.password {
                lines.push(format!("  Admin         {admin} / {password}"));
            }
            lines.push(format!("  API token     {}", secrets.token));
            lines.push(format!(
                "  Try           curl -H 'Authorization: Bearer {}' {base}/api/v1/entities",
                secrets.token
            ));
        }
        None => lines.push(format!("  Admin         {admin}")),
    }
    lines.push(format!("  Started       {}", Utc::now().to_rfc3339()));
    println!("{}", lines.join("\n"));
}

fn public_url_unset(settings: &Settings) -> bool {
    settings.public_url.as_deref().is_none_or(str::is_empty)
}
