//! Quick search across alert definitions, checks and dashboards.

use serde::Serialize;
use utoipa::ToSchema;

use super::{alerts, checks};
use crate::error::ApiError;
use crate::state::AppState;

pub const DEFAULT_LIMIT: usize = 25;
pub const MAX_LIMIT: usize = 500;

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    /// The id, as a string (ZMON's shape).
    pub id: String,
    pub title: String,
    pub team: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub alerts: Vec<SearchHit>,
    pub checks: Vec<SearchHit>,
    pub dashboards: Vec<SearchHit>,
    /// Always empty: no Grafana is connected.
    pub grafana_dashboards: Vec<SearchHit>,
}

/// A hit when the id starts with the query or the title contains it
/// (case-insensitive), and the team is one of `teams` (if any are given).
fn matches(query: &str, teams: &[String], id: i64, title: &str, team_list: &[&str]) -> bool {
    let query = query.trim().to_lowercase();
    let text_ok = query.is_empty()
        || id.to_string().starts_with(&query)
        || title.to_lowercase().contains(&query);
    let team_ok = teams.is_empty()
        || team_list
            .iter()
            .any(|t| teams.iter().any(|wanted| wanted.eq_ignore_ascii_case(t)));
    text_ok && team_ok
}

pub async fn search(
    state: &AppState,
    query: &str,
    teams: &[String],
    limit: usize,
) -> Result<SearchResults, ApiError> {
    let limit = limit.clamp(1, MAX_LIMIT);
    let alerts = alerts::list(state, None)
        .await?
        .into_iter()
        .filter(|a| {
            let title = a.name.as_deref().unwrap_or_default();
            matches(query, teams, a.id, title, &[&a.team, &a.responsible_team])
        })
        .take(limit)
        .map(|a| SearchHit {
            id: a.id.to_string(),
            title: a.name.unwrap_or_default(),
            team: a.team,
        })
        .collect();
    let checks = checks::list(state, None)
        .await?
        .into_iter()
        .filter(|c| matches(query, teams, c.id, &c.name, &[&c.owning_team]))
        .take(limit)
        .map(|c| SearchHit {
            id: c.id.to_string(),
            title: c.name,
            team: c.owning_team,
        })
        .collect();
    let dashboards = state
        .store
        .dashboards()
        .await?
        .into_iter()
        .filter(|d| {
            let teams_of: Vec<&str> = d.alert_teams.iter().map(String::as_str).collect();
            matches(query, teams, d.id, &d.name, &teams_of)
        })
        .take(limit)
        .map(|d| SearchHit {
            id: d.id.to_string(),
            title: d.name,
            team: d.alert_teams.join(","),
        })
        .collect();
    Ok(SearchResults {
        alerts,
        checks,
        dashboards,
        grafana_dashboards: Vec::new(),
    })
}
