//! `/entities`: a JSON filter box and a table of the matching entities.

use actix_web::{HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;
use serde_json::Value;

use super::html;
use crate::error::ApiError;
use crate::service::entities;
use crate::state::AppState;
use crate::store::EntityQuery;
use crate::ui::SignedIn;
use crate::ui::error::UiError;
use crate::ui::view::short_value;

/// Rows rendered at most: a page of 10 000 rows helps nobody and costs
/// the browser seconds; the filter narrows it.
const MAX_ROWS: usize = 500;
const ATTRIBUTE_CHARS: usize = 160;

pub struct Row {
    pub id: String,
    pub kind: String,
    pub team: String,
    pub attributes: String,
}

#[derive(Template)]
#[template(path = "entities.html")]
struct EntitiesPage<'a> {
    nav: super::Nav<'a>,
    query: String,
    error: Option<String>,
    rows: Vec<Row>,
    total: usize,
}

#[derive(Debug, Default, Deserialize)]
pub struct Query {
    #[serde(default)]
    query: String,
}

#[get("/entities")]
pub async fn show(
    state: web::Data<AppState>,
    user: SignedIn,
    query: web::Query<Query>,
) -> Result<HttpResponse, UiError> {
    let text = query.query.trim().to_string();
    let (filters, error) = match entities::parse_query(Some(&text)) {
        Ok(f) => (f, None),
        Err(ApiError::BadRequest(message)) => (None, Some(message)),
        Err(e) => return Err(e.into()),
    };
    let found = if error.is_some() {
        Vec::new()
    } else {
        entities::list(
            &state,
            &EntityQuery {
                filters,
                exclude_key: None,
            },
        )
        .await?
    };
    let total = found.len();
    let rows = found
        .into_iter()
        .take(MAX_ROWS)
        .map(|mut doc| {
            let text = |doc: &mut serde_json::Map<String, Value>, key: &str| {
                doc.remove(key)
                    .map(|v| short_value(&v, 80))
                    .unwrap_or_default()
            };
            let id = text(&mut doc, "id");
            let kind = text(&mut doc, "type");
            let team = text(&mut doc, "team");
            Row {
                attributes: short_value(&Value::Object(doc), ATTRIBUTE_CHARS),
                id,
                kind,
                team,
            }
        })
        .collect();
    let status = if error.is_some() {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    let mut response = html(&EntitiesPage {
        nav: super::Nav::new(&user, "entities"),
        query: text,
        error,
        rows,
        total,
    })?;
    *response.status_mut() = status;
    Ok(response)
}
