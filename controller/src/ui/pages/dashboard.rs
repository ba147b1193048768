//! The alerts dashboard (home page): raised alerts grouped by priority,
//! refreshed in place every few seconds.

use actix_web::{HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use super::html;
use zmon_core::message::format_alert_title;

use crate::service::status::{self, ActiveAlert};
use crate::state::AppState;
use crate::ui::SignedIn;
use crate::ui::error::UiError;
use crate::ui::view::{Severity, age, short_value, url_encode};

/// Captures shown per entity; the detail page has all of them.
const CAPTURES_SHOWN: usize = 4;
const CAPTURE_CHARS: usize = 60;

#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    #[serde(default)]
    team: String,
    #[serde(default)]
    tags: String,
}

impl Filter {
    fn is_empty(&self) -> bool {
        self.team.trim().is_empty() && self.tags.trim().is_empty()
    }

    /// The filter as a query string (with `?`), or empty.
    fn query(&self) -> String {
        let mut parts = Vec::new();
        if !self.team.trim().is_empty() {
            parts.push(format!("team={}", url_encode(self.team.trim())));
        }
        if !self.tags.trim().is_empty() {
            parts.push(format!("tags={}", url_encode(self.tags.trim())));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

pub struct EntityRow {
    pub id: String,
    pub age: String,
    pub start_time: i64,
    pub captures: Vec<(String, String)>,
    pub muted: bool,
    pub failed: bool,
}

pub struct AlertCard {
    pub id: i64,
    pub title: String,
    pub team: String,
    pub tags: Vec<String>,
    /// Every entity is in a downtime: nobody needs to act.
    pub muted: bool,
    pub muted_entities: usize,
    pub since: String,
    pub entities: Vec<EntityRow>,
}

pub struct Group {
    pub class: &'static str,
    pub label: &'static str,
    pub alerts: Vec<AlertCard>,
}

pub struct Alerts {
    pub groups: Vec<Group>,
    pub total: usize,
    /// Raised alerts that need attention (not fully in downtime).
    pub live: usize,
    /// Whether any alert definition exists at all (for the empty state).
    pub has_definitions: bool,
    pub filtered: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage<'a> {
    nav: super::Nav<'a>,
    team: &'a str,
    tags: &'a str,
    query: String,
    teams: Vec<String>,
    alerts: Alerts,
}

#[derive(Template)]
#[template(path = "alerts_fragment.html")]
struct AlertsFragment {
    alerts: Alerts,
}

async fn load(state: &AppState, user: &SignedIn, filter: &Filter) -> Result<Alerts, UiError> {
    let teams = status::split_list(Some(&filter.team));
    let tags = status::split_list(Some(&filter.tags));
    let raised = status::active_alerts(state, &user.caller, &teams, &tags).await?;
    // Only an empty dashboard needs to know whether definitions exist.
    let has_definitions = !raised.is_empty()
        || !state
            .store
            .alert_nodes()
            .await
            .map_err(crate::error::ApiError::from)?
            .is_empty();
    let now = state.clock.now().timestamp_micros() as f64 / 1e6;
    Ok(group(raised, now, has_definitions, !filter.is_empty()))
}

fn card(alert: ActiveAlert, now: f64) -> AlertCard {
    let definition = alert.alert_definition.definition;
    // The API's message leaves out entities in downtime; a fully muted
    // alert would then show its raw template, so the card names them all.
    let all: Vec<(&str, &serde_json::Map<String, serde_json::Value>)> = alert
        .entities
        .iter()
        .map(|e| (e.entity.as_str(), &e.result.captures))
        .collect();
    let title = format_alert_title(definition.name.as_deref().unwrap_or_default(), &all);
    let parameters = definition.parameters.unwrap_or_default();
    let mut entities: Vec<EntityRow> = alert
        .entities
        .into_iter()
        .map(|e| {
            let captures = e
                .result
                .captures
                .iter()
                .filter(|(k, _)| !parameters.contains_key(*k))
                .take(CAPTURES_SHOWN)
                .map(|(k, v)| (k.clone(), short_value(v, CAPTURE_CHARS)))
                .collect();
            EntityRow {
                age: age(now - e.result.start_time),
                start_time: e.result.start_time as i64,
                muted: !e.result.downtimes.is_empty(),
                failed: e.result.exc.is_some(),
                captures,
                id: e.entity,
            }
        })
        .collect();
    // Longest-running first: that is where an incident started.
    entities.sort_by(|a, b| a.start_time.cmp(&b.start_time).then(a.id.cmp(&b.id)));
    let muted_entities = entities.iter().filter(|e| e.muted).count();
    let oldest = entities.first().map(|e| e.start_time as f64).unwrap_or(now);
    AlertCard {
        id: definition.id,
        title,
        team: definition.team,
        tags: definition.tags.unwrap_or_default(),
        muted: !entities.is_empty() && muted_entities == entities.len(),
        muted_entities,
        since: age(now - oldest),
        entities,
    }
}

fn group(raised: Vec<ActiveAlert>, now: f64, has_definitions: bool, filtered: bool) -> Alerts {
    let mut groups: Vec<Group> = [Severity::Critical, Severity::Warning, Severity::Notice]
        .into_iter()
        .map(|s| Group {
            class: s.class(),
            label: s.label(),
            alerts: Vec::new(),
        })
        .collect();
    let total = raised.len();
    for alert in raised {
        let severity = Severity::of(alert.alert_definition.definition.priority);
        let index = severity as usize;
        if let Some(group) = groups.get_mut(index) {
            group.alerts.push(card(alert, now));
        }
    }
    // Within a priority, alerts needing attention come before muted ones.
    for group in &mut groups {
        group.alerts.sort_by_key(|a| a.muted);
    }
    let live = groups
        .iter()
        .flat_map(|g| &g.alerts)
        .filter(|a| !a.muted)
        .count();
    groups.retain(|g| !g.alerts.is_empty());
    Alerts {
        groups,
        total,
        live,
        has_definitions,
        filtered,
    }
}

#[get("/")]
pub async fn show(
    state: web::Data<AppState>,
    user: SignedIn,
    filter: web::Query<Filter>,
) -> Result<HttpResponse, UiError> {
    let (alerts, teams) = tokio::join!(load(&state, &user, &filter), state.store.teams());
    let page = DashboardPage {
        nav: super::Nav::new(&user, "alerts"),
        team: filter.team.trim(),
        tags: filter.tags.trim(),
        query: filter.query(),
        teams: teams.map_err(crate::error::ApiError::from)?,
        alerts: alerts?,
    };
    html(&page)
}

/// The alert list alone, for the page's periodic refresh.
#[get("/ui/alerts")]
pub async fn fragment(
    state: web::Data<AppState>,
    user: SignedIn,
    filter: web::Query<Filter>,
) -> Result<HttpResponse, UiError> {
    html(&AlertsFragment {
        alerts: load(&state, &user, &filter).await?,
    })
}
