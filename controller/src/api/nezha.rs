//! Nezha's v0 fleet API (`reference/seeds/nezha-api.txt`): the
//! `{code, message, result}` envelope, the raw `Authorization: <token>`
//! header (Bearer and Basic work too), and HTTP 200 with `code: 403` for a
//! missing or wrong token, as Nezha answers; `?strict=1` gives a real 401.

use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::service::fleet::{self, Selection};
use crate::state::AppState;

/// Nezha's own message, which its clients may compare.
const AUTH_REQUIRED: &str = "访问此接口需要认证";

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    tag: Option<String>,
    strict: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DetailsQuery {
    id: Option<String>,
    tag: Option<String>,
    strict: Option<String>,
}

/// `?strict=1`, or the controller's `nezha_strict_auth` setting.
fn strict(state: &AppState, flag: Option<&str>) -> bool {
    state.nezha_strict_auth || matches!(flag, Some("1" | "true" | "yes"))
}

async fn caller(state: &AppState, req: &HttpRequest) -> Result<Caller, ApiError> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .map(|v| v.to_str().map(str::trim).map(str::to_string));
    match header {
        None => Err(ApiError::Unauthenticated),
        Some(Err(_)) => Err(ApiError::BadCredentials),
        Some(Ok(h)) if h.is_empty() => Err(ApiError::Unauthenticated),
        Some(Ok(h)) => {
            let scheme = h.split_once(' ').map(|(s, _)| s).unwrap_or_default();
            if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("basic") {
                state.auth.authenticate(Some(&h)).await
            } else {
                state.auth.token(&h).await
            }
        }
    }
}

/// Answers a failed authentication the way Nezha does, or with a real 401.
fn refused(error: ApiError, strict: bool) -> Result<HttpResponse, ApiError> {
    match error {
        ApiError::Unauthenticated | ApiError::BadCredentials if !strict => {
            Ok(HttpResponse::Ok().json(json!({"code": 403, "message": AUTH_REQUIRED})))
        }
        other => Err(other),
    }
}

fn envelope(result: Value, now: i64) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "code": 0,
        "message": "success",
        "result": result,
        // Additive: clients can judge `last_active` against our clock.
        "now": now,
    }))
}

async fn answer(
    state: &AppState,
    req: &HttpRequest,
    selection: Selection,
    strict_flag: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    if let Err(e) = caller(state, req).await {
        return refused(e, strict(state, strict_flag));
    }
    let now = state.clock.now().timestamp();
    let servers = fleet::servers(state, &selection, now).await?;
    let result = serde_json::to_value(servers).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(envelope(result, now))
}

#[get("/api/v1/server/list")]
pub async fn server_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let selection = Selection {
        ids: None,
        tag: query.tag.filter(|t| !t.is_empty()),
        details: false,
    };
    answer(&state, &req, selection, query.strict.as_deref()).await
}

#[get("/api/v1/server/details")]
pub async fn server_details(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<DetailsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    // Ids that do not parse match no server, as in Nezha.
    let ids = query.id.filter(|i| !i.trim().is_empty()).map(|ids| {
        ids.split(',')
            .map(|i| i.trim().parse::<i64>().unwrap_or(0))
            .collect()
    });
    let selection = Selection {
        ids,
        tag: query.tag.filter(|t| !t.is_empty()),
        details: true,
    };
    answer(&state, &req, selection, query.strict.as_deref()).await
}

/// `GET /api/v1/monitor/{id}`: the last 24 h of every ICMP/TCP monitor
/// probed from a server (see [`fleet::monitor_history`]). The errors are
/// Nezha's (HTTP 400 for a bad id, 404 for an unknown one). Like Nezha it
/// needs no token, except for servers hidden from guests.
#[get("/api/v1/monitor/{id}")]
pub async fn monitor(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let Ok(id) = id.trim().parse::<u64>() else {
        return Ok(HttpResponse::BadRequest().json(json!({"code": 400, "message": "id参数错误"})));
    };
    let now = state.clock.now().timestamp();
    let selection = Selection {
        ids: Some(vec![i64::try_from(id).unwrap_or(i64::MAX)]),
        tag: None,
        details: false,
    };
    let Some(server) = fleet::servers(&state, &selection, now).await?.pop() else {
        return Ok(HttpResponse::NotFound().json(json!({"code": 404, "message": "id不存在"})));
    };
    if server.hide_for_guest && caller(&state, &req).await.is_err() {
        return Ok(HttpResponse::Forbidden().json(json!({"code": 403, "message": "需要认证"})));
    }
    let history = fleet::monitor_history(&state, &server, now).await?;
    let result = serde_json::to_value(history).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(envelope(result, now))
}
