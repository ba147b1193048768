//! `/api/v2/events`: the event history (alert state changes and
//! notifications), newest first, with keyset pagination that stays stable
//! while events arrive.

use actix_web::{HttpResponse, get, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::store::{EventQuery, StoredEvent};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 1000;

#[derive(Debug, Deserialize, IntoParams)]
pub struct EventsQuery {
    alert_definition_id: Option<i64>,
    entity: Option<String>,
    /// Events of alert definitions owned by this team.
    team: Option<String>,
    /// Comma-separated types, e.g. `ALERT_ENTITY_STARTED,NOTIFICATION_SENT`
    /// (case-insensitive).
    types: Option<String>,
    /// Epoch seconds, inclusive.
    since: Option<f64>,
    /// Epoch seconds, exclusive.
    until: Option<f64>,
    /// 1 to 1000; default 50.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventItem {
    pub id: i64,
    /// Epoch seconds.
    pub ts: f64,
    #[serde(rename = "type")]
    pub kind: String,
    pub alert_definition_id: i64,
    pub entity: String,
    /// The worker or notifier that recorded it.
    pub actor: String,
    #[schema(value_type = Object)]
    pub captures: Map<String, Value>,
    #[schema(value_type = Object)]
    pub value: Value,
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<EventItem>,
    /// Pass as `cursor` for the next (older) page; null on the last one.
    pub next_cursor: Option<String>,
}

fn micros(seconds: f64, field: &str) -> Result<i64, ApiError> {
    if !seconds.is_finite() || seconds.abs() > 1e11 {
        return Err(ApiError::bad_request(format!("{field}: not an epoch time")));
    }
    Ok((seconds * 1e6) as i64)
}

fn encode_cursor(e: &StoredEvent) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", (e.event.ts * 1e6).round() as i64, e.id))
}

fn decode_cursor(cursor: &str) -> Result<(i64, i64), ApiError> {
    let bad = || ApiError::bad_request("cursor: not a cursor from this API");
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, id) = text.split_once(':').ok_or_else(bad)?;
    Ok((
        at.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

async fn page(state: &AppState, q: EventsQuery, alert: Option<i64>) -> Result<EventPage, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit: must be between 1 and {MAX_LIMIT}"
        )));
    }
    let kinds = q
        .types
        .iter()
        .flat_map(|t| t.split(','))
        .map(|t| t.trim().to_ascii_uppercase())
        .filter(|t| !t.is_empty())
        .map(|t| {
            zmon_core::event::AlertEventKind::parse(&t)
                .map(|k| k.as_str().to_string())
                .ok_or_else(|| ApiError::bad_request(format!("types: unknown event type '{t}'")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let query = EventQuery {
        alert_id: alert.or(q.alert_definition_id),
        entity: q.entity.filter(|e| !e.is_empty()),
        team: q.team.filter(|t| !t.is_empty()),
        kinds,
        since: q.since.map(|s| micros(s, "since")).transpose()?,
        until: q.until.map(|u| micros(u, "until")).transpose()?,
        before: q.cursor.as_deref().map(decode_cursor).transpose()?,
        limit,
    };
    let events = state.store.events(&query).await?;
    let next_cursor = (events.len() as i64 == limit)
        .then(|| events.last().map(encode_cursor))
        .flatten();
    Ok(EventPage {
        items: events
            .into_iter()
            .map(|e| EventItem {
                id: e.id,
                ts: e.event.ts,
                kind: e.event.kind.as_str().to_string(),
                alert_definition_id: e.event.alert_id,
                entity: e.event.entity,
                actor: e.event.worker,
                captures: e.event.captures,
                value: e.event.value,
                data: e.event.data,
            })
            .collect(),
        next_cursor,
    })
}

/// The event history: alerts starting and ending (per alert and per
/// entity) and notifications sent, failed and held back.
#[utoipa::path(get, path = "/api/v2/events", tag = "events", params(EventsQuery),
    responses((status = 200, body = EventPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[get("/api/v2/events")]
pub async fn list(
    _caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(page(&state, query.into_inner(), None).await?))
}

/// One alert definition's event history (same parameters).
#[utoipa::path(get, path = "/api/v2/alert-definitions/{id}/events", tag = "events",
    params(("id" = i64, Path), EventsQuery),
    responses((status = 200, body = EventPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[get("/api/v2/alert-definitions/{id}/events")]
pub async fn for_alert(
    _caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(page(&state, query.into_inner(), Some(*id)).await?))
}
