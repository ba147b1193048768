//! `/api/v1/alert-definitions`

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, route, web};
use zmon_core::alert::{AlertDefinition, AlertDefinitionInput};

use super::checks::StatusFilter;
use super::listing;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::service::alerts;
use crate::state::AppState;
use crate::store::AuditKind;

/// Create an alert definition.
///
/// With `parent_id`, fields left out are inherited from the parent (except
/// `team`, `responsible_team` and `status`). Templates may be incomplete;
/// other definitions must be complete after inheritance. Answers with the
/// stored node, as ZMON does.
#[utoipa::path(post, path = "/api/v1/alert-definitions", tag = "alert-definitions",
    request_body = AlertDefinitionInput,
    responses(
        (status = 200, description = "The stored definition", body = AlertDefinition),
        (status = 400, description = "Invalid, incomplete, or an unknown parent or check", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
#[post("/api/v1/alert-definitions")]
pub async fn create(
    caller: Caller,
    state: web::Data<AppState>,
    body: ApiJson<AlertDefinitionInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(alerts::create(&state, &caller, body.0).await?))
}

/// All alert definitions, merged (`HEAD` answers `Last-Modified` only).
#[utoipa::path(method(get, head), path = "/api/v1/alert-definitions", tag = "alert-definitions",
    params(StatusFilter),
    responses((status = 200, body = [AlertDefinition]), (status = 401, body = ErrorBody)))]
#[route("/api/v1/alert-definitions", method = "GET", method = "HEAD")]
pub async fn list(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
    filter: web::Query<StatusFilter>,
) -> Result<HttpResponse, ApiError> {
    listing(&req, &state, AuditKind::AlertDefinition, || {
        alerts::list(&state, filter.status)
    })
    .await
}

/// One alert definition, merged with its ancestors.
#[utoipa::path(get, path = "/api/v1/alert-definitions/{id}", tag = "alert-definitions",
    params(("id" = i64, Path)),
    responses((status = 200, body = AlertDefinition), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/api/v1/alert-definitions/{id}")]
pub async fn get_one(
    _caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(alerts::get(&state, *id).await?))
}

/// Update an alert definition. `check_definition_id` and `parent_id` are
/// never changed by an update.
#[utoipa::path(put, path = "/api/v1/alert-definitions/{id}", tag = "alert-definitions",
    params(("id" = i64, Path)), request_body = AlertDefinitionInput,
    responses(
        (status = 200, description = "The stored definition", body = AlertDefinition),
        (status = 400, description = "Invalid, or the update would leave a definition incomplete", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
#[put("/api/v1/alert-definitions/{id}")]
pub async fn update(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: ApiJson<AlertDefinitionInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(alerts::update(&state, &caller, *id, body.0).await?))
}

/// Delete an alert definition. A definition with children is a 400.
#[utoipa::path(delete, path = "/api/v1/alert-definitions/{id}", tag = "alert-definitions",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The deleted definition", body = AlertDefinition),
        (status = 400, description = "It has children", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
#[delete("/api/v1/alert-definitions/{id}")]
pub async fn delete_one(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(alerts::delete(&state, &caller, *id).await?))
}

/// Direct children of an alert definition, merged.
#[utoipa::path(get, path = "/api/v1/alert-definitions/{id}/children", tag = "alert-definitions",
    params(("id" = i64, Path)),
    responses((status = 200, body = [AlertDefinition]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/api/v1/alert-definitions/{id}/children")]
pub async fn children(
    _caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(alerts::children(&state, *id).await?))
}
