//! `/api/v1/monitors`: ICMP ping and TCP-connect monitors (ours; Nezha
//! manages them in its dashboard only). Readers list them, writers manage
//! them. Each runs as a check definition it manages, so alert definitions
//! can use `check_definition_id` like any check's.

use actix_web::{HttpResponse, delete, get, post, put, web};
use zmon_core::monitor::{Monitor, MonitorInput};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::service::monitors;
use crate::state::AppState;

/// Monitors, by id.
#[utoipa::path(get, path = "/api/v1/monitors", tag = "monitors",
    responses((status = 200, body = [Monitor]), (status = 401, body = ErrorBody)))]
#[get("/api/v1/monitors")]
pub async fn list(_caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(monitors::list(&state).await?))
}

/// Create a monitor.
///
/// `type` is `icmp` (target: a host name or address) or `tcp` (target:
/// `host:port`). `interval` defaults to 30 seconds. `cover` is `all`
/// (default), `only` or `except` the `servers`, given as fleet ids (from
/// `/api/v1/server/list`) or host entity ids. `team` defaults to the
/// caller's first team and owns the managed check definition.
#[utoipa::path(post, path = "/api/v1/monitors", tag = "monitors",
    request_body(content = MonitorInput,
        example = json!({"name": "web frontend", "type": "tcp", "target": "example.org:443", "interval": 30, "cover": "all"})),
    responses(
        (status = 201, description = "The monitor, with its check definition's id", body = Monitor),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody),
    ))]
#[post("/api/v1/monitors")]
pub async fn create(
    caller: Caller,
    state: web::Data<AppState>,
    body: ApiJson<MonitorInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(monitors::create(&state, &caller, body.0).await?))
}

#[utoipa::path(get, path = "/api/v1/monitors/{id}", tag = "monitors",
    params(("id" = i64, Path)),
    responses((status = 200, body = Monitor), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/api/v1/monitors/{id}")]
pub async fn get_one(
    _caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(monitors::get(&state, *id).await?))
}

/// Replace a monitor (the whole definition; omitted fields take their
/// defaults). Its check definition changes with it.
#[utoipa::path(put, path = "/api/v1/monitors/{id}", tag = "monitors",
    params(("id" = i64, Path)),
    request_body = MonitorInput,
    responses(
        (status = 200, body = Monitor),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
#[put("/api/v1/monitors/{id}")]
pub async fn update(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: ApiJson<MonitorInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(monitors::update(&state, &caller, *id, body.0).await?))
}

/// Delete a monitor with its check definition and history. Refused (409)
/// while alert definitions use its check.
#[utoipa::path(delete, path = "/api/v1/monitors/{id}", tag = "monitors",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The deleted monitor", body = Monitor),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ))]
#[delete("/api/v1/monitors/{id}")]
pub async fn delete_one(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(monitors::delete(&state, &caller, *id).await?))
}
