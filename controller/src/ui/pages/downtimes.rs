//! `/downtimes`: downtimes in force and scheduled, deleting them, and a
//! form to schedule one (entities, alerts, start, end or duration).

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::{NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use uuid::Uuid;
use zmon_core::downtime::DowntimeRequest;
use zmon_core::time::EpochSeconds;

use super::html;
use crate::error::ApiError;
use crate::service::downtimes;
use crate::state::AppState;
use crate::ui::SignedIn;
use crate::ui::error::UiError;
use crate::ui::view::{age, optional_text};

pub struct Row {
    pub id: String,
    pub comment: String,
    pub entities: String,
    pub alerts: Vec<i64>,
    pub start: String,
    pub end: String,
    pub state: String,
    pub created_by: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ScheduleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub entities: String,
    #[serde(default)]
    pub alerts: String,
    /// `YYYY-MM-DDTHH:MM` in UTC; empty: now.
    #[serde(default)]
    pub start: String,
    /// `YYYY-MM-DDTHH:MM` in UTC; or `minutes`.
    #[serde(default)]
    pub end: String,
    #[serde(default)]
    pub minutes: String,
    #[serde(default)]
    pub comment: String,
}

#[derive(Template)]
#[template(path = "downtimes.html")]
struct DowntimesPage<'a> {
    nav: super::Nav<'a>,
    rows: Vec<Row>,
    form: ScheduleForm,
    error: Option<String>,
    notice: Option<&'static str>,
    can_write: bool,
}

fn when(ts: Option<i64>) -> String {
    ts.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

async fn render(
    state: &AppState,
    user: &SignedIn,
    form: ScheduleForm,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<HttpResponse, UiError> {
    let now = state.clock.now().timestamp();
    let mut groups = downtimes::list(state).await?;
    groups.sort_by_key(|g| (g.start_time, g.end_time));
    let rows = groups
        .into_iter()
        .map(|g| {
            let started = g.start_time.is_some_and(|s| s <= now);
            let state = if started {
                format!(
                    "in force, {} left",
                    age(g.end_time.unwrap_or(now).saturating_sub(now) as f64)
                )
            } else {
                format!(
                    "starts in {}",
                    age(g.start_time.unwrap_or(now).saturating_sub(now) as f64)
                )
            };
            Row {
                id: g.id.to_string(),
                comment: g.comment.unwrap_or_default(),
                entities: g.entities.join(", "),
                alerts: g.alert_definitions,
                start: when(g.start_time),
                end: when(g.end_time),
                state,
                created_by: g.created_by.unwrap_or_default(),
            }
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = html(&DowntimesPage {
        nav: super::Nav::new(user, "downtimes"),
        rows,
        form,
        error,
        notice,
        can_write: user.caller.role.can_write(),
    })?;
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    done: Option<String>,
    /// Prefills the form's entities (links from the hosts pages).
    entity: Option<String>,
}

#[get("/downtimes")]
pub async fn show(
    state: web::Data<AppState>,
    user: SignedIn,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, UiError> {
    let notice = match query.done.as_deref() {
        Some("scheduled") => Some("Downtime scheduled."),
        Some("deleted") => Some("Downtime deleted; alerts it silenced notify again."),
        Some("empty") => Some(
            "Downtime recorded, but it silences nothing: no active alert definition covers these entities.",
        ),
        _ => None,
    };
    let form = ScheduleForm {
        entities: query.entity.clone().unwrap_or_default(),
        minutes: "60".into(),
        ..ScheduleForm::default()
    };
    render(&state, &user, form, None, notice).await
}

fn parse_time(field: &str, text: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .map(|t| Some(Utc.from_utc_datetime(&t).timestamp()))
        .map_err(|_| format!("{field}: '{text}' is not a time like 2026-12-24T18:00 (UTC)"))
}

fn list(text: &str) -> Vec<String> {
    text.split([',', '\n', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The form as an API request, or what is wrong with it.
fn request(form: &ScheduleForm, now: i64) -> Result<DowntimeRequest, String> {
    let start = parse_time("start", &form.start)?;
    let end = match (parse_time("end", &form.end)?, form.minutes.trim()) {
        (Some(end), _) => end,
        (None, "") => return Err("end: give an end time or a duration in minutes".into()),
        (None, minutes) => match minutes.parse::<i64>() {
            Ok(m) if m > 0 => start.unwrap_or(now) + m * 60,
            _ => {
                return Err(format!(
                    "minutes: '{minutes}' is not a positive whole number"
                ));
            }
        },
    };
    let alerts: Result<Vec<i64>, String> = list(&form.alerts)
        .iter()
        .map(|a| {
            a.trim_start_matches('#')
                .parse::<i64>()
                .map_err(|_| format!("alerts: '{a}' is not an alert definition id"))
        })
        .collect();
    let alerts = alerts?;
    Ok(DowntimeRequest {
        // Empty is left out, so the API's "comment is mandatory" applies.
        comment: optional_text(&form.comment),
        start_time: start.map(EpochSeconds),
        end_time: Some(EpochSeconds(end)),
        entities: Some(list(&form.entities)),
        alert_definitions: (!alerts.is_empty()).then_some(alerts),
    })
}

#[post("/downtimes")]
pub async fn schedule(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: SignedIn,
    form: web::Form<ScheduleForm>,
) -> Result<HttpResponse, UiError> {
    let form = form.into_inner();
    user.check_post(&req, &form.csrf)?;
    user.caller.require_write()?;
    let now = state.clock.now().timestamp();
    let request = match request(&form, now) {
        Ok(r) => r,
        Err(message) => return render(&state, &user, form, Some(message), None).await,
    };
    match downtimes::create(&state, &user.caller, request).await {
        // As in ZMON, a downtime covers the (alert, entity) pairs that exist
        // when it is scheduled; one that covers none silences nothing.
        Ok(group) if group.entities.is_empty() => Ok(HttpResponse::SeeOther()
            .insert_header((LOCATION, "/downtimes?done=empty"))
            .finish()),
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((LOCATION, "/downtimes?done=scheduled"))
            .finish()),
        Err(ApiError::BadRequest(message)) => {
            render(&state, &user, form, Some(message), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
}

#[post("/downtimes/{id}/delete")]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: SignedIn,
    id: web::Path<String>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, UiError> {
    user.check_post(&req, &form.csrf)?;
    let id = Uuid::parse_str(&id).map_err(|_| UiError::NotFound("No such downtime.".into()))?;
    downtimes::delete(&state, &user.caller, id).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, "/downtimes?done=deleted"))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_become_requests_with_an_end_or_a_duration() {
        let form = ScheduleForm {
            entities: "db-1, db-2\nweb-1".into(),
            alerts: "#3 4".into(),
            start: "2026-12-24T18:00".into(),
            minutes: "90".into(),
            comment: "x".into(),
            ..ScheduleForm::default()
        };
        let r = request(&form, 0).expect("valid");
        assert_eq!(
            r.entities.as_deref(),
            Some(&["db-1".to_string(), "db-2".into(), "web-1".into()][..])
        );
        assert_eq!(r.alert_definitions, Some(vec![3, 4]));
        let start = r.start_time.map(|s| s.0).expect("start");
        assert_eq!(r.end_time.map(|e| e.0), Some(start + 5400));
        let no_end = ScheduleForm {
            minutes: String::new(),
            ..form.clone()
        };
        assert!(request(&no_end, 0).is_err_and(|e| e.starts_with("end")));
        let bad_time = ScheduleForm {
            start: "tomorrow".into(),
            ..form
        };
        assert!(request(&bad_time, 0).is_err_and(|e| e.contains("tomorrow")));
    }
}
