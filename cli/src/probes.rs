//! The small HTTP server of the scheduler and worker roles: `/health`,
//! `/ready` and `/metrics` for probes and scrapers.

use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use async_trait::async_trait;
use serde_json::json;

#[async_trait]
pub trait Probe: Send + Sync + 'static {
    /// `Ok` when the role's dependencies answer, else what is wrong.
    async fn ready(&self) -> Result<(), String>;
    fn metrics(&self) -> String;
}

type Shared = web::Data<Arc<dyn Probe>>;

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn ready(probe: Shared) -> HttpResponse {
    match probe.ready().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Err(e) => {
            HttpResponse::ServiceUnavailable().json(json!({"status": "not ready", "reason": e}))
        }
    }
}

async fn metrics(probe: Shared) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(probe.metrics())
}

/// Starts the server; it runs until stopped through the returned handle.
pub fn serve(bind: &str, probe: Arc<dyn Probe>) -> anyhow::Result<ServerHandle> {
    let data: Shared = web::Data::new(probe);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/health", web::get().to(health))
            .route("/ready", web::get().to(ready))
            .route("/metrics", web::get().to(metrics))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .bind(bind)
    .with_context(|| format!("cannot listen on {bind}"))?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    tracing::info!(bind, "admin endpoints listening");
    Ok(handle)
}
