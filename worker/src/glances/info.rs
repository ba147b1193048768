//! `/config`, `/args` and `/help`: what Glances shows of its own settings,
//! rebuilt from the sampler's configuration, the limits and ours.

use std::time::Duration;

use serde_json::{Map, Value, json};
use zmon_checks::host::{SamplerConfig, Snapshot};

use super::{GLANCES_VERSION, GlancesConfig};

/// Shown instead of secrets.
const MASK: &str = "********";

/// Seconds the way a Glances config file writes them: `2`, or `0.5`.
fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0}")
    } else {
        secs.to_string()
    }
}

/// A limit value back in config-file form: `50`, `0.7`, `/boot.*,.*/snap.*`.
fn config_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
            _ => n.to_string(),
        },
        Value::Array(items) => items.iter().map(config_text).collect::<Vec<_>>().join(","),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Value::Null => String::new(),
        Value::Object(_) => value.to_string(),
    }
}

/// `{section: {key: "string"}}`, all values strings as in Glances.
pub fn config(
    sampler: &SamplerConfig,
    snapshot: &Snapshot,
    glances: &GlancesConfig,
) -> Map<String, Value> {
    let mut sections = Map::new();
    sections.insert(
        "global".into(),
        json!({
            "refresh": seconds(sampler.tick),
            "history_size": sampler.history_size.to_string(),
            "check_update": "false",
        }),
    );
    sections.insert(
        "outputs".into(),
        json!({
            "cors_origins": glances.cors_origins.join(","),
            "cors_credentials": if glances.cors_credentials { "true" } else { "false" },
            "webui_allowed_hosts": glances.allowed_hosts.join(","),
            "url_prefix": glances.url_prefix,
            "jwt_expire_minutes": (glances.jwt_expire.as_secs() / 60).to_string(),
        }),
    );
    for (plugin, limits) in &snapshot.limits {
        let Some(limits) = limits.as_object() else {
            continue;
        };
        let prefix = format!("{plugin}_");
        let section: Map<String, Value> = limits
            .iter()
            .filter(|(key, _)| key.as_str() != "history_size")
            .map(|(key, value)| {
                let key = key.strip_prefix(&prefix).unwrap_or(key);
                (key.to_string(), Value::String(config_text(value)))
            })
            .collect();
        sections.insert(plugin.clone(), Value::Object(section));
    }
    // The slower cadences, where Glances has per-plugin `refresh` keys.
    for (plugin, every) in [
        ("fs", sampler.fs_tick),
        ("system", sampler.system_tick),
        ("ip", sampler.system_tick),
        ("sensors", sampler.system_tick),
    ] {
        if let Some(Value::Object(section)) = sections.get_mut(plugin) {
            section.insert("refresh".into(), Value::String(seconds(every)));
        }
    }
    sections
}

/// An argparse-like namespace. The password is always masked; without a
/// password anyone can read this, so the user name is masked too.
pub fn args(sampler: &SamplerConfig, glances: &GlancesConfig) -> Map<String, Value> {
    let (bind_address, port) = match glances.bind.rsplit_once(':') {
        Some((host, port)) => (
            host.trim_matches(['[', ']']).to_string(),
            port.parse::<u16>().ok(),
        ),
        None => (glances.bind.clone(), None),
    };
    let username = if glances.password.is_some() {
        Value::String(glances.username.clone())
    } else {
        Value::String(MASK.into())
    };
    let args = json!({
        "bind_address": bind_address,
        "port": port,
        "webserver": true,
        "disable_webui": true,
        "browser": false,
        "time": sampler.tick.as_secs_f64(),
        "cached_time": sampler.tick.as_secs_f64(),
        "disable_history": sampler.history_size == 0,
        "history_size": sampler.history_size,
        "password": MASK,
        "username": username,
        "conf_file": MASK,
        "url_prefix": glances.url_prefix,
        "open_web_browser": false,
        "process_short_name": true,
        "enable_process_extended": false,
        "disable_process": false,
        "percpu": false,
        "byte": false,
        "fs_free_space": false,
        "diskio_show_ramfs": false,
        "disable_irix": false,
        "debug": false,
        "export": null,
    });
    match args {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A reduced version of Glances' help view data.
pub fn help() -> Value {
    json!({
        "version": format!("Glances {GLANCES_VERSION} (zmon {})", env!("CARGO_PKG_VERSION")),
        "psutil_version": "",
        "configuration_file": "Configuration file: none",
        "header_sort": "SORT PROCESSES:",
        "sort_auto": "Automatically",
        "sort_cpu": "CPU%",
        "sort_mem": "MEM%",
        "sort_name": "Process name",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_texts() {
        assert_eq!(seconds(Duration::from_secs(2)), "2");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5");
        assert_eq!(config_text(&json!(50.0)), "50");
        assert_eq!(config_text(&json!(0.7)), "0.7");
        assert_eq!(
            config_text(&json!(["/boot.*", ".*/snap.*"])),
            "/boot.*,.*/snap.*"
        );
    }
}
