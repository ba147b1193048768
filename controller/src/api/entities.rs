//! `/api/v1/entities`

use actix_web::{HttpResponse, delete, get, route, web};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::service::entities;
use crate::state::AppState;
use crate::store::EntityQuery;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    /// A JSON filter object, or an array of them (OR), e.g. `{"type":"host"}`.
    query: Option<String>,
    /// Keep only entities that lack this attribute.
    exclude: Option<String>,
}

/// Create or replace an entity.
///
/// The document needs an `id` (lower case, at least two characters) and a
/// `type`. Changing an existing entity's type is a 409.
#[utoipa::path(method(put, post), path = "/api/v1/entities", tag = "entities",
    request_body(content = Object, example = json!({"id": "cd-kinshasa", "type": "city", "country": "cd"})),
    responses(
        (status = 200, description = "Stored (empty body)"),
        (status = 400, description = "Invalid document", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "The entity exists with another type", body = ErrorBody),
    ))]
#[route("/api/v1/entities", method = "PUT", method = "POST")]
pub async fn upsert(
    caller: Caller,
    state: web::Data<AppState>,
    body: ApiJson<Value>,
) -> Result<HttpResponse, ApiError> {
    entities::upsert(&state, &caller, body.0).await?;
    Ok(HttpResponse::Ok().finish())
}

/// List entities, optionally filtered.
#[utoipa::path(get, path = "/api/v1/entities", tag = "entities", params(ListParams),
    responses(
        (status = 200, description = "Entities with a `last_modified` timestamp", body = [Object]),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    ))]
#[get("/api/v1/entities")]
pub async fn list(
    _caller: Caller,
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let query = EntityQuery {
        filters: entities::parse_query(params.query.as_deref())?,
        exclude_key: params.exclude.clone().filter(|k| !k.is_empty()),
    };
    Ok(HttpResponse::Ok().json(entities::list(&state, &query).await?))
}

#[utoipa::path(get, path = "/api/v1/entities/{id}", tag = "entities",
    params(("id" = String, Path, description = "Entity id")),
    responses(
        (status = 200, description = "The entity", body = Object),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
#[get("/api/v1/entities/{id}")]
pub async fn get_one(
    _caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(entities::get(&state, &id).await?))
}

/// Delete an entity. Answers `1` when it existed and `0` when not, as the
/// official CLI expects.
#[utoipa::path(delete, path = "/api/v1/entities/{id}", tag = "entities",
    params(("id" = String, Path, description = "Entity id")),
    responses(
        (status = 200, description = "`1` if deleted, `0` if it did not exist", body = String, content_type = "text/plain"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
#[delete("/api/v1/entities/{id}")]
pub async fn delete_one(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let deleted = entities::delete(&state, &caller, &id).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain")
        .body(if deleted { "1" } else { "0" }))
}
