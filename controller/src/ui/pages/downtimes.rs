//! `/downtimes`: downtimes in force and scheduled, deleting them, and a
//! form to schedule one (entities, alerts, start, end or duration).

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::{FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};
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
    pub start: When,
    pub end: When,
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
    /// `YYYY-MM-DDTHH:MM` at `start_offset`; empty: now.
    #[serde(default)]
    pub start: String,
    /// The browser's UTC offset in minutes at `start` (east positive),
    /// filled in by the page's script; empty: the time is UTC.
    #[serde(default)]
    pub start_offset: String,
    /// `YYYY-MM-DDTHH:MM` at `end_offset`; or `minutes`.
    #[serde(default)]
    pub end: String,
    #[serde(default)]
    pub end_offset: String,
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

/// A time as UTC text, and as RFC 3339 for the page's script to show in
/// the reader's own zone.
#[derive(Debug, Default)]
pub struct When {
    pub utc: String,
    pub iso: String,
}

fn when(ts: Option<i64>) -> When {
    ts.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| When {
            utc: t.format("%Y-%m-%d %H:%M UTC").to_string(),
            iso: t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        })
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

/// Offsets beyond ±18 h exist nowhere; chrono refuses them too.
const MAX_OFFSET_MINUTES: i32 = 18 * 60;

fn parse_offset(field: &str, text: &str) -> Result<FixedOffset, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Utc.fix());
    }
    text.parse::<i32>()
        .ok()
        .filter(|m| m.abs() <= MAX_OFFSET_MINUTES)
        .and_then(|m| FixedOffset::east_opt(m * 60))
        .ok_or_else(|| format!("{field}_offset: '{text}' is not a UTC offset in minutes"))
}

fn parse_time(field: &str, text: &str, offset: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let zone = parse_offset(field, offset)?;
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .map_err(|_| format!("{field}: '{text}' is not a time like 2026-12-24T18:00"))?;
    zone.from_local_datetime(&naive)
        .single()
        .map(|t| Some(t.timestamp()))
        .ok_or_else(|| format!("{field}: '{text}' does not exist at UTC{zone}"))
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
    let start = parse_time("start", &form.start, &form.start_offset)?;
    let end = match (
        parse_time("end", &form.end, &form.end_offset)?,
        form.minutes.trim(),
    ) {
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

    #[test]
    fn times_are_utc_unless_the_page_sends_the_browsers_offset() {
        let form = ScheduleForm {
            entities: "db-1".into(),
            start: "2026-12-24T18:00".into(),
            end: "2026-12-24T20:00".into(),
            comment: "x".into(),
            ..ScheduleForm::default()
        };
        let utc_start = 1_798_135_200; // 2026-12-24T18:00:00Z
        let utc = request(&form, 0).expect("valid");
        assert_eq!(utc.start_time.map(|s| s.0), Some(utc_start));
        assert_eq!(utc.end_time.map(|s| s.0), Some(utc_start + 7200));

        // India is UTC+05:30, so 18:00 there is 12:30 UTC.
        let india = ScheduleForm {
            start_offset: "330".into(),
            end_offset: "330".into(),
            ..form.clone()
        };
        let r = request(&india, 0).expect("valid");
        assert_eq!(r.start_time.map(|s| s.0), Some(utc_start - 330 * 60));
        assert_eq!(r.end_time.map(|s| s.0), Some(utc_start + 7200 - 330 * 60));

        for bad in ["abc", "1081", "-5000"] {
            let form = ScheduleForm {
                start_offset: bad.into(),
                ..form.clone()
            };
            assert!(
                request(&form, 0).is_err_and(|e| e.starts_with("start_offset")),
                "{bad}"
            );
        }
    }
}
