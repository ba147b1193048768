//! `/api/v1/quick-search`, `/api/v1/onetime-tokens`

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::service::onetime_tokens::{self, OnetimeTokenView};
use crate::service::search::{self, SearchResults};
use crate::service::status::split_list;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// Matches an id prefix or part of a name, case-insensitively.
    query: Option<String>,
    /// Comma-separated team names.
    teams: Option<String>,
    /// Results per category (default 25).
    limit: Option<usize>,
}

/// Find alert definitions, check definitions and dashboards.
#[utoipa::path(get, path = "/api/v1/quick-search", tag = "search", params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 401, body = ErrorBody)))]
#[get("/api/v1/quick-search")]
pub async fn quick_search(
    _caller: Caller,
    state: web::Data<AppState>,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, ApiError> {
    let teams = split_list(params.teams.as_deref());
    let results = search::search(
        &state,
        params.query.as_deref().unwrap_or_default(),
        &teams,
        params.limit.unwrap_or(search::DEFAULT_LIMIT),
    )
    .await?;
    Ok(HttpResponse::Ok().json(results))
}

/// The caller's one-time tokens.
#[utoipa::path(get, path = "/api/v1/onetime-tokens", tag = "onetime-tokens",
    responses((status = 200, body = [OnetimeTokenView]), (status = 401, body = ErrorBody)))]
#[get("/api/v1/onetime-tokens")]
pub async fn list_onetime_tokens(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(onetime_tokens::list(&state, &caller).await?))
}

/// A new one-time token (8 characters, valid a year), as a JSON string. At
/// most one per user every 15 seconds.
#[utoipa::path(post, path = "/api/v1/onetime-tokens", tag = "onetime-tokens",
    responses(
        (status = 200, body = String, example = json!("aZ3kP9qX")),
        (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
    ))]
#[post("/api/v1/onetime-tokens")]
pub async fn create_onetime_token(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(onetime_tokens::create(&state, &caller).await?))
}
