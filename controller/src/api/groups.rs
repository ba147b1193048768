//! `/api/v1/groups` (ZMON's routes; bodies are Redis integer replies, as
//! the zmon-cli expects) and `/api/v2/groups/{g}`.

use actix_web::{HttpResponse, delete, get, put, web};
use zmon_core::group::{Group, GroupChange, GroupSpec, Member};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::service::groups;
use crate::state::AppState;

fn reply(n: i64) -> HttpResponse {
    HttpResponse::Ok().json(n)
}

/// Groups with their members and who is on call.
#[utoipa::path(get, path = "/api/v1/groups", tag = "groups",
    responses((status = 200, body = [Group]), (status = 401, body = ErrorBody)))]
#[get("/api/v1/groups")]
pub async fn list(_caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(groups::list(&state).await?))
}

#[utoipa::path(get, path = "/api/v1/groups/member/{member}", tag = "groups",
    params(("member" = String, Path, description = "Member id (an e-mail address)")),
    responses((status = 200, body = Member), (status = 401, body = ErrorBody)))]
#[get("/api/v1/groups/member/{member}")]
pub async fn get_member(
    _caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(groups::member(&state, &path).await?))
}

async fn change(
    caller: Caller,
    state: web::Data<AppState>,
    change: GroupChange,
) -> Result<HttpResponse, ApiError> {
    Ok(reply(groups::change(&state, &caller, change).await?))
}

/// Add a member (creates the group). Admins and the group's team only.
#[utoipa::path(put, path = "/api/v1/groups/{group}/member/{member}", tag = "groups",
    params(("group" = String, Path), ("member" = String, Path)),
    responses((status = 200, description = "1 if added, 0 if already a member", body = i64),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[put("/api/v1/groups/{group}/member/{member}")]
pub async fn add_member(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (group, member) = path.into_inner();
    change(caller, state, GroupChange::AddMember { group, member }).await
}

/// Remove a member; they are taken off call too (ZMON kept paging them).
#[utoipa::path(delete, path = "/api/v1/groups/{group}/member/{member}", tag = "groups",
    params(("group" = String, Path), ("member" = String, Path)),
    responses((status = 200, body = i64), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[delete("/api/v1/groups/{group}/member/{member}")]
pub async fn remove_member(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (group, member) = path.into_inner();
    change(caller, state, GroupChange::RemoveMember { group, member }).await
}

/// Put a member on call (`-1` if not a member).
#[utoipa::path(put, path = "/api/v1/groups/{group}/active/{member}", tag = "groups",
    params(("group" = String, Path), ("member" = String, Path)),
    responses((status = 200, body = i64), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[put("/api/v1/groups/{group}/active/{member}")]
pub async fn add_active(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (group, member) = path.into_inner();
    change(caller, state, GroupChange::AddActive { group, member }).await
}

#[utoipa::path(delete, path = "/api/v1/groups/{group}/active/{member}", tag = "groups",
    params(("group" = String, Path), ("member" = String, Path)),
    responses((status = 200, body = i64), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[delete("/api/v1/groups/{group}/active/{member}")]
pub async fn remove_active(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (group, member) = path.into_inner();
    change(caller, state, GroupChange::RemoveActive { group, member }).await
}

/// Take everyone off call (the CLI's handoff starts with this).
#[utoipa::path(delete, path = "/api/v1/groups/{group}/active", tag = "groups",
    params(("group" = String, Path)),
    responses((status = 200, body = i64), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[delete("/api/v1/groups/{group}/active")]
pub async fn clear_active(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let group = path.into_inner();
    change(caller, state, GroupChange::ClearActive { group }).await
}

/// Add a phone number to a member. Admins and the member only.
#[utoipa::path(put, path = "/api/v1/groups/{member}/phone/{phone}", tag = "groups",
    params(("member" = String, Path), ("phone" = String, Path)),
    responses((status = 200, body = i64), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[put("/api/v1/groups/{member}/phone/{phone}")]
pub async fn add_phone(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (member, phone) = path.into_inner();
    change(caller, state, GroupChange::AddPhone { member, phone }).await
}

#[utoipa::path(delete, path = "/api/v1/groups/{member}/phone/{phone}", tag = "groups",
    params(("member" = String, Path), ("phone" = String, Path)),
    responses((status = 200, body = i64), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[delete("/api/v1/groups/{member}/phone/{phone}")]
pub async fn remove_phone(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (member, phone) = path.into_inner();
    change(caller, state, GroupChange::RemovePhone { member, phone }).await
}

#[utoipa::path(put, path = "/api/v1/groups/{member}/name/{name}", tag = "groups",
    params(("member" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = i64), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[put("/api/v1/groups/{member}/name/{name}")]
pub async fn set_name(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (member, name) = path.into_inner();
    change(caller, state, GroupChange::SetName { member, name }).await
}

/// Replace a group in one call: name, members with names and phones, and
/// who is on call (each must be a member).
#[utoipa::path(put, path = "/api/v2/groups/{group}", tag = "groups",
    params(("group" = String, Path)),
    request_body(content = GroupSpec, example = json!({"name": "Database on-call",
        "members": [{"id": "ann@example.org", "name": "Ann", "phones": ["+491701234"]}],
        "active": ["ann@example.org"]})),
    responses((status = 200, body = Group), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[put("/api/v2/groups/{group}")]
pub async fn put_group(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<GroupSpec>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(groups::put(&state, &caller, &path, body.0).await?))
}

#[utoipa::path(delete, path = "/api/v2/groups/{group}", tag = "groups",
    params(("group" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/api/v2/groups/{group}")]
pub async fn delete_group(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    groups::delete(&state, &caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}
