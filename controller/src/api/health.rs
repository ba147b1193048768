//! `/health`, `/ready`, `/metrics`: unauthenticated, for probes and scrapers.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not ready`.
    pub status: &'static str,
    /// `ok`, or why PostgreSQL is unreachable.
    pub database: String,
    /// `ok`, or why Redis is unreachable.
    pub redis: String,
}

/// Liveness: the process answers. Never looks at dependencies, so a
/// database blip does not restart every pod.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Health)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: PostgreSQL and Redis are reachable.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let (db, redis) = tokio::join!(state.store.ping(), state.bus.ping());
    let describe = |r: Result<(), String>| r.err().unwrap_or_else(|| "ok".to_string());
    let ok = db.is_ok() && redis.is_ok();
    let body = Readiness {
        status: if ok { "ready" } else { "not ready" },
        database: describe(db.map_err(|e| e.to_string())),
        redis: describe(redis.map_err(|e| e.to_string())),
    };
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, body = String, content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}
