//! `/alert-definitions`: the list, and the editor for new, cloned and
//! existing definitions. The form posts go through the same service (and
//! permission checks and validation) as the API; a validation error is
//! shown next to the field it names.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;
use serde_json::Value;
use zmon_core::alert::{AlertDefinition, AlertDefinitionInput, Parameter, ParameterType};
use zmon_core::check::DefinitionStatus;

use super::html;
use crate::error::ApiError;
use crate::service::{alerts, checks};
use crate::state::AppState;
use crate::ui::SignedIn;
use crate::ui::error::UiError;
use crate::ui::view::{Severity, entity_filters, error_field, form_field, optional_text};

/// Empty parameter rows offered for new parameters.
const SPARE_PARAMETER_ROWS: usize = 3;

/// Fields an error can be attached to, as the API names them.
const FIELDS: &[&str] = &[
    "name",
    "description",
    "team",
    "responsible_team",
    "entities_exclude",
    "entities",
    "condition",
    "notifications",
    "check_definition_id",
    "priority",
    "period",
    "template",
    "parent_id",
    "parameters",
    "tags",
    "status",
];

pub struct Row {
    pub id: i64,
    pub name: String,
    pub team: String,
    pub severity: &'static str,
    pub priority: String,
    pub check: String,
    pub status: String,
    pub template: bool,
    pub parent: Option<i64>,
}

#[derive(Template)]
#[template(path = "alert_definitions.html")]
struct ListPage<'a> {
    nav: super::Nav<'a>,
    rows: Vec<Row>,
    team: String,
    can_write: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    team: String,
}

#[get("/alert-definitions")]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, UiError> {
    let team = query.team.trim().to_lowercase();
    let rows = alerts::list(&state, None)
        .await?
        .into_iter()
        .filter(|a| {
            team.is_empty()
                || a.team.to_lowercase().starts_with(&team)
                || a.responsible_team.to_lowercase().starts_with(&team)
        })
        .map(|a| Row {
            id: a.id,
            name: a.name.clone().unwrap_or_default(),
            severity: Severity::of(a.priority).class(),
            priority: a.priority.map(|p| p.to_string()).unwrap_or_default(),
            check: a
                .check_definition_id
                .map(|c| c.to_string())
                .unwrap_or_default(),
            status: a.status.as_str().to_string(),
            template: a.template,
            parent: a.parent_id,
            team: a.team,
        })
        .collect();
    html(&ListPage {
        nav: super::Nav::new(&user, "definitions"),
        rows,
        team: query.team.trim().to_string(),
        can_write: user.caller.role.can_write(),
    })
}

/// The editor's fields as text, exactly as the user typed them.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct FormValues {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub team: String,
    #[serde(default)]
    pub responsible_team: String,
    #[serde(default)]
    pub check_definition_id: String,
    #[serde(default)]
    pub parent_id: String,
    #[serde(default)]
    pub template: bool,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub condition: String,
    #[serde(default)]
    pub entities: String,
    #[serde(default)]
    pub entities_exclude: String,
    #[serde(default)]
    pub notifications: String,
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub tags: String,
}

pub struct ParameterRow {
    pub name: String,
    pub kind: String,
    pub value: String,
    pub comment: String,
}

#[derive(Template)]
#[template(path = "alert_form.html")]
struct FormPage<'a> {
    nav: super::Nav<'a>,
    /// The definition being edited; `None` for a new one.
    id: Option<i64>,
    values: FormValues,
    parameters: Vec<ParameterRow>,
    /// What a field inherits when left empty (from the parent).
    inherited: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
    error: Option<String>,
    checks: Vec<(i64, String)>,
    parents: Vec<(i64, String)>,
}

impl FormPage<'_> {
    fn field_error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }

    fn inherits(&self, field: &str) -> String {
        self.inherited
            .get(field)
            .map(|v| format!("inherited: {v}"))
            .unwrap_or_default()
    }
}

fn json_text<T: serde::Serialize>(value: &Option<T>) -> String {
    value
        .as_ref()
        .and_then(|v| serde_json::to_string(v).ok())
        .unwrap_or_default()
}

fn values_of(node: &AlertDefinition) -> (FormValues, Vec<ParameterRow>) {
    let values = FormValues {
        name: node.name.clone().unwrap_or_default(),
        description: node.description.clone().unwrap_or_default(),
        team: node.team.clone(),
        responsible_team: node.responsible_team.clone(),
        check_definition_id: node
            .check_definition_id
            .map(|c| c.to_string())
            .unwrap_or_default(),
        parent_id: node.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        template: node.template,
        status: node.status.as_str().to_string(),
        priority: node.priority.map(|p| p.to_string()).unwrap_or_default(),
        condition: node.condition.clone().unwrap_or_default(),
        entities: json_text(&node.entities),
        entities_exclude: json_text(&node.entities_exclude),
        notifications: node.notifications.clone().unwrap_or_default().join("\n"),
        period: node.period.clone().unwrap_or_default(),
        tags: node.tags.clone().unwrap_or_default().join(", "),
    };
    let parameters = node
        .parameters
        .iter()
        .flatten()
        .map(|(name, p)| ParameterRow {
            name: name.clone(),
            kind: p
                .param_type
                .and_then(|t| serde_json::to_value(t).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            value: match &p.value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
            comment: p.comment.clone().unwrap_or_default(),
        })
        .collect();
    (values, parameters)
}

/// The inherited value of each field, from the parent's merged view.
fn inherited_from(parent: Option<&AlertDefinition>) -> BTreeMap<String, String> {
    let Some(p) = parent else {
        return BTreeMap::new();
    };
    let (values, _) = values_of(p);
    [
        ("name", values.name),
        ("description", values.description),
        ("condition", values.condition),
        ("priority", values.priority),
        ("entities", values.entities),
        ("entities_exclude", values.entities_exclude),
        ("notifications", values.notifications.replace('\n', "; ")),
        ("period", values.period),
        ("tags", values.tags),
        ("check_definition_id", values.check_definition_id),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

async fn choices(state: &AppState) -> Result<(Vec<(i64, String)>, Vec<(i64, String)>), UiError> {
    let checks = checks::list(state, None)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let parents = alerts::list(state, None)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name.unwrap_or_default()))
        .collect();
    Ok((checks, parents))
}

#[allow(clippy::too_many_arguments)]
async fn render_form(
    state: &AppState,
    user: &SignedIn,
    id: Option<i64>,
    values: FormValues,
    parameters: Vec<ParameterRow>,
    errors: BTreeMap<String, String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, UiError> {
    let parent = match values.parent_id.trim().parse::<i64>() {
        Ok(p) => alerts::get(state, p).await.ok(),
        Err(_) => None,
    };
    let (checks, parents) = choices(state).await?;
    let mut parameters = parameters;
    parameters.extend((0..SPARE_PARAMETER_ROWS).map(|_| ParameterRow {
        name: String::new(),
        kind: String::new(),
        value: String::new(),
        comment: String::new(),
    }));
    let page = FormPage {
        nav: super::Nav::new(user, "definitions"),
        id,
        values,
        parameters,
        inherited: inherited_from(parent.as_ref()),
        errors,
        error,
        checks,
        parents: parents
            .into_iter()
            .filter(|(p, _)| Some(*p) != id)
            .collect(),
    };
    let mut response = html(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    parent: Option<i64>,
    check: Option<i64>,
}

#[get("/alert-definitions/new")]
pub async fn new(
    state: web::Data<AppState>,
    user: SignedIn,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, UiError> {
    user.caller.require_write()?;
    let mut values = FormValues {
        status: "ACTIVE".into(),
        team: user.caller.teams.first().cloned().unwrap_or_default(),
        ..FormValues::default()
    };
    if let Some(parent) = query.parent {
        // A child starts empty: everything is inherited until overridden.
        let parent = alerts::get(&state, parent).await?;
        values.parent_id = parent.id.to_string();
        values.team = parent.team;
        values.responsible_team = parent.responsible_team;
    }
    if let Some(check) = query.check {
        values.check_definition_id = check.to_string();
    }
    render_form(
        &state,
        &user,
        None,
        values,
        Vec::new(),
        BTreeMap::new(),
        None,
        StatusCode::OK,
    )
    .await
}

#[get("/alert-definitions/{id}/edit")]
pub async fn edit(
    state: web::Data<AppState>,
    user: SignedIn,
    id: web::Path<i64>,
) -> Result<HttpResponse, UiError> {
    let id = *id;
    let lineage = state
        .store
        .alert_lineage(id)
        .await
        .map_err(ApiError::from)?;
    let node = lineage
        .first()
        .ok_or_else(|| UiError::NotFound(format!("Alert definition {id} does not exist.")))?;
    if !user.caller.can_edit_alert(node.into()) {
        return Err(UiError::Forbidden(
            "You may not edit this alert definition (it belongs to another team).".into(),
        ));
    }
    let (values, parameters) = values_of(node);
    render_form(
        &state,
        &user,
        Some(id),
        values,
        parameters,
        BTreeMap::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// A form that cannot become an API input: errors per field, and the
/// parameter rows to show again.
struct Rejected {
    errors: BTreeMap<String, String>,
    rows: Vec<ParameterRow>,
}

/// The form as an API input; errors per field for what cannot be parsed.
fn parse(
    values: &FormValues,
    pairs: &[(String, String)],
    id: Option<i64>,
) -> Result<(AlertDefinitionInput, Vec<ParameterRow>), Rejected> {
    let mut errors = BTreeMap::new();
    let entities = entity_filters("entities", &values.entities, &mut errors);
    let entities_exclude =
        entity_filters("entities_exclude", &values.entities_exclude, &mut errors);
    let number = |field: &str, text: &str, errors: &mut BTreeMap<String, String>| -> Option<i64> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        text.parse::<i64>()
            .map_err(|_| {
                errors.insert(field.to_string(), format!("'{text}' is not a whole number"))
            })
            .ok()
    };
    let check_definition_id = number(
        "check_definition_id",
        &values.check_definition_id,
        &mut errors,
    );
    let parent_id = number("parent_id", &values.parent_id, &mut errors);
    let priority = number("priority", &values.priority, &mut errors).map(|p| p as i32);
    let status = match values.status.trim() {
        "" | "ACTIVE" => Some(DefinitionStatus::Active),
        "INACTIVE" => Some(DefinitionStatus::Inactive),
        other => {
            errors.insert(
                "status".into(),
                format!("'{other}' is not ACTIVE or INACTIVE"),
            );
            None
        }
    };

    // Parameter rows come as repeated param_name/param_type/param_value/param_comment.
    let column = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let (names, kinds, raw_values, comments) = (
        column("param_name"),
        column("param_type"),
        column("param_value"),
        column("param_comment"),
    );
    let mut rows = Vec::new();
    let mut parameters = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        let row = ParameterRow {
            name: name.trim().to_string(),
            kind: kinds.get(i).cloned().unwrap_or_default(),
            value: raw_values.get(i).cloned().unwrap_or_default(),
            comment: comments.get(i).cloned().unwrap_or_default(),
        };
        if row.name.is_empty() {
            continue;
        }
        let kind = serde_json::from_value::<ParameterType>(Value::String(row.kind.clone())).ok();
        let value = match kind {
            Some(ParameterType::Int | ParameterType::Float | ParameterType::Bool) => {
                match serde_json::from_str::<Value>(row.value.trim()) {
                    Ok(v) => v,
                    Err(_) => {
                        errors.insert(
                            "parameters".into(),
                            format!("{}: '{}' is not a {}", row.name, row.value, row.kind),
                        );
                        Value::Null
                    }
                }
            }
            _ => Value::String(row.value.clone()),
        };
        parameters.insert(
            row.name.clone(),
            Parameter {
                value,
                comment: optional_text(&row.comment),
                param_type: kind,
            },
        );
        rows.push(row);
    }
    if !errors.is_empty() {
        return Err(Rejected { errors, rows });
    }
    let split = |text: &str, separator: char| -> Option<Vec<String>> {
        let items: Vec<String> = text
            .split(separator)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        (!items.is_empty()).then_some(items)
    };
    let input = AlertDefinitionInput {
        id,
        name: optional_text(&values.name),
        description: optional_text(&values.description),
        team: optional_text(&values.team),
        responsible_team: optional_text(&values.responsible_team),
        entities,
        entities_exclude,
        condition: optional_text(&values.condition),
        notifications: split(&values.notifications, '\n'),
        check_definition_id,
        status,
        priority,
        period: optional_text(&values.period),
        template: Some(values.template),
        parent_id,
        parameters: (!parameters.is_empty()).then_some(parameters),
        tags: split(&values.tags, ','),
        last_modified_by: None,
    };
    Ok((input, rows))
}

fn values_from(pairs: &[(String, String)]) -> FormValues {
    let field = |name: &str| form_field(pairs, name).to_string();
    FormValues {
        name: field("name"),
        description: field("description"),
        team: field("team"),
        responsible_team: field("responsible_team"),
        check_definition_id: field("check_definition_id"),
        parent_id: field("parent_id"),
        template: pairs.iter().any(|(k, v)| k == "template" && v == "on"),
        status: field("status"),
        priority: field("priority"),
        condition: field("condition"),
        entities: field("entities"),
        entities_exclude: field("entities_exclude"),
        notifications: field("notifications"),
        period: field("period"),
        tags: field("tags"),
    }
}

async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: SignedIn,
    id: Option<i64>,
    pairs: Vec<(String, String)>,
) -> Result<HttpResponse, UiError> {
    user.check_post(&req, form_field(&pairs, "csrf"))?;
    let values = values_from(&pairs);
    let (input, rows) = match parse(&values, &pairs, id) {
        Ok(parsed) => parsed,
        Err(Rejected { errors, rows }) => {
            return render_form(
                &state,
                &user,
                id,
                values,
                rows,
                errors,
                None,
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let saved = match id {
        None => alerts::create(&state, &user.caller, input).await,
        Some(id) => alerts::update(&state, &user.caller, id, input).await,
    };
    match saved {
        Ok(saved) => Ok(HttpResponse::SeeOther()
            .insert_header((LOCATION, format!("/alerts/{}", saved.id)))
            .finish()),
        Err(ApiError::BadRequest(message)) => {
            let mut errors = BTreeMap::new();
            let general = match error_field(&message, FIELDS) {
                Some(field) => {
                    errors.insert(field.to_string(), message);
                    None
                }
                None => Some(message),
            };
            render_form(
                &state,
                &user,
                id,
                values,
                rows,
                errors,
                general,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[post("/alert-definitions")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: SignedIn,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, UiError> {
    save(req, state, user, None, form.into_inner()).await
}

#[post("/alert-definitions/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: SignedIn,
    id: web::Path<i64>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, UiError> {
    save(req, state, user, Some(*id), form.into_inner()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_messages_name_their_field() {
        let field = |m| error_field(m, FIELDS);
        assert_eq!(field("condition: unexpected token"), Some("condition"));
        assert_eq!(
            field("notifications[2]: unknown function"),
            Some("notifications")
        );
        assert_eq!(field("team is mandatory"), Some("team"));
        assert_eq!(field("entities_exclude: bad"), Some("entities_exclude"));
        assert_eq!(
            field("Update breaks the following alert definitions: 3"),
            None
        );
    }
}
