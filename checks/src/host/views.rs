//! Views: a decoration per field, following Glances' `get_alert` and each
//! plugin's `update_views` overrides. Logged decorations (`*_LOG`) also
//! feed the events list.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::events::Events;

const PROCESS_VIEW_FIELDS: &[&str] = &["cpu_percent", "memory_percent", "status", "nice"];

/// The fields whose decorations Glances logs as events.
const LOGGED_FIELDS: &[(&str, &str)] = &[
    ("cpu", "total"),
    ("load", "min15"),
    ("mem", "percent"),
    ("memswap", "percent"),
];

/// Every plugin's views, built from a snapshot's stats and limits (events
/// are left alone: the sampler recorded them at the tick).
pub fn all_views(
    plugins: &BTreeMap<String, Value>,
    limits: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    let cpucore = plugins
        .get("core")
        .and_then(|c| c.get("log"))
        .and_then(Value::as_f64)
        .unwrap_or(1.0);
    let mut deco = Decorator {
        limits,
        cpucore,
        events: None,
        now: 0.0,
        top_cpu: Vec::new(),
        top_mem: Vec::new(),
    };
    let mut views: BTreeMap<String, Value> = plugins
        .iter()
        .map(|(name, stats)| (name.clone(), deco.views(name, stats)))
        .collect();
    views.insert("alert".into(), json!({}));
    views
}

fn view(decoration: &str) -> Value {
    json!({
        "decoration": decoration,
        "optional": false,
        "additional": false,
        "splittable": false,
        "hidden": false,
    })
}

fn limit(
    limits: &Map<String, Value>,
    plugin: &str,
    header: Option<&str>,
    level: &str,
) -> Option<f64> {
    header
        .and_then(|h| limits.get(&format!("{plugin}_{h}_{level}")))
        .or_else(|| limits.get(&format!("{plugin}_{level}")))
        .and_then(Value::as_f64)
}

/// Glances' `get_alert`: `current` as a percent of `maximum` against the
/// plugin's careful/warning/critical limits.
pub fn get_alert(
    limits: &Map<String, Value>,
    plugin: &str,
    header: Option<&str>,
    current: f64,
    maximum: f64,
) -> &'static str {
    if maximum == 0.0 || !current.is_finite() {
        return "DEFAULT";
    }
    let value = current * 100.0 / maximum;
    let (Some(careful), Some(warning), Some(critical)) = (
        limit(limits, plugin, header, "careful"),
        limit(limits, plugin, header, "warning"),
        limit(limits, plugin, header, "critical"),
    ) else {
        return "DEFAULT";
    };
    if value >= critical {
        "CRITICAL"
    } else if value >= warning {
        "WARNING"
    } else if value >= careful || current < 0.0 {
        "CAREFUL"
    } else {
        "OK"
    }
}

/// What the views of one snapshot need besides the stats.
pub struct Decorator<'a> {
    pub limits: &'a BTreeMap<String, Value>,
    pub cpucore: f64,
    /// Where logged decorations open and close events; `None` when views
    /// are built for a reader after the tick.
    pub events: Option<&'a mut Events>,
    /// Epoch seconds, for events.
    pub now: f64,
    /// The three busiest processes by CPU and by memory, for events.
    pub top_cpu: Vec<String>,
    pub top_mem: Vec<String>,
}

impl Decorator<'_> {
    fn logged(&mut self, state: &'static str, kind: &str, value: f64) -> String {
        if state == "DEFAULT" {
            return state.to_string();
        }
        let top = if kind.starts_with("MEM") {
            &self.top_mem
        } else {
            &self.top_cpu
        };
        if let Some(events) = self.events.as_deref_mut() {
            events.observe(self.now, state, kind, value, top);
        }
        format!("{state}_LOG")
    }

    /// The decoration of `field` of one entry (or of a dict plugin).
    fn decorate(&mut self, plugin: &str, field: &str, entry: &Map<String, Value>) -> String {
        let empty = Map::new();
        let limits = self
            .limits
            .get(plugin)
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let num = |k: &str| entry.get(k).and_then(Value::as_f64).unwrap_or(0.0);
        let v = num(field);
        let alert = |header: Option<&str>, current: f64, maximum: f64| {
            get_alert(limits, plugin, header, current, maximum)
        };
        let state: &'static str = match (plugin, field) {
            ("cpu", "total") => {
                let s = alert(Some("total"), v, 100.0);
                return self.logged(s, "CPU_TOTAL", v);
            }
            ("cpu", "user" | "system" | "iowait" | "steal") => alert(Some(field), v, 100.0),
            ("cpu", "ctx_switches") => alert(Some(field), v, 100.0 * self.cpucore),
            ("percpu", "user" | "system" | "iowait") => alert(Some(field), v, 100.0),
            ("load", "min15") => {
                let s = alert(None, v, 100.0 * self.cpucore);
                return self.logged(s, "LOAD", v);
            }
            ("load", "min5") => alert(None, v, 100.0 * self.cpucore),
            ("mem" | "memswap", "percent") => {
                let s = alert(None, num("used"), num("total"));
                let kind = plugin.to_uppercase();
                return self.logged(s, &kind, v);
            }
            ("fs", "used") => {
                let ro = entry
                    .get("options")
                    .and_then(Value::as_str)
                    .is_some_and(|o| o.split(',').any(|x| x == "ro"));
                if ro {
                    "DEFAULT"
                } else {
                    let mnt = entry.get("mnt_point").and_then(Value::as_str);
                    alert(mnt, num("size") - num("free"), num("size"))
                }
            }
            ("network", "bytes_recv" | "bytes_sent") => {
                let dir = if field == "bytes_recv" { "rx" } else { "tx" };
                let bps = num(&format!("{field}_rate_per_sec")) * 8.0;
                let speed = num("speed");
                if speed > 0.0 {
                    alert(Some(dir), bps, speed)
                } else {
                    "DEFAULT"
                }
            }
            ("diskio", "read_latency") => alert(Some("rx_latency"), v, 100.0),
            ("diskio", "write_latency") => alert(Some("tx_latency"), v, 100.0),
            ("sensors", "value") => match entry.get("type").and_then(Value::as_str) {
                Some(t @ ("temperature_core" | "temperature_hdd")) => alert(Some(t), v, 100.0),
                Some("battery") => alert(Some("battery"), 100.0 - v, 100.0),
                _ => "DEFAULT",
            },
            ("quicklook", "cpu" | "mem" | "swap" | "load") => alert(Some(field), v, 100.0),
            ("processlist", "cpu_percent") => alert(Some("cpu"), v, 100.0),
            ("processlist", "memory_percent") => alert(Some("mem"), v, 100.0),
            ("processlist", "status") => {
                let s = entry.get("status").and_then(Value::as_str).unwrap_or("");
                let member = |key: &str| {
                    limits
                        .get(key)
                        .and_then(Value::as_array)
                        .is_some_and(|l| l.iter().any(|x| x.as_str() == Some(s)))
                };
                if member("processlist_status_critical") {
                    "CRITICAL"
                } else if member("processlist_status_ok") {
                    "OK"
                } else {
                    "DEFAULT"
                }
            }
            _ => "DEFAULT",
        };
        state.to_string()
    }

    fn entry_views(&mut self, plugin: &str, entry: &Map<String, Value>) -> Value {
        let mut out = Map::new();
        for field in entry.keys() {
            if field == "key" {
                continue;
            }
            // Process lists are long and only these fields are ever
            // decorated; views of every field would cost more than the scan.
            if matches!(plugin, "processlist" | "programlist")
                && !PROCESS_VIEW_FIELDS.contains(&field.as_str())
            {
                continue;
            }
            let d = self.decorate(plugin, field, entry);
            out.insert(field.clone(), view(&d));
        }
        Value::Object(out)
    }

    /// Feeds the events list from the fields Glances logs, without building
    /// any view: what every tick needs, at a fraction of the cost of views.
    pub fn record_events(&mut self, plugins: &BTreeMap<String, Value>) {
        for (plugin, field) in LOGGED_FIELDS {
            if let Some(Value::Object(entry)) = plugins.get(*plugin) {
                self.decorate(plugin, field, entry);
            }
        }
    }

    /// Views of one plugin's stats.
    pub fn views(&mut self, plugin: &str, stats: &Value) -> Value {
        match stats {
            Value::Object(m) => self.entry_views(plugin, m),
            Value::Array(list) => {
                let mut out = Map::new();
                for e in list {
                    let Some(m) = e.as_object() else { continue };
                    let key = m
                        .get("key")
                        .and_then(Value::as_str)
                        .and_then(|k| m.get(k))
                        .map(|v| match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .unwrap_or_default();
                    let v = self.entry_views(plugin, m);
                    out.insert(key, v);
                }
                Value::Object(out)
            }
            _ => json!({}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_alert_uses_header_limits_then_plugin_limits() {
        let limits: Map<String, Value> = serde_json::from_value(json!({
            "cpu_total_careful": 65.0, "cpu_total_warning": 75.0, "cpu_total_critical": 85.0,
            "load_careful": 0.7, "load_warning": 1.0, "load_critical": 5.0,
        }))
        .unwrap_or_default();
        assert_eq!(
            get_alert(&limits, "cpu", Some("total"), 80.0, 100.0),
            "WARNING"
        );
        assert_eq!(get_alert(&limits, "cpu", Some("total"), 10.0, 100.0), "OK");
        assert_eq!(
            get_alert(&limits, "cpu", Some("user"), 99.0, 100.0),
            "DEFAULT"
        );
        // load 3.0 on 4 cores: 0.75 per core.
        assert_eq!(get_alert(&limits, "load", None, 3.0, 400.0), "CAREFUL");
    }
}
