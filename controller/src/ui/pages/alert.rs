//! `/alerts/{id}`: one alert definition as it is evaluated: the merged
//! definition (inherited fields marked), the entities it was evaluated on,
//! a chart of the check's recent values, the event history, and actions.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;
use serde_json::Value;
use zmon_core::alert::AlertDefinition;
use zmon_core::downtime::DowntimeRequest;
use zmon_core::message::format_alert_title;
use zmon_core::time::EpochSeconds;

use super::html;
use crate::error::ApiError;
use crate::service::{alerts, downtimes, trials};
use crate::state::AppState;
use crate::store::EventQuery;
use crate::ui::SignedIn;
use crate::ui::chart::{Series, line_chart};
use crate::ui::error::UiError;
use crate::ui::view::{Severity, age, form_field, optional_text, short_value};

const CHART_SERIES: usize = 6;
const RESULTS_PER_ENTITY: usize = 20;
const EVENTS_SHOWN: i64 = 50;
const VALUE_CHARS: usize = 80;
/// Downtimes scheduled from this page last at most a week; longer ones
/// belong on the downtimes page with an explicit end.
const MAX_DOWNTIME_MINUTES: i64 = 7 * 24 * 60;

pub struct Field {
    pub name: &'static str,
    pub value: String,
    /// The ancestor the value comes from.
    pub inherited_from: Option<i64>,
}

pub struct EntityRow {
    pub id: String,
    pub raised: bool,
    pub since: String,
    pub in_downtime: bool,
    pub value: String,
    pub failed: bool,
    pub captures: Vec<(String, String)>,
}

pub struct EventRow {
    pub when: String,
    pub kind: String,
    pub entity: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "alert.html")]
struct AlertPage<'a> {
    nav: super::Nav<'a>,
    id: i64,
    title: String,
    severity_class: &'static str,
    severity_label: &'static str,
    parent_id: Option<i64>,
    template: bool,
    check_id: Option<i64>,
    fields: Vec<Field>,
    parameters: Vec<(String, String)>,
    entities: Vec<EntityRow>,
    raised: usize,
    chart: Option<String>,
    chart_fields: Vec<String>,
    chart_field: String,
    events: Vec<EventRow>,
    can_write: bool,
    can_edit: bool,
    notice: Option<&'static str>,
    error: Option<String>,
}

fn text_of<T: serde::Serialize>(v: &Option<T>) -> Option<String> {
    v.as_ref().map(|v| match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    })
}

/// The merged definition's fields, each with the ancestor it came from
/// when the node itself leaves it out.
fn fields(merged: &AlertDefinition, lineage: &[AlertDefinition]) -> Vec<Field> {
    macro_rules! rows {
        ($($label:literal => $field:ident),*) => {
            vec![$({
                let own = lineage.first().and_then(|n| text_of(&n.$field));
                let source = lineage.iter().skip(1).find(|n| n.$field.is_some()).map(|n| n.id);
                Field {
                    name: $label,
                    value: text_of(&merged.$field).unwrap_or_default(),
                    inherited_from: if own.is_none() { source } else { None },
                }
            }),*]
        };
    }
    let mut rows = rows!(
        "name" => name,
        "description" => description,
        "condition" => condition,
        "check" => check_definition_id,
        "priority" => priority,
        "entities" => entities,
        "entities_exclude" => entities_exclude,
        "notifications" => notifications,
        "period" => period,
        "tags" => tags
    );
    rows.push(Field {
        name: "team",
        value: format!("{} (responsible: {})", merged.team, merged.responsible_team),
        inherited_from: None,
    });
    rows.push(Field {
        name: "status",
        value: format!("{:?}", merged.status).to_uppercase(),
        inherited_from: None,
    });
    rows
}

/// A number to chart from a check value: the value itself, or one of its
/// numeric fields.
fn numeric(value: &Value, field: &str) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::Object(map) => map.get(field).and_then(Value::as_f64),
        _ => None,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    /// Which numeric field of an object value to chart.
    field: Option<String>,
    /// Which action just happened (a fixed message, never echoed text).
    done: Option<String>,
}

async fn render(
    state: &AppState,
    user: &SignedIn,
    id: i64,
    query: &DetailQuery,
    error: Option<String>,
) -> Result<HttpResponse, UiError> {
    let (merged, lineage) = alerts::get_with_lineage(state, id).await?;
    let check_id = merged.check_definition_id;
    let evaluated = state
        .bus
        .evaluated_entities(id)
        .await
        .map_err(ApiError::from)?;
    let mut raised_states = state
        .bus
        .alert_states(&[id])
        .await
        .map_err(ApiError::from)?
        .remove(&id)
        .unwrap_or_default();
    let history = match check_id {
        Some(check) => state
            .bus
            .evaluated_entity_results(id, check, RESULTS_PER_ENTITY)
            .await
            .map_err(ApiError::from)?,
        None => Vec::new(),
    };
    let history: BTreeMap<String, Vec<zmon_core::status::CheckResult>> =
        history.into_iter().collect();
    let now = state.clock.now().timestamp_micros() as f64 / 1e6;

    let raised_for_title: Vec<(String, serde_json::Map<String, Value>)> = raised_states
        .iter()
        .map(|(e, s)| (e.clone(), s.captures.clone()))
        .collect();
    let names: BTreeSet<String> = evaluated
        .keys()
        .chain(raised_states.keys())
        .cloned()
        .collect();
    let mut entities: Vec<EntityRow> = names
        .into_iter()
        .map(|entity| {
            let latest = history.get(&entity).and_then(|r| r.first());
            let raised = raised_states.remove(&entity);
            let captures = raised
                .as_ref()
                .map(|s| s.captures.clone())
                .or_else(|| evaluated.get(&entity).cloned())
                .unwrap_or_default();
            let value = raised
                .as_ref()
                .map(|s| s.value.clone())
                .or_else(|| latest.map(|r| r.value.clone()))
                .unwrap_or(Value::Null);
            EntityRow {
                raised: raised.is_some(),
                since: raised
                    .as_ref()
                    .map(|s| age(now - s.start_time))
                    .unwrap_or_default(),
                in_downtime: raised.as_ref().is_some_and(|s| !s.downtimes.is_empty()),
                failed: latest.is_some_and(|r| r.exc.is_some()),
                value: short_value(&value, VALUE_CHARS),
                captures: captures
                    .iter()
                    .map(|(k, v)| (k.clone(), short_value(v, VALUE_CHARS)))
                    .collect(),
                id: entity,
            }
        })
        .collect();
    entities.sort_by(|a, b| b.raised.cmp(&a.raised).then(a.id.cmp(&b.id)));
    let raised = entities.iter().filter(|e| e.raised).count();

    // Object values: chart the field asked for, else the first numeric one.
    let mut chart_fields: BTreeSet<String> = BTreeSet::new();
    for results in history.values() {
        for r in results {
            if let Value::Object(map) = &r.value {
                chart_fields.extend(
                    map.iter()
                        .filter(|(_, v)| v.is_number())
                        .map(|(k, _)| k.clone()),
                );
            }
        }
    }
    let chart_field = query
        .field
        .clone()
        .filter(|f| chart_fields.contains(f))
        .or_else(|| chart_fields.first().cloned())
        .unwrap_or_default();
    let series: Vec<Series> = entities
        .iter()
        .filter_map(|e| {
            let points: Vec<(f64, f64)> = history
                .get(&e.id)?
                .iter()
                .filter_map(|r| Some((r.ts, numeric(&r.value, &chart_field)?)))
                .collect();
            (!points.is_empty()).then(|| Series {
                name: e.id.clone(),
                points,
            })
        })
        .take(CHART_SERIES)
        .collect();
    let chart_title = if chart_field.is_empty() {
        "Recent check values".to_string()
    } else {
        format!("Recent check values: {chart_field}")
    };

    let events = state
        .store
        .events(&EventQuery {
            alert_id: Some(id),
            limit: EVENTS_SHOWN,
            ..EventQuery::default()
        })
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|stored| {
            let e = stored.event;
            let detail = e
                .data
                .as_ref()
                .map(|d| short_value(d, VALUE_CHARS))
                .unwrap_or_else(|| {
                    e.captures
                        .iter()
                        .map(|(k, v)| format!("{k}={}", short_value(v, 30)))
                        .collect::<Vec<_>>()
                        .join(" ")
                });
            EventRow {
                when: chrono::DateTime::from_timestamp(e.ts as i64, 0)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                    .unwrap_or_default(),
                kind: serde_json::to_value(e.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                entity: e.entity,
                detail,
            }
        })
        .collect();

    let severity = Severity::of(merged.priority);
    let raised_captures: Vec<(&str, &serde_json::Map<String, Value>)> = raised_for_title
        .iter()
        .map(|(e, c)| (e.as_str(), c))
        .collect();
    let title = match merged.name.as_deref() {
        Some(name) => format_alert_title(name, &raised_captures),
        None => format!("Alert {id}"),
    };
    let ownership = (&merged).into();
    let parameters = merged
        .parameters
        .iter()
        .flatten()
        .map(|(k, p)| (k.clone(), short_value(&p.value, VALUE_CHARS)))
        .collect();
    let notice = match query.done.as_deref() {
        Some("evaluate") => Some("The check runs now; results appear within seconds."),
        Some("downtime") => Some("Downtime scheduled."),
        _ => None,
    };
    let page = AlertPage {
        nav: super::Nav::new(user, "alerts"),
        id,
        title,
        severity_class: severity.class(),
        severity_label: severity.label(),
        parent_id: merged.parent_id,
        template: merged.template,
        check_id,
        fields: fields(&merged, &lineage),
        parameters,
        entities,
        raised,
        chart: line_chart(&chart_title, &series),
        chart_fields: chart_fields.into_iter().collect(),
        chart_field,
        events,
        can_write: user.caller.role.can_write(),
        can_edit: user.caller.can_edit_alert(ownership),
        notice,
        error,
    };
    let mut response = html(&page)?;
    if page.error.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

#[get("/alerts/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    user: SignedIn,
    id: web::Path<i64>,
    query: web::Query<DetailQuery>,
) -> Result<HttpResponse, UiError> {
    render(&state, &user, *id, &query, None).await
}

fn back_to(id: i64, done: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, format!("/alerts/{id}?done={done}")))
        .finish()
}

/// Form fields in order; `entity` repeats.
type FormPairs = web::Form<Vec<(String, String)>>;

#[post("/alerts/{id}/evaluate")]
pub async fn evaluate(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: SignedIn,
    id: web::Path<i64>,
    form: FormPairs,
) -> Result<HttpResponse, UiError> {
    user.check_post(&req, form_field(&form, "csrf"))?;
    trials::evaluate_alert(&state, &user.caller, *id).await?;
    Ok(back_to(*id, "evaluate"))
}

/// The page's downtime form as an API request, or what is wrong with it.
fn downtime_request(
    form: &[(String, String)],
    id: i64,
    now: i64,
) -> Result<DowntimeRequest, String> {
    let entities: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "entity")
        .map(|(_, v)| v.clone())
        .collect();
    if entities.is_empty() {
        return Err("Select at least one entity for the downtime.".into());
    }
    let minutes = match form_field(form, "minutes").trim().parse::<i64>() {
        Ok(m) if (1..=MAX_DOWNTIME_MINUTES).contains(&m) => m,
        _ => {
            return Err(format!(
                "The duration must be a whole number of minutes from 1 to {MAX_DOWNTIME_MINUTES}."
            ));
        }
    };
    Ok(DowntimeRequest {
        // Empty is left out, so the API's "comment is mandatory" applies.
        comment: optional_text(form_field(form, "comment")),
        start_time: None,
        end_time: Some(EpochSeconds(now + minutes * 60)),
        entities: Some(entities),
        alert_definitions: Some(vec![id]),
    })
}

#[post("/alerts/{id}/downtime")]
pub async fn downtime(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: SignedIn,
    id: web::Path<i64>,
    form: FormPairs,
) -> Result<HttpResponse, UiError> {
    user.check_post(&req, form_field(&form, "csrf"))?;
    let id = *id;
    let created = match downtime_request(&form, id, state.clock.now().timestamp()) {
        Ok(request) => downtimes::create(&state, &user.caller, request).await,
        Err(message) => Err(ApiError::BadRequest(message)),
    };
    match created {
        Ok(_) => Ok(back_to(id, "downtime")),
        // Validation errors go next to the form; the rest are error pages.
        Err(ApiError::BadRequest(message)) => {
            render(&state, &user, id, &DetailQuery::default(), Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}
