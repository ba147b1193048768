//! The fleet of hosts as Nezha's v0 API shows it: host entities (from the
//! workers' registrations) with a store-assigned numeric id, and the latest
//! status each worker published on the bus.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value, json};
use zmon_core::EntityFilter;
use zmon_core::host::HostReport;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::EntityQuery;

/// `last_active` of a host that never reported: Go's zero `time.Time`.
pub const NEVER: i64 = -62_135_596_800;
/// A host is online when it reported this recently (Nezha's v0 theme).
pub const ONLINE_WITHIN_SECS: i64 = 10;

/// Nezha's `CommonServerInfo`, plus `online` and, in details, `host` and
/// `status` (PascalCase keys, as Nezha's Go structs serialise).
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    pub id: i64,
    /// The host entity behind the fleet id (not part of Nezha's shape).
    #[serde(skip)]
    pub entity_id: String,
    pub name: String,
    pub tag: String,
    pub last_active: i64,
    pub ipv4: String,
    pub ipv6: String,
    pub valid_ip: String,
    pub display_index: i64,
    pub hide_for_guest: bool,
    /// Computed here, so clients need not guess from `last_active`.
    pub online: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
}

/// Which servers to show.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Ids in request order; when given, the tag is ignored (as Nezha's
    /// documentation says).
    pub ids: Option<Vec<i64>>,
    pub tag: Option<String>,
    /// Include `host` and `status`.
    pub details: bool,
}

pub async fn servers(
    state: &AppState,
    selection: &Selection,
    now: i64,
) -> Result<Vec<Server>, ApiError> {
    let mut filter = Map::new();
    filter.insert("type".into(), json!("host"));
    let hosts = state
        .store
        .entities(&EntityQuery {
            filters: Some(vec![EntityFilter::new(filter)]),
            exclude_key: None,
        })
        .await?;
    let mut entity_ids: Vec<String> = hosts.iter().map(|h| h.entity.id().to_string()).collect();
    // New hosts get ids in name order, so assignment does not depend on
    // the store's row order.
    entity_ids.sort();
    let numeric: HashMap<String, i64> = state
        .store
        .fleet_server_ids(&entity_ids)
        .await?
        .into_iter()
        .collect();
    let reports = state.bus.host_reports(&entity_ids).await?;
    let mut servers: Vec<Server> = hosts
        .into_iter()
        .filter_map(|stored| {
            let doc = stored.entity.into_document();
            let entity_id = doc.get("id")?.as_str()?.to_string();
            let id = *numeric.get(&entity_id)?;
            Some(server(
                id,
                &doc,
                reports.get(&entity_id),
                now,
                selection.details,
            ))
        })
        .collect();
    match &selection.ids {
        Some(ids) => Ok(ids
            .iter()
            .filter_map(|id| servers.iter().find(|s| s.id == *id).cloned())
            .collect()),
        None => {
            if let Some(tag) = &selection.tag {
                servers.retain(|s| &s.tag == tag);
            }
            servers.sort_by(|a, b| b.display_index.cmp(&a.display_index).then(a.id.cmp(&b.id)));
            Ok(servers)
        }
    }
}

fn text(doc: &Map<String, Value>, key: &str) -> String {
    doc.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn first(doc: &Map<String, Value>, key: &str) -> String {
    doc.get(key)
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn number(doc: &Map<String, Value>, key: &str) -> i64 {
    doc.get(key).and_then(Value::as_i64).unwrap_or(0)
}

fn server(
    id: i64,
    doc: &Map<String, Value>,
    report: Option<&HostReport>,
    now: i64,
    details: bool,
) -> Server {
    let ipv4 = first(doc, "ipv4");
    let ipv6 = first(doc, "ipv6");
    let valid_ip = if ipv4.is_empty() {
        ipv6.clone()
    } else {
        ipv4.clone()
    };
    let name = ["name", "host", "id"]
        .iter()
        .map(|k| text(doc, k))
        .find(|n| !n.is_empty())
        .unwrap_or_default();
    let tag = ["tag", "team"]
        .iter()
        .map(|k| text(doc, k))
        .find(|t| !t.is_empty())
        .unwrap_or_default();
    let last_active = report.map_or(NEVER, |r| r.last_active);
    Server {
        id,
        entity_id: text(doc, "id"),
        name,
        tag,
        last_active,
        ipv4,
        ipv6,
        valid_ip,
        display_index: number(doc, "display_index"),
        hide_for_guest: doc
            .get("hide_for_guest")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        online: report.is_some_and(|r| now - r.last_active <= ONLINE_WITHIN_SECS),
        host: details.then(|| host(doc)),
        status: details.then(|| status(report)),
    }
}

fn host(doc: &Map<String, Value>) -> Value {
    let model = text(doc, "cpu_model");
    let cpu = if model.is_empty() {
        Value::Null
    } else {
        json!([format!(
            "{model} {} Physical Core",
            number(doc, "cpu_physical_cores")
        )])
    };
    json!({
        "Platform": text(doc, "platform"),
        "PlatformVersion": text(doc, "platform_version"),
        "CPU": cpu,
        "MemTotal": number(doc, "mem_total"),
        "DiskTotal": number(doc, "disk_total"),
        "SwapTotal": number(doc, "swap_total"),
        "Arch": text(doc, "arch"),
        "Virtualization": text(doc, "virtualization"),
        "BootTime": number(doc, "boot_time"),
        "CountryCode": text(doc, "country_code"),
        "Version": text(doc, "agent_version"),
        "GPU": Value::Null,
    })
}

fn status(report: Option<&HostReport>) -> Value {
    let s = report.map(|r| r.status.clone()).unwrap_or_default();
    let temperatures: Value = if s.temperatures.is_empty() {
        Value::Null
    } else {
        s.temperatures
            .iter()
            .map(|t| json!({"Name": t.name, "Temperature": t.temperature}))
            .collect()
    };
    json!({
        "CPU": s.cpu,
        "MemUsed": s.mem_used,
        "SwapUsed": s.swap_used,
        "DiskUsed": s.disk_used,
        "NetInTransfer": s.net_in_transfer,
        "NetOutTransfer": s.net_out_transfer,
        "NetInSpeed": s.net_in_speed,
        "NetOutSpeed": s.net_out_speed,
        "Uptime": s.uptime,
        "Load1": s.load1,
        "Load5": s.load5,
        "Load15": s.load15,
        "TcpConnCount": s.tcp_conn_count,
        "UdpConnCount": s.udp_conn_count,
        "ProcessCount": s.process_count,
        "Temperatures": temperatures,
        "GPU": s.gpu.unwrap_or(0.0),
    })
}

/// The history window of `GET /api/v1/monitor/{id}`.
pub const MONITOR_HISTORY_SECS: i64 = 24 * 3600;

/// One monitor's last 24 h from one server, in Nezha's parallel arrays:
/// `created_at` is the minute in epoch ms, `avg_delay` the mean over the
/// successful probes of that minute (`null` when all failed; Nezha
/// averaged failures in as 0 ms), and ours, `failed`, the failed probes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MonitorHistory {
    pub monitor_id: i64,
    pub server_id: i64,
    pub monitor_name: String,
    pub server_name: String,
    pub created_at: Vec<i64>,
    pub avg_delay: Vec<Option<f64>>,
    pub failed: Vec<i64>,
}

/// Every monitor's history from `server`, by monitor id.
pub async fn monitor_history(
    state: &AppState,
    server: &Server,
    now: i64,
) -> Result<Vec<MonitorHistory>, ApiError> {
    let minutes = state
        .store
        .monitor_history(server.id, now - MONITOR_HISTORY_SECS)
        .await?;
    if minutes.is_empty() {
        return Ok(Vec::new());
    }
    let names: HashMap<i64, String> = state
        .store
        .monitors()
        .await?
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect();
    let mut out: Vec<MonitorHistory> = Vec::new();
    for minute in minutes {
        if out.last().is_none_or(|h| h.monitor_id != minute.monitor_id) {
            out.push(MonitorHistory {
                monitor_id: minute.monitor_id,
                server_id: server.id,
                monitor_name: names.get(&minute.monitor_id).cloned().unwrap_or_default(),
                server_name: server.name.clone(),
                created_at: Vec::new(),
                avg_delay: Vec::new(),
                failed: Vec::new(),
            });
        }
        if let Some(history) = out.last_mut() {
            history.created_at.push(minute.minute * 1000);
            history.avg_delay.push(
                minute
                    .avg_delay_ms()
                    .map(|ms| (ms * 1000.0).round() / 1000.0),
            );
            history.failed.push(minute.failures);
        }
    }
    Ok(out)
}
