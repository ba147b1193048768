//! `/api/v1/check-definitions` and the scheduler's `/api/v1/checks/*` lists.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zmon_core::alert::AlertDefinition;
use zmon_core::check::{CheckDefinition, CheckDefinitionInput, DefinitionStatus};

use super::listing;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::service::{alerts, checks};
use crate::state::AppState;
use crate::store::AuditKind;

#[derive(Debug, Deserialize, IntoParams)]
pub struct StatusFilter {
    /// Only definitions with this status.
    pub status: Option<DefinitionStatus>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckSnapshot {
    /// Grows with every change of a check or alert definition.
    pub snapshot_id: i64,
    pub check_definitions: Vec<CheckDefinition>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertSnapshot {
    pub snapshot_id: i64,
    pub alert_definitions: Vec<AlertDefinition>,
}

async fn snapshot_id(state: &AppState) -> Result<i64, ApiError> {
    Ok(state
        .store
        .change_counter(&[AuditKind::CheckDefinition, AuditKind::AlertDefinition])
        .await?)
}

/// Create or update a check definition.
///
/// The target is found by `id`, else by `source_url`, else by `name` and
/// `owning_team` (case-insensitive). `last_modified_by` is always the caller.
#[utoipa::path(post, path = "/api/v1/check-definitions", tag = "check-definitions",
    request_body = CheckDefinitionInput,
    responses(
        (status = 200, description = "The stored definition", body = CheckDefinition),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
    ))]
#[post("/api/v1/check-definitions")]
pub async fn upsert(
    caller: Caller,
    state: web::Data<AppState>,
    body: ApiJson<CheckDefinitionInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(checks::upsert(&state, &caller, body.0, None).await?))
}

/// Create or update the check definition with this id.
#[utoipa::path(post, path = "/api/v1/check-definitions/{id}", tag = "check-definitions",
    params(("id" = i64, Path)), request_body = CheckDefinitionInput,
    responses(
        (status = 200, body = CheckDefinition),
        (status = 400, description = "Invalid, or the body's id differs from the path", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
    ))]
#[post("/api/v1/check-definitions/{id}")]
pub async fn upsert_by_id(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: ApiJson<CheckDefinitionInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(checks::upsert(&state, &caller, body.0, Some(*id)).await?))
}

/// All check definitions (`HEAD` answers `Last-Modified` only).
#[utoipa::path(method(get, head), path = "/api/v1/check-definitions", tag = "check-definitions",
    params(StatusFilter),
    responses((status = 200, body = [CheckDefinition]), (status = 401, body = ErrorBody)))]
#[route("/api/v1/check-definitions", method = "GET", method = "HEAD")]
pub async fn list(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
    filter: web::Query<StatusFilter>,
) -> Result<HttpResponse, ApiError> {
    listing(&req, &state, AuditKind::CheckDefinition, || {
        checks::list(&state, filter.status)
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/check-definitions/{id}", tag = "check-definitions",
    params(("id" = i64, Path)),
    responses((status = 200, body = CheckDefinition), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/api/v1/check-definitions/{id}")]
pub async fn get_one(
    _caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(checks::get(&state, *id).await?))
}

/// Delete a check definition. Refused (409) while alert definitions use it.
#[utoipa::path(delete, path = "/api/v1/check-definitions/{id}", tag = "check-definitions",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The deleted definition", body = CheckDefinition),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ))]
#[delete("/api/v1/check-definitions/{id}")]
pub async fn delete_one(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(checks::delete(&state, &caller, *id).await?))
}

async fn check_snapshot(
    req: &HttpRequest,
    state: &AppState,
    status: Option<DefinitionStatus>,
) -> Result<HttpResponse, ApiError> {
    listing(req, state, AuditKind::CheckDefinition, || async {
        Ok(CheckSnapshot {
            snapshot_id: snapshot_id(state).await?,
            check_definitions: checks::list(state, status).await?,
        })
    })
    .await
}

/// ACTIVE check definitions, as the scheduler loads them.
#[utoipa::path(method(get, head), path = "/api/v1/checks/all-active-check-definitions", tag = "checks",
    responses((status = 200, body = CheckSnapshot), (status = 401, body = ErrorBody)))]
#[route(
    "/api/v1/checks/all-active-check-definitions",
    method = "GET",
    method = "HEAD"
)]
pub async fn all_active_checks(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_snapshot(&req, &state, Some(DefinitionStatus::Active)).await
}

/// Check definitions of every status.
#[utoipa::path(method(get, head), path = "/api/v1/checks/all-check-definitions", tag = "checks",
    responses((status = 200, body = CheckSnapshot), (status = 401, body = ErrorBody)))]
#[route(
    "/api/v1/checks/all-check-definitions",
    method = "GET",
    method = "HEAD"
)]
pub async fn all_checks(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_snapshot(&req, &state, None).await
}

/// Merged, ACTIVE, non-template alert definitions, as the scheduler loads them.
#[utoipa::path(method(get, head), path = "/api/v1/checks/all-active-alert-definitions", tag = "checks",
    responses((status = 200, body = AlertSnapshot), (status = 401, body = ErrorBody)))]
#[route(
    "/api/v1/checks/all-active-alert-definitions",
    method = "GET",
    method = "HEAD"
)]
pub async fn all_active_alerts(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    listing(&req, &state, AuditKind::AlertDefinition, || async {
        Ok(AlertSnapshot {
            snapshot_id: snapshot_id(&state).await?,
            alert_definitions: alerts::all_active(&state).await?,
        })
    })
    .await
}
