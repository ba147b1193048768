//! `/api/v1/status`, `/api/v1/teams`

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use zmon_core::AlertStatus;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::service::status::{self, ActiveAlert, AlertEntityData, PlatformStatusView};
use crate::state::AppState;

/// Platform status: raised alerts, workers and queues.
#[utoipa::path(get, path = "/api/v1/status", tag = "status",
    responses((status = 200, body = PlatformStatusView), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[get("/api/v1/status")]
pub async fn platform(
    _caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(status::platform(&state).await?))
}

/// Current state of alerts on the entities they are raised on, by alert id
/// then entity id. Alerts raised nowhere are left out.
#[utoipa::path(get, path = "/api/v1/status/alert/{ids}/", tag = "status",
    params(("ids" = String, Path, description = "Comma-separated alert ids, e.g. `69,3454`")),
    responses(
        (status = 200, body = std::collections::BTreeMap<String, std::collections::BTreeMap<String, AlertStatus>>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody),
    ))]
#[get("/api/v1/status/alert/{ids}")]
pub async fn alerts(
    _caller: Caller,
    state: web::Data<AppState>,
    ids: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ids = status::parse_ids(&ids)?;
    Ok(HttpResponse::Ok().json(status::alert_states(&state, &ids).await?))
}

/// Latest check result and captures of every entity an alert was
/// evaluated on. Empty unless the alert is ACTIVE.
#[utoipa::path(get, path = "/api/v1/status/alert/{id}/all-entities", tag = "status",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = [AlertEntityData]),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody),
    ))]
#[get("/api/v1/status/alert/{id}/all-entities")]
pub async fn all_entities(
    _caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(status::all_entities(&state, *id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ActiveAlertParams {
    /// Comma-separated team names; `*` is a wildcard. Matches `team` or
    /// `responsible_team`, case-insensitively.
    team: Option<String>,
    /// Comma-separated tags; `!tag` excludes alerts with that tag.
    tags: Option<String>,
}

/// Raised alerts, most urgent first.
#[utoipa::path(get, path = "/api/v1/status/active-alerts", tag = "status", params(ActiveAlertParams),
    responses((status = 200, body = [ActiveAlert]), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[get("/api/v1/status/active-alerts")]
pub async fn active_alerts(
    caller: Caller,
    state: web::Data<AppState>,
    params: web::Query<ActiveAlertParams>,
) -> Result<HttpResponse, ApiError> {
    let team_patterns = status::split_list(params.team.as_deref());
    let tags = status::split_list(params.tags.as_deref());
    Ok(HttpResponse::Ok()
        .json(status::active_alerts(&state, &caller, &team_patterns, &tags).await?))
}

/// Team names known from definitions and users, sorted.
#[utoipa::path(get, path = "/api/v1/teams", tag = "teams",
    responses((status = 200, body = [String]), (status = 401, body = ErrorBody)))]
#[get("/api/v1/teams")]
pub async fn teams(_caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.store.teams().await?))
}
