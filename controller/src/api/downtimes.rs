//! `/api/v1/downtimes`

use actix_web::{HttpResponse, delete, get, post, web};
use uuid::Uuid;
use zmon_core::downtime::{DowntimeGroup, DowntimeRequest};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::service::downtimes;
use crate::state::AppState;

/// Schedule a downtime.
///
/// Covers every (alert, entity) pair where the entity is listed and the
/// alert applies to it; `alert_definitions` narrows the alerts. Times are
/// epoch seconds (floats are truncated); `start_time` defaults to now.
#[utoipa::path(post, path = "/api/v1/downtimes", tag = "downtimes",
    request_body(content = DowntimeRequest,
        example = json!({"comment": "Cities downtime", "end_time": 1408665600, "entities": ["cd-kinshasa", "cn-peking"]})),
    responses(
        (status = 200, description = "The downtime group, listing what it covers", body = DowntimeGroup),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
#[post("/api/v1/downtimes")]
pub async fn create(
    caller: Caller,
    state: web::Data<AppState>,
    body: ApiJson<DowntimeRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(downtimes::create(&state, &caller, body.0).await?))
}

/// Downtimes in force now or scheduled for later.
#[utoipa::path(get, path = "/api/v1/downtimes", tag = "downtimes",
    responses((status = 200, body = [DowntimeGroup]), (status = 401, body = ErrorBody)))]
#[get("/api/v1/downtimes")]
pub async fn list(_caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(downtimes::list(&state).await?))
}

/// End a downtime group. An unknown id succeeds with empty lists.
#[utoipa::path(delete, path = "/api/v1/downtimes/{id}", tag = "downtimes",
    params(("id" = Uuid, Path, description = "Downtime group id")),
    responses(
        (status = 200, description = "The deleted group", body = DowntimeGroup),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
#[delete("/api/v1/downtimes/{id}")]
pub async fn delete_one(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(id.trim())
        .map_err(|_| ApiError::bad_request(format!("id: '{id}' is not a downtime id (a UUID)")))?;
    Ok(HttpResponse::Ok().json(downtimes::delete(&state, &caller, id).await?))
}
