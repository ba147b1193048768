//! Reading one plugin out of a snapshot, the way Glances' plugin routes
//! do, with the D.6 fixes: unknown items are 404s and key lookups compare
//! as strings so numeric keys (pid, cpu_number) match.

use std::cmp::Ordering;

use serde_json::{Map, Value, json};
use zmon_checks::host::{HostMonitor, Snapshot, field_info};

use super::error::ApiError;

/// The plugin's raw stats, or Glances' 400 naming the plugins there are.
pub fn stats<'a>(snapshot: &'a Snapshot, plugin: &str) -> Result<&'a Value, ApiError> {
    snapshot
        .plugin(plugin)
        .ok_or_else(|| unknown_plugin(snapshot, plugin))
}

fn unknown_plugin(snapshot: &Snapshot, plugin: &str) -> ApiError {
    // Python's list repr, as Glances prints it.
    let names: Vec<String> = snapshot
        .plugin_names()
        .map(|name| format!("'{name}'"))
        .collect();
    ApiError::UnknownPlugin {
        plugin: plugin.to_string(),
        available: format!("[{}]", names.join(", ")),
    }
}

/// The stats as `GET /{plugin}` serves them: the process list sorted the
/// way Glances' `auto` sort does, everything else raw.
pub fn api_stats(snapshot: &Snapshot, plugin: &str) -> Result<Value, ApiError> {
    let raw = stats(snapshot, plugin)?;
    if plugin != "processlist" {
        return Ok(raw.clone());
    }
    let Some(entries) = raw.as_array() else {
        return Ok(raw.clone());
    };
    let mut sorted = entries.clone();
    sorted.sort_by(|a, b| {
        number(b, "cpu_percent")
            .total_cmp(&number(a, "cpu_percent"))
            .then_with(|| number(b, "memory_percent").total_cmp(&number(a, "memory_percent")))
    });
    Ok(Value::Array(sorted))
}

fn number(entry: &Value, field: &str) -> f64 {
    entry.get(field).and_then(Value::as_f64).unwrap_or(0.0)
}

/// The first `nb` entries of a list plugin; other plugins come back whole.
pub fn top(snapshot: &Snapshot, plugin: &str, nb: u64) -> Result<Value, ApiError> {
    let stats = api_stats(snapshot, plugin)?;
    Ok(match stats {
        Value::Array(entries) => {
            let nb = usize::try_from(nb).unwrap_or(usize::MAX);
            Value::Array(entries.into_iter().take(nb).collect())
        }
        other => other,
    })
}

/// `{item: value}` of a dict plugin, or `{item: [value per entry]}` of a
/// list plugin.
pub fn item(snapshot: &Snapshot, plugin: &str, item: &str) -> Result<Value, ApiError> {
    let value = match stats(snapshot, plugin)? {
        Value::Object(fields) => fields.get(item).cloned(),
        Value::Array(entries) => {
            let values: Vec<Value> = entries
                .iter()
                .filter_map(|entry| entry.get(item).cloned())
                .collect();
            (entries.is_empty() || !values.is_empty()).then_some(Value::Array(values))
        }
        _ => None,
    };
    value
        .map(|value| json!({ item: value }))
        .ok_or_else(|| unknown_item(plugin, item))
}

fn unknown_item(plugin: &str, item: &str) -> ApiError {
    ApiError::not_found(format!("Unknown item {item} in plugin {plugin}"))
}

fn entries<'a>(snapshot: &'a Snapshot, plugin: &str) -> Result<&'a [Value], ApiError> {
    stats(snapshot, plugin)?
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| ApiError::not_found(format!("Plugin {plugin} is not a list of entries")))
}

/// `{value: [entries whose item equals value]}`.
pub fn filter(
    snapshot: &Snapshot,
    plugin: &str,
    item: &str,
    value: &str,
) -> Result<Value, ApiError> {
    let entries = entries(snapshot, plugin)?;
    if !entries.is_empty() && entries.iter().all(|entry| entry.get(item).is_none()) {
        return Err(unknown_item(plugin, item));
    }
    let matching: Vec<Value> = entries
        .iter()
        .filter(|entry| entry.get(item).is_some_and(|v| matches(v, value)))
        .cloned()
        .collect();
    Ok(json!({ value: matching }))
}

/// `{item: entry[item]}` for the entry whose key field equals `key`.
pub fn item_for_key(
    snapshot: &Snapshot,
    plugin: &str,
    item: &str,
    key: &str,
) -> Result<Value, ApiError> {
    let entry = entries(snapshot, plugin)?
        .iter()
        .find(|entry| {
            entry
                .get("key")
                .and_then(Value::as_str)
                .and_then(|field| entry.get(field))
                .is_some_and(|v| matches(v, key))
        })
        .ok_or_else(|| ApiError::not_found(format!("Unknown key {key} in plugin {plugin}")))?;
    entry
        .get(item)
        .map(|value| json!({ item: value }))
        .ok_or_else(|| unknown_item(plugin, item))
}

/// Whether a JSON value equals a path segment. Numbers compare by value,
/// so `/processlist/name/1` finds pid 1 and `/percpu/total/0` cpu 0.
fn matches(value: &Value, wanted: &str) -> bool {
    match value {
        Value::String(s) => s == wanted,
        Value::Number(n) => {
            n.to_string() == wanted
                || wanted
                    .parse::<f64>()
                    .ok()
                    .zip(n.as_f64())
                    .is_some_and(|(w, n)| w.total_cmp(&n) == Ordering::Equal)
        }
        Value::Bool(b) => wanted.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        Value::Null => wanted == "None" || wanted == "null",
        Value::Array(_) | Value::Object(_) => false,
    }
}

/// The plugin's views or limits, `{}` when it has none.
pub fn views(snapshot: &Snapshot, plugin: &str) -> Result<Value, ApiError> {
    stats(snapshot, plugin)?;
    Ok(snapshot.views(plugin).cloned().unwrap_or_else(empty))
}

pub fn limits(snapshot: &Snapshot, plugin: &str) -> Result<Value, ApiError> {
    stats(snapshot, plugin)?;
    Ok(snapshot.limits(plugin).cloned().unwrap_or_else(empty))
}

fn empty() -> Value {
    Value::Object(Map::new())
}

/// `views[item]`: a field's view, or a list entry's views by key value.
pub fn item_views(snapshot: &Snapshot, plugin: &str, item: &str) -> Result<Value, ApiError> {
    views(snapshot, plugin)?
        .get(item)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("No views for {item} in plugin {plugin}")))
}

/// `views[key][item]`.
pub fn key_item_views(
    snapshot: &Snapshot,
    plugin: &str,
    item: &str,
    key: &str,
) -> Result<Value, ApiError> {
    views(snapshot, plugin)?
        .get(key)
        .and_then(|entry| entry.get(item))
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(format!("No views for {item} of {key} in plugin {plugin}"))
        })
}

/// `{series: [[iso, value], ...]}`; `{}` for a plugin that keeps none.
pub fn history(
    monitor: &HostMonitor,
    snapshot: &Snapshot,
    plugin: &str,
    nb: u64,
) -> Result<Value, ApiError> {
    stats(snapshot, plugin)?;
    Ok(Value::Object(
        monitor
            .plugin_history(plugin, nb_points(nb))
            .unwrap_or_default(),
    ))
}

/// `[[iso, value], ...]` of one series.
pub fn item_history(
    monitor: &HostMonitor,
    snapshot: &Snapshot,
    plugin: &str,
    item: &str,
    nb: u64,
) -> Result<Value, ApiError> {
    stats(snapshot, plugin)?;
    monitor
        .item_history(plugin, item, nb_points(nb))
        .ok_or_else(|| ApiError::not_found(format!("No history for {item} in plugin {plugin}")))
}

fn nb_points(nb: u64) -> Option<usize> {
    Some(usize::try_from(nb).unwrap_or(usize::MAX))
}

/// Which half of a field's description to serve.
#[derive(Debug, Clone, Copy)]
pub enum FieldPart {
    Description,
    Unit,
}

pub fn field(
    snapshot: &Snapshot,
    plugin: &str,
    item: &str,
    part: FieldPart,
) -> Result<Value, ApiError> {
    stats(snapshot, plugin)?;
    let info = field_info(plugin, item).ok_or_else(|| unknown_item(plugin, item))?;
    Ok(match part {
        FieldPart::Description => Value::String(info.description.to_string()),
        FieldPart::Unit => info
            .unit
            .map_or(Value::Null, |u| Value::String(u.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_their_text() {
        assert!(matches(&json!(1), "1"));
        assert!(matches(&json!(0), "0"));
        assert!(matches(&json!(2.5), "2.5"));
        assert!(!matches(&json!(1), "01x"));
        assert!(matches(&json!("eth0"), "eth0"));
        assert!(!matches(&json!("eth0"), "eth1"));
        assert!(matches(&json!(true), "True"));
    }
}
