//! Wiring: connect the backends, bootstrap, and serve.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use tokio::task::JoinHandle;
use zmon_core::time::{Clock, SystemClock};
use zmon_core::{KeySpace, Role};

use crate::api;
use crate::auth::preshared::PresharedError;
use crate::auth::{Authenticator, PresharedTokens, password};
use crate::bus::{Bus, BusError, RedisBus};
use crate::config::{ControllerConfig, redact_url};
use crate::error::ApiError;
use crate::json::BodyLimit;
use crate::metrics::{self, HttpMetrics};
use crate::service::{downtimes, events, hosts, probes, streams};
use crate::state::AppState;
use crate::store::{NewUser, Store, StoreError};
use crate::ui::{self, UiSettings, session};

/// A full rebuild of the downtime mirror runs at least this often, which
/// also clears expired entries.
const FULL_MIRROR_REBUILD: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database {url}: {source}")]
    Store { url: String, source: StoreError },
    #[error("redis: {0}")]
    Bus(#[from] BusError),
    #[error(transparent)]
    Preshared(#[from] PresharedError),
    #[error("cannot listen on {bind}: {source}")]
    Bind {
        bind: String,
        source: std::io::Error,
    },
    #[error("bootstrap admin: {0}")]
    Bootstrap(String),
    #[error("web UI: {0}")]
    Ui(String),
}

/// Shorter secrets are refused: HS256 wants at least 256 bits of key.
const MIN_SESSION_SECRET_BYTES: usize = 32;

/// The UI's session signing key comes from the configuration, or else is
/// generated once and kept in the store for every replica and restart.
async fn ui_settings(
    store: &dyn Store,
    config: &ControllerConfig,
) -> Result<UiSettings, StartError> {
    let secret = match config.session_secret.as_deref().filter(|s| !s.is_empty()) {
        Some(s) if s.len() < MIN_SESSION_SECRET_BYTES => {
            return Err(StartError::Ui(format!(
                "ZMON_SESSION_SECRET must be at least {MIN_SESSION_SECRET_BYTES} bytes; \
                 e.g. `openssl rand -hex 32`"
            )));
        }
        Some(s) => s.to_string(),
        None => store
            .instance_secret(session::SECRET_NAME, &session::random_text(64))
            .await
            .map_err(|e| StartError::Ui(e.to_string()))?,
    };
    let public_url = config
        .public_url
        .as_deref()
        .map(|u| u.trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty());
    let secure = public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let providers = ui::oauth::Providers::new(&config.oauth)
        .map_err(|e| StartError::Ui(format!("OAuth HTTP client: {e}")))?;
    if public_url.is_none() && !providers.buttons().is_empty() {
        tracing::warn!(
            "ZMON_PUBLIC_URL is unset: OAuth redirect URIs are built from each request's host"
        );
    }
    Ok(UiSettings {
        providers,
        sessions: session::Sessions::new(secret.as_bytes(), config.session_ttl, secure)
            .map_err(|e| StartError::Ui(e.to_string()))?,
        public_url,
    })
}

/// Connects to the database the URL names (PostgreSQL for `postgres://`,
/// SQLite for `sqlite:` or a file path), creating it if needed, and
/// applies pending migrations.
pub async fn connect_store(config: &ControllerConfig) -> Result<Arc<dyn Store>, StartError> {
    crate::store::connect(&config.database_url, config.database_max_connections)
        .await
        .map_err(|source| StartError::Store {
            url: redact_url(&config.database_url),
            source,
        })
}

pub fn connect_bus(config: &ControllerConfig) -> Result<Arc<RedisBus>, StartError> {
    Ok(Arc::new(RedisBus::new(
        &config.redis_url,
        KeySpace::new(config.redis_prefix.clone()),
    )?))
}

/// Creates the bootstrap admin from the configuration when it is absent.
/// An existing user is left untouched, so the password can be changed
/// later without the configuration overriding it.
pub async fn bootstrap_admin(
    store: &dyn Store,
    config: &ControllerConfig,
) -> Result<(), StartError> {
    let Some(name) = config.admin_user.as_deref().filter(|n| !n.is_empty()) else {
        return Ok(());
    };
    let Some(secret) = config.admin_password.as_deref().filter(|p| !p.is_empty()) else {
        return Err(StartError::Bootstrap(
            "ZMON_ADMIN_USER is set but ZMON_ADMIN_PASSWORD is not".into(),
        ));
    };
    let fail = |e: StoreError| StartError::Bootstrap(e.to_string());
    if store.user(name).await.map_err(fail)?.is_some() {
        tracing::debug!(user = name, "bootstrap admin exists");
        return Ok(());
    }
    if secret.len() < password::MIN_PASSWORD_LEN {
        tracing::warn!(
            user = name,
            "the bootstrap admin password is shorter than {} characters",
            password::MIN_PASSWORD_LEN
        );
    }
    let hash = password::hash(secret).map_err(|e| StartError::Bootstrap(e.to_string()))?;
    let created = store
        .create_user(&NewUser {
            name: name.to_string(),
            password_hash: Some(hash),
            role: Role::Admin,
            teams: Vec::new(),
        })
        .await;
    match created {
        Ok(()) => tracing::info!(user = name, "created bootstrap admin"),
        // Another replica created it first.
        Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(fail(e)),
    }
    Ok(())
}

/// A bound, not yet awaited controller.
pub struct RunningController {
    pub addr: SocketAddr,
    server: Server,
    background: Vec<JoinHandle<()>>,
}

impl RunningController {
    /// Stops the server: gracefully (in-flight requests finish) or not.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped through its handle.
    pub async fn run(self) -> std::io::Result<()> {
        let result = self.server.await;
        for task in &self.background {
            task.abort();
        }
        result
    }
}

/// Builds the app on the given backends and binds it. Signals are not
/// handled here; the caller stops the server through [`RunningController::handle`].
pub async fn start(
    config: &ControllerConfig,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
) -> Result<RunningController, StartError> {
    start_with_clock(config, store, bus, Arc::new(SystemClock)).await
}

/// [`start`] with a chosen clock; tests replay documented examples at the
/// time they were recorded.
pub async fn start_with_clock(
    config: &ControllerConfig,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
) -> Result<RunningController, StartError> {
    let preshared = match &config.preshared_tokens {
        Some(path) => {
            let tokens = PresharedTokens::load(path)?;
            tracing::info!(count = tokens.len(), path = %path.display(), "loaded pre-shared tokens");
            tokens
        }
        None => PresharedTokens::default(),
    };
    bootstrap_admin(store.as_ref(), config).await?;
    let ui = ui_settings(store.as_ref(), config).await?;
    let state = web::Data::new(AppState {
        auth: Authenticator::new(store.clone(), preshared, clock.clone()),
        store,
        bus,
        metrics: HttpMetrics::new(),
        queues: config.queues.clone(),
        clock,
        nezha_strict_auth: config.nezha_strict_auth,
        ui,
        host_history: Default::default(),
    });
    let listener = TcpListener::bind(&config.bind).map_err(|source| StartError::Bind {
        bind: config.bind.clone(),
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        bind: config.bind.clone(),
        source,
    })?;
    let body_limit = web::Data::new(BodyLimit(config.max_body_bytes));
    let app_state = state.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .app_data(body_limit.clone())
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                ApiError::bad_request(format!("query string: {err}")).into()
            }))
            .app_data(web::PathConfig::default().error_handler(|err, req| {
                ApiError::bad_request(format!("path {}: {err}", req.path())).into()
            }))
            .configure(api::configure)
            .configure(ui::configure)
            .default_service(web::to(api::not_found))
            .wrap(ErrorHandlers::new().default_handler(api::json_error_body))
            .wrap(from_fn(metrics::record))
            .wrap(from_fn(api::trim_trailing_slash))
    })
    .disable_signals()
    .shutdown_timeout(config.shutdown_timeout.as_secs())
    .listen(listener)
    .map_err(|source| StartError::Bind {
        bind: config.bind.clone(),
        source,
    })?;
    if let Some(workers) = config.http_workers {
        server = server.workers(workers);
    }
    let server = server.run();
    let background = vec![
        tokio::spawn(downtimes::mirror_loop(
            state.clone(),
            config.mirror_check_interval,
            FULL_MIRROR_REBUILD,
        )),
        tokio::spawn(streams::consume_loop(
            state.clone(),
            config.instance_name.clone(),
            events::AlertEvents,
        )),
        tokio::spawn(streams::consume_loop(
            state.clone(),
            config.instance_name.clone(),
            probes::ProbeSamples,
        )),
        tokio::spawn(probes::prune_loop(
            state.clone(),
            probes::Retention {
                monitor_minutes: config.monitor_retention,
                events: config.event_retention,
            },
            config.monitor_prune_interval,
        )),
        tokio::spawn(hosts::sync_loop(state, config.host_sync_interval)),
    ];
    tracing::info!(%addr, "controller listening");
    Ok(RunningController {
        addr,
        server,
        background,
    })
}
