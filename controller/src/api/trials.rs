//! `/api/v1/trial-runs` and instant evaluation.

use actix_web::{HttpResponse, get, post, web};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::service::trials::{
    self, InstantEvaluation, TrialRunRequest, TrialRunStarted, TrialRunView,
};
use crate::state::AppState;

/// Try a check command and an alert condition on the entities the filters
/// select, changing no state. Results come back within the check's time
/// and are kept for five minutes.
#[utoipa::path(post, path = "/api/v1/trial-runs", tag = "trial-runs",
    request_body(content = TrialRunRequest, example = json!({"check_command": "http('/health').code()",
        "alert_condition": "!= 200", "entities": [{"type": "host"}]})),
    responses(
        (status = 200, body = TrialRunStarted),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
#[post("/api/v1/trial-runs")]
pub async fn start(
    caller: Caller,
    state: web::Data<AppState>,
    body: ApiJson<TrialRunRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(trials::start(&state, &caller, body.0).await?))
}

#[utoipa::path(get, path = "/api/v1/trial-runs/{id}", tag = "trial-runs",
    params(("id" = String, Path)),
    responses((status = 200, body = TrialRunView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/api/v1/trial-runs/{id}")]
pub async fn results(
    _caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(trials::results(&state, &id).await?))
}

/// Run this check now, on every entity, besides its schedule.
#[utoipa::path(post, path = "/api/v1/check-definitions/{id}/instant-eval", tag = "trial-runs",
    params(("id" = i64, Path)),
    responses((status = 200, body = InstantEvaluation), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/api/v1/check-definitions/{id}/instant-eval")]
pub async fn evaluate_check(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(trials::evaluate_check(&state, &caller, *id).await?))
}

/// Run this alert's check now, besides its schedule.
#[utoipa::path(post, path = "/api/v1/alert-definitions/{id}/instant-eval", tag = "trial-runs",
    params(("id" = i64, Path)),
    responses((status = 200, body = InstantEvaluation), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/api/v1/alert-definitions/{id}/instant-eval")]
pub async fn evaluate_alert(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(trials::evaluate_alert(&state, &caller, *id).await?))
}
