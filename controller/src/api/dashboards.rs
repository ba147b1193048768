//! `/api/v1/dashboard`

use actix_web::{HttpResponse, get, post, web};
use zmon_core::dashboard::{Dashboard, DashboardInput};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::service::dashboards;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/dashboard/{id}", tag = "dashboards",
    params(("id" = i64, Path)),
    responses((status = 200, body = Dashboard), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/api/v1/dashboard/{id}")]
pub async fn get_one(
    _caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(dashboards::get(&state, *id).await?))
}

/// Create a dashboard, or update the one named by `id`. Answers its id.
#[utoipa::path(post, path = "/api/v1/dashboard", tag = "dashboards", request_body = DashboardInput,
    responses(
        (status = 200, description = "The dashboard's id", body = i64),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
#[post("/api/v1/dashboard")]
pub async fn upsert(
    caller: Caller,
    state: web::Data<AppState>,
    body: ApiJson<DashboardInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(dashboards::upsert(&state, &caller, body.0, None).await?))
}

/// Update the dashboard with this id. Answers its id.
#[utoipa::path(post, path = "/api/v1/dashboard/{id}", tag = "dashboards",
    params(("id" = i64, Path)), request_body = DashboardInput,
    responses(
        (status = 200, description = "The dashboard's id", body = i64),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
#[post("/api/v1/dashboard/{id}")]
pub async fn upsert_by_id(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: ApiJson<DashboardInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(dashboards::upsert(&state, &caller, body.0, Some(*id)).await?))
}
