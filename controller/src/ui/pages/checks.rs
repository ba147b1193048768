//! `/checks`: check definitions (list, detail, editor) and trial runs of a
//! command and condition against the matching entities.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;
use zmon_core::check::{CheckDefinition, CheckDefinitionInput, DefinitionStatus};
use zmon_core::filter::EntityFilter;

use super::html;
use crate::error::ApiError;
use crate::service::trials::{self, TrialRunRequest};
use crate::service::{alerts, checks};
use crate::state::AppState;
use crate::ui::SignedIn;
use crate::ui::error::UiError;
use crate::ui::view::{entity_filters, error_field, optional_text, short_value};

const FIELDS: &[&str] = &[
    "name",
    "description",
    "owning_team",
    "entities_exclude",
    "entities",
    "interval",
    "command",
    "status",
    "technical_details",
    "potential_analysis",
    "potential_impact",
    "potential_solution",
];
const TRIAL_FIELDS: &[&str] = &[
    "check_command",
    "alert_condition",
    "entities",
    "period",
    "interval",
];

pub struct Row {
    pub id: i64,
    pub name: String,
    pub team: String,
    pub interval: i64,
    pub entities: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "checks.html")]
struct ListPage<'a> {
    nav: super::Nav<'a>,
    rows: Vec<Row>,
    can_write: bool,
}

fn filters_text(filters: &[EntityFilter]) -> String {
    serde_json::to_string(filters).unwrap_or_default()
}

#[get("/checks")]
pub async fn list(state: web::Data<AppState>, user: SignedIn) -> Result<HttpResponse, UiError> {
    let rows = checks::list(&state, None)
        .await?
        .into_iter()
        .map(|c| Row {
            id: c.id,
            entities: short_value(&serde_json::Value::String(filters_text(&c.entities)), 80),
            status: c.status.as_str(),
            team: c.owning_team,
            interval: c.interval,
            name: c.name,
        })
        .collect();
    html(&ListPage {
        nav: super::Nav::new(&user, "checks"),
        rows,
        can_write: user.caller.role.can_write(),
    })
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct CheckForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub owning_team: String,
    #[serde(default)]
    pub entities: String,
    #[serde(default)]
    pub entities_exclude: String,
    #[serde(default)]
    pub interval: String,
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub status: String,
}

impl CheckForm {
    fn of(c: &CheckDefinition) -> Self {
        Self {
            csrf: String::new(),
            name: c.name.clone(),
            description: c.description.clone(),
            owning_team: c.owning_team.clone(),
            entities: filters_text(&c.entities),
            entities_exclude: if c.entities_exclude.is_empty() {
                String::new()
            } else {
                filters_text(&c.entities_exclude)
            },
            interval: c.interval.to_string(),
            command: c.command.clone(),
            status: c.status.as_str().to_string(),
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct TrialForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub condition: String,
    #[serde(default)]
    pub entities: String,
}

#[derive(Template)]
#[template(path = "check.html")]
struct CheckPage<'a> {
    nav: super::Nav<'a>,
    id: Option<i64>,
    form: CheckForm,
    errors: BTreeMap<String, String>,
    error: Option<String>,
    alerts: Vec<(i64, String)>,
    trial: TrialForm,
    trial_errors: BTreeMap<String, String>,
    can_write: bool,
    editable: bool,
}

impl CheckPage<'_> {
    fn field_error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }

    fn trial_error(&self, field: &str) -> Option<&String> {
        self.trial_errors.get(field)
    }
}

struct Rendered {
    id: Option<i64>,
    form: CheckForm,
    errors: BTreeMap<String, String>,
    error: Option<String>,
    trial: TrialForm,
    trial_errors: BTreeMap<String, String>,
    status: StatusCode,
}

async fn render(state: &AppState, user: &SignedIn, r: Rendered) -> Result<HttpResponse, UiError> {
    let (alerts, editable) = match r.id {
        Some(id) => {
            let check = checks::get(state, id).await?;
            let alerts = alerts::list(state, None)
                .await?
                .into_iter()
                .filter(|a| a.check_definition_id == Some(id))
                .map(|a| (a.id, a.name.unwrap_or_default()))
                .collect();
            let editable = user
                .caller
                .may_write_check(Some((&check, "")), &check.owning_team)
                .is_ok();
            (alerts, editable)
        }
        None => (Vec::new(), user.caller.role.can_write()),
    };
    let page = CheckPage {
        nav: super::Nav::new(user, "checks"),
        id: r.id,
        form: r.form,
        errors: r.errors,
        error: r.error,
        alerts,
        trial: r.trial,
        trial_errors: r.trial_errors,
        can_write: user.caller.role.can_write(),
        editable,
    };
    let mut response = html(&page)?;
    *response.status_mut() = r.status;
    Ok(response)
}

impl Rendered {
    /// The page as first shown: no errors, the trial panel prefilled from
    /// the check.
    fn fresh(id: Option<i64>, form: CheckForm) -> Self {
        Self {
            id,
            trial: trial_of(&form),
            form,
            errors: BTreeMap::new(),
            error: None,
            trial_errors: BTreeMap::new(),
            status: StatusCode::OK,
        }
    }
}

fn trial_of(form: &CheckForm) -> TrialForm {
    TrialForm {
        csrf: String::new(),
        command: form.command.clone(),
        condition: String::new(),
        entities: form.entities.clone(),
    }
}

#[get("/checks/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    user: SignedIn,
    id: web::Path<i64>,
) -> Result<HttpResponse, UiError> {
    let check = checks::get(&state, *id).await?;
    render(
        &state,
        &user,
        Rendered::fresh(Some(*id), CheckForm::of(&check)),
    )
    .await
}

#[get("/checks/new")]
pub async fn new(state: web::Data<AppState>, user: SignedIn) -> Result<HttpResponse, UiError> {
    user.caller.require_write()?;
    let form = CheckForm {
        owning_team: user.caller.teams.first().cloned().unwrap_or_default(),
        interval: "60".into(),
        entities: r#"[{"type": "host"}]"#.into(),
        status: "ACTIVE".into(),
        ..CheckForm::default()
    };
    render(&state, &user, Rendered::fresh(None, form)).await
}

async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: SignedIn,
    id: Option<i64>,
    form: CheckForm,
) -> Result<HttpResponse, UiError> {
    user.check_post(&req, &form.csrf)?;
    let mut errors = BTreeMap::new();
    let entities = entity_filters("entities", &form.entities, &mut errors);
    let entities_exclude = entity_filters("entities_exclude", &form.entities_exclude, &mut errors);
    let interval = match form.interval.trim() {
        "" => None,
        text => text
            .parse::<i64>()
            .map_err(|_| {
                errors.insert(
                    "interval".into(),
                    format!("interval: '{text}' is not a whole number of seconds"),
                )
            })
            .ok(),
    };
    let status = match form.status.trim() {
        "INACTIVE" => DefinitionStatus::Inactive,
        _ => DefinitionStatus::Active,
    };
    let outcome = if errors.is_empty() {
        let input = CheckDefinitionInput {
            id,
            name: optional_text(&form.name),
            description: optional_text(&form.description),
            owning_team: optional_text(&form.owning_team),
            entities,
            entities_exclude,
            interval,
            command: optional_text(&form.command),
            status: Some(status),
            ..CheckDefinitionInput::default()
        };
        match checks::upsert(&state, &user.caller, input, id).await {
            Ok(saved) => {
                return Ok(HttpResponse::SeeOther()
                    .insert_header((LOCATION, format!("/checks/{}", saved.id)))
                    .finish());
            }
            // Validation errors go beside their fields; the rest are error pages.
            Err(ApiError::BadRequest(message)) => Some(message),
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let mut general = None;
    if let Some(message) = outcome {
        match error_field(&message, FIELDS) {
            Some(f) => {
                errors.insert(f.to_string(), message);
            }
            None => general = Some(message),
        }
    }
    let trial = trial_of(&form);
    render(
        &state,
        &user,
        Rendered {
            id,
            form,
            errors,
            error: general,
            trial,
            trial_errors: BTreeMap::new(),
            status: StatusCode::BAD_REQUEST,
        },
    )
    .await
}

#[post("/checks")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: SignedIn,
    form: web::Form<CheckForm>,
) -> Result<HttpResponse, UiError> {
    save(req, state, user, None, form.into_inner()).await
}

#[post("/checks/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: SignedIn,
    id: web::Path<i64>,
    form: web::Form<CheckForm>,
) -> Result<HttpResponse, UiError> {
    save(req, state, user, Some(*id), form.into_inner()).await
}

#[derive(Debug, Default, Deserialize)]
pub struct TrialQuery {
    /// The check page the trial was started from.
    check: Option<i64>,
}

/// Starts a trial run; its results page fills in as workers report.
#[post("/checks/trial")]
pub async fn start_trial(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: SignedIn,
    query: web::Query<TrialQuery>,
    form: web::Form<TrialForm>,
) -> Result<HttpResponse, UiError> {
    let trial = form.into_inner();
    user.check_post(&req, &trial.csrf)?;
    let mut trial_errors = BTreeMap::new();
    let entities = entity_filters("entities", &trial.entities, &mut trial_errors);
    if trial_errors.is_empty() {
        let started = trials::start(
            &state,
            &user.caller,
            TrialRunRequest {
                name: Some("UI trial run".into()),
                check_command: optional_text(&trial.command),
                alert_condition: optional_text(&trial.condition),
                entities,
                entities_exclude: Vec::new(),
                parameters: BTreeMap::new(),
                period: String::new(),
                interval: None,
            },
        )
        .await;
        match started {
            Ok(run) => {
                return Ok(HttpResponse::SeeOther()
                    .insert_header((LOCATION, format!("/trials/{}", run.id)))
                    .finish());
            }
            Err(ApiError::BadRequest(message)) => {
                let field = error_field(&message, TRIAL_FIELDS).unwrap_or("check_command");
                trial_errors.insert(field.to_string(), message);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let (id, form) = match query.check {
        Some(id) => (Some(id), CheckForm::of(&checks::get(&state, id).await?)),
        None => (None, CheckForm::default()),
    };
    render(
        &state,
        &user,
        Rendered {
            id,
            form,
            errors: BTreeMap::new(),
            error: None,
            trial,
            trial_errors,
            status: StatusCode::BAD_REQUEST,
        },
    )
    .await
}

pub struct TrialRow {
    pub entity: String,
    pub value: String,
    pub captures: Vec<(String, String)>,
    pub alerting: bool,
    pub error: Option<String>,
}

pub struct TrialView {
    pub id: String,
    pub rows: Vec<TrialRow>,
    /// Share of the covered entities that reported.
    pub done: f64,
    pub alerting: usize,
    pub alerting_percent: f64,
}

#[derive(Template)]
#[template(path = "trial.html")]
struct TrialPage<'a> {
    nav: super::Nav<'a>,
    trial: TrialView,
}

#[derive(Template)]
#[template(path = "trial_fragment.html")]
struct TrialFragment {
    trial: TrialView,
}

async fn trial_view(state: &AppState, id: &str) -> Result<TrialView, UiError> {
    let view = trials::results(state, id).await?;
    let alerting = view.results.iter().filter(|r| r.is_alert).count();
    let reported = view.results.len();
    let mut rows: Vec<TrialRow> = view
        .results
        .into_iter()
        .map(|r| TrialRow {
            value: short_value(&r.value, 80),
            captures: r
                .captures
                .iter()
                .map(|(k, v)| (k.clone(), short_value(v, 60)))
                .collect(),
            alerting: r.is_alert,
            error: r.exc,
            entity: r.entity,
        })
        .collect();
    rows.sort_by(|a, b| b.alerting.cmp(&a.alerting).then(a.entity.cmp(&b.entity)));
    Ok(TrialView {
        id: id.to_string(),
        rows,
        done: view.percentage,
        alerting,
        alerting_percent: if reported == 0 {
            0.0
        } else {
            alerting as f64 * 100.0 / reported as f64
        },
    })
}

#[get("/trials/{id}")]
pub async fn trial_page(
    state: web::Data<AppState>,
    user: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    html(&TrialPage {
        nav: super::Nav::new(&user, "checks"),
        trial: trial_view(&state, &id).await?,
    })
}

#[get("/ui/trials/{id}")]
pub async fn trial_fragment(
    state: web::Data<AppState>,
    _user: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    html(&TrialFragment {
        trial: trial_view(&state, &id).await?,
    })
}
