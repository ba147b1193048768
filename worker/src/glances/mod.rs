//! A Glances-compatible REST API (v4, with the v3 and v2 paths its older
//! clients use) served by each worker from the host monitor's snapshots.
//!
//! Requests only read the latest [`Snapshot`](zmon_checks::host::Snapshot):
//! collection runs on the sampler's fixed tick however often clients poll,
//! which is the main fix over Glances, where every request can trigger one.

mod auth;
mod cors;
mod error;
mod info;
mod legacy;
mod plugin;
mod reply;
mod v4;

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, ResponseError, web};
use zmon_checks::host::HostMonitor;

pub use error::ApiError;
pub use reply::GZIP_MIN_BYTES;

/// The Glances version we answer as on `/api/4/status`: clients such as
/// Glances' central browser compare it to pick an API version.
pub const GLANCES_VERSION: &str = "4.5.0";

/// Everything the Glances API needs to know.
#[derive(Clone)]
pub struct GlancesConfig {
    /// `host:port` to listen on; loopback by default, since the API shows
    /// process command lines.
    pub bind: String,
    /// The user for HTTP Basic and tokens.
    pub username: String,
    /// With a password, every route but `/status` needs credentials.
    pub password: Option<String>,
    /// Origins allowed to read the API from a browser; `*` for any.
    pub cors_origins: Vec<String>,
    /// Whether browsers may send credentials; always off with `*`.
    pub cors_credentials: bool,
    /// Host names accepted in `Host`; empty accepts any.
    pub allowed_hosts: Vec<String>,
    /// A path prefix before `/api/4`, e.g. `/glances`.
    pub url_prefix: String,
    /// How long a token from `/api/4/token` stays valid.
    pub jwt_expire: Duration,
}

impl Default for GlancesConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:61208".to_string(),
            username: "glances".to_string(),
            password: None,
            cors_origins: vec!["*".to_string()],
            cors_credentials: false,
            allowed_hosts: Vec::new(),
            url_prefix: String::new(),
            jwt_expire: Duration::from_secs(60 * 60),
        }
    }
}

// By hand so that logging a config never prints the password.
impl std::fmt::Debug for GlancesConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlancesConfig")
            .field("bind", &self.bind)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "********"))
            .field("cors_origins", &self.cors_origins)
            .field("cors_credentials", &self.cors_credentials)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("url_prefix", &self.url_prefix)
            .field("jwt_expire", &self.jwt_expire)
            .finish()
    }
}

/// What every handler shares.
struct State {
    monitor: HostMonitor,
    config: GlancesConfig,
    auth: auth::Auth,
    cors: cors::Cors,
    hosts: cors::AllowedHosts,
    /// Full paths that never need credentials (the health checks).
    open_paths: Vec<String>,
    /// The pid whose extended stats a client asked for; we collect none,
    /// so this only makes `/processes/extended` answer consistently.
    extended_pid: Mutex<Option<u64>>,
}

/// A running Glances API server.
pub struct GlancesServer {
    addr: SocketAddr,
    handle: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl std::fmt::Debug for GlancesServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlancesServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl GlancesServer {
    /// The address it listens on (the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections, lets requests in flight finish, and
    /// waits for the server to end.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, "glances API server ended with an error"),
            Err(err) => tracing::warn!(error = %err, "glances API server task failed"),
        }
    }
}

/// `/glances/` and `glances` both become `/glances`; empty stays empty.
fn normalise_prefix(prefix: &str) -> String {
    let trimmed = prefix.trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

/// Binds and starts the server in the current Tokio runtime.
pub async fn serve(config: GlancesConfig, monitor: HostMonitor) -> std::io::Result<GlancesServer> {
    let listener = std::net::TcpListener::bind(&config.bind)?;
    let addr = listener.local_addr()?;
    let prefix = normalise_prefix(&config.url_prefix);
    let state = web::Data::new(State {
        auth: auth::Auth::new(
            &config.username,
            config.password.as_deref(),
            config.jwt_expire,
        ),
        cors: cors::Cors::new(&config.cors_origins, config.cors_credentials),
        hosts: cors::AllowedHosts::new(&config.allowed_hosts),
        open_paths: vec![
            format!("{prefix}/api/4/status"),
            format!("{prefix}/api/3/status"),
            format!("{prefix}/api/4/token"),
        ],
        extended_pid: Mutex::new(None),
        monitor,
        config,
    });
    let server = HttpServer::new(move || {
        let prefix = prefix.clone();
        App::new()
            .app_data(state.clone())
            .app_data(
                web::PathConfig::default()
                    .error_handler(|err, _| ApiError::not_found(format!("bad path: {err}")).into()),
            )
            .service(web::scope(&format!("{prefix}/api/4")).configure(v4::routes))
            .service(web::scope(&format!("{prefix}/api/3")).configure(legacy::v3_routes))
            .service(web::scope(&format!("{prefix}/api/2")).configure(legacy::v2_routes))
            .default_service(web::to(not_found))
            .wrap(from_fn(auth::require))
            .wrap(from_fn(cors::filter))
    })
    // Handlers only read a snapshot; two workers leave the cores to the
    // checks and the sampler.
    .workers(2)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    tracing::info!(%addr, "glances API listening");
    Ok(GlancesServer { addr, handle, task })
}

async fn not_found() -> actix_web::HttpResponse {
    ApiError::not_found("Not Found").error_response()
}
