//! `/hosts`: the fleet at a glance (online state, CPU, memory and disk
//! use, load, network speeds, last seen) and one host's facts and charts.

use actix_web::{HttpResponse, get, web};
use askama::Template;
use serde_json::Value;

use super::html;
use serde_json::Map;
use zmon_core::EntityFilter;
use zmon_core::host::HostReport;

use crate::service::fleet;
use crate::state::AppState;
use crate::store::EntityQuery;
use crate::ui::SignedIn;
use crate::ui::chart::{Series, line_chart};
use crate::ui::error::UiError;
use crate::ui::view::age;

/// Bytes as people read them.
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n.max(0.0);
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn percent(used: f64, total: f64) -> Option<f64> {
    (total > 0.0).then(|| (used * 100.0 / total).clamp(0.0, 100.0))
}

pub struct HostRow {
    pub entity_id: String,
    pub name: String,
    pub online: bool,
    pub cpu: f64,
    pub mem: Option<f64>,
    pub disk: Option<f64>,
    pub load: String,
    pub net_in: String,
    pub net_out: String,
    pub last_seen: String,
}

/// Rows rendered at most; the name filter finds the others.
const MAX_ROWS: usize = 500;

fn text(doc: &Map<String, Value>, key: &str) -> String {
    match doc.get(key) {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

fn total(doc: &Map<String, Value>, key: &str) -> f64 {
    doc.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

/// A host entity and its latest report as a table row.
fn row(doc: &Map<String, Value>, report: Option<&HostReport>, now: i64) -> HostRow {
    let entity_id = text(doc, "id");
    let name = ["name", "host"]
        .iter()
        .map(|k| text(doc, k))
        .find(|n| !n.is_empty())
        .unwrap_or_else(|| entity_id.clone());
    let status = report.map(|r| r.status.clone()).unwrap_or_default();
    HostRow {
        name,
        online: report.is_some_and(|r| now - r.last_active <= fleet::ONLINE_WITHIN_SECS),
        cpu: status.cpu.clamp(0.0, 100.0),
        mem: percent(status.mem_used as f64, total(doc, "mem_total")),
        disk: percent(status.disk_used as f64, total(doc, "disk_total")),
        load: format!("{:.2}", status.load1),
        net_in: format!("{}/s", bytes(status.net_in_speed as f64)),
        net_out: format!("{}/s", bytes(status.net_out_speed as f64)),
        last_seen: match report {
            None => "never".into(),
            Some(r) => format!("{} ago", age((now - r.last_active) as f64)),
        },
        entity_id,
    }
}

#[derive(Template)]
#[template(path = "hosts.html")]
struct HostsPage<'a> {
    nav: super::Nav<'a>,
    fleet: Fleet,
    query: String,
}

#[derive(Template)]
#[template(path = "hosts_fragment.html")]
struct HostsFragment {
    fleet: Fleet,
}

pub struct Fleet {
    pub hosts: Vec<HostRow>,
    /// Hosts matching the filter, shown or not.
    pub total: usize,
}

async fn host_entities(state: &AppState) -> Result<Vec<Map<String, Value>>, UiError> {
    let mut filter = Map::new();
    filter.insert("type".into(), Value::String("host".into()));
    Ok(state
        .store
        .entities(&EntityQuery {
            filters: Some(vec![EntityFilter::new(filter)]),
            exclude_key: None,
        })
        .await
        .map_err(crate::error::ApiError::from)?
        .into_iter()
        .map(|e| e.entity.into_document())
        .collect())
}

/// Online hosts first, then by name; only the first rows are rendered.
async fn fleet_rows(state: &AppState, query: &str) -> Result<Fleet, UiError> {
    let now = state.clock.now().timestamp();
    let needle = query.trim().to_lowercase();
    let docs: Vec<Map<String, Value>> = host_entities(state)
        .await?
        .into_iter()
        .filter(|d| needle.is_empty() || text(d, "id").to_lowercase().contains(&needle))
        .collect();
    let ids: Vec<String> = docs.iter().map(|d| text(d, "id")).collect();
    let reports = state
        .bus
        .host_reports(&ids)
        .await
        .map_err(crate::error::ApiError::from)?;
    let mut hosts: Vec<HostRow> = docs
        .iter()
        .map(|d| row(d, reports.get(&text(d, "id")), now))
        .collect();
    hosts.sort_by(|a, b| b.online.cmp(&a.online).then_with(|| a.name.cmp(&b.name)));
    let total = hosts.len();
    hosts.truncate(MAX_ROWS);
    Ok(Fleet { hosts, total })
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct HostsQuery {
    #[serde(default)]
    q: String,
}

#[get("/hosts")]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
    query: web::Query<HostsQuery>,
) -> Result<HttpResponse, UiError> {
    html(&HostsPage {
        nav: super::Nav::new(&user, "hosts"),
        fleet: fleet_rows(&state, &query.q).await?,
        query: query.q.trim().to_string(),
    })
}

#[get("/ui/hosts")]
pub async fn fragment(
    state: web::Data<AppState>,
    _user: SignedIn,
    query: web::Query<HostsQuery>,
) -> Result<HttpResponse, UiError> {
    html(&HostsFragment {
        fleet: fleet_rows(&state, &query.q).await?,
    })
}

#[derive(Template)]
#[template(path = "host.html")]
struct HostPage<'a> {
    nav: super::Nav<'a>,
    host: HostRow,
    facts: Vec<(&'static str, String)>,
    charts: Vec<String>,
    samples: usize,
    can_write: bool,
}

#[get("/hosts/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    user: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let now = state.clock.now().timestamp();
    let entity = state
        .store
        .entity(&id)
        .await
        .map_err(crate::error::ApiError::from)?;
    let doc = entity
        .map(|e| e.entity.into_document())
        .filter(|d| text(d, "type") == "host")
        .ok_or_else(|| UiError::NotFound(format!("No host '{id}'.")))?;
    let report = state
        .bus
        .host_reports(std::slice::from_ref(&*id))
        .await
        .map_err(crate::error::ApiError::from)?
        .remove(&*id);
    let text = |key: &str| match doc.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let total = |key: &str| {
        doc.get(key)
            .and_then(Value::as_f64)
            .map(bytes)
            .unwrap_or_default()
    };
    let facts = vec![
        (
            "Operating system",
            format!(
                "{} {} ({})",
                text("platform"),
                text("platform_version"),
                text("os")
            ),
        ),
        ("Kernel", text("kernel_version")),
        ("Architecture", text("arch")),
        (
            "CPU",
            format!(
                "{} ({} cores)",
                text("cpu_model"),
                text("cpu_logical_cores")
            ),
        ),
        ("Memory", total("mem_total")),
        ("Disk", total("disk_total")),
        ("Virtualization", text("virtualization")),
        ("Queue", text("queue")),
        ("IPv4", text("ipv4")),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty() && v.trim() != "()")
    .collect();

    let samples = state.host_history.samples(&id);
    let mem_total = doc.get("mem_total").and_then(Value::as_f64).unwrap_or(0.0);
    let disk_total = doc.get("disk_total").and_then(Value::as_f64).unwrap_or(0.0);
    let line =
        |name: &str, f: &dyn Fn(&crate::service::host_history::Sample) -> Option<f64>| Series {
            name: name.to_string(),
            points: samples
                .iter()
                .filter_map(|s| Some((s.ts as f64, f(s)?)))
                .collect(),
        };
    let mut charts = Vec::new();
    if samples.len() >= 2 {
        let usage = [
            line("CPU %", &|s| Some(s.cpu)),
            line("memory %", &|s| percent(s.mem_used as f64, mem_total)),
            line("disk %", &|s| percent(s.disk_used as f64, disk_total)),
        ];
        charts.extend(line_chart("CPU, memory and disk use (%)", &usage));
        charts.extend(line_chart(
            "Load (1 min)",
            &[line("load1", &|s| Some(s.load1))],
        ));
        let network = [
            line("in, KB/s", &|s| Some(s.net_in_speed as f64 / 1024.0)),
            line("out, KB/s", &|s| Some(s.net_out_speed as f64 / 1024.0)),
        ];
        charts.extend(line_chart("Network (KB/s)", &network));
    }
    html(&HostPage {
        nav: super::Nav::new(&user, "hosts"),
        host: row(&doc, report.as_ref(), now),
        facts,
        charts,
        samples: samples.len(),
        can_write: user.caller.role.can_write(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_at_a_glance() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(1536.0), "1.5 KB");
        assert_eq!(bytes(8.0 * 1024.0 * 1024.0 * 1024.0), "8.0 GB");
        assert_eq!(percent(5.0, 0.0), None);
        assert_eq!(percent(5.0, 10.0), Some(50.0));
    }
}
