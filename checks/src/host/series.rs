//! The history series Glances keeps (`items_history_list`), pushed once
//! per tick.

use chrono::{DateTime, Utc};
use serde_json::{Number, Value};

use super::HistoryStore;
use super::Snapshot;

/// `(plugin, fields)`; list plugins name series `<key value>_<field>`.
const SERIES: &[(&str, &[&str])] = &[
    ("cpu", &["user", "system"]),
    ("percpu", &["user", "system"]),
    ("load", &["min1", "min5", "min15"]),
    ("mem", &["percent"]),
    ("memswap", &["percent"]),
    ("fs", &["percent"]),
    (
        "diskio",
        &["read_bytes_rate_per_sec", "write_bytes_rate_per_sec"],
    ),
    (
        "network",
        &["bytes_recv_rate_per_sec", "bytes_sent_rate_per_sec"],
    ),
    ("processcount", &["total", "running", "sleeping", "thread"]),
    ("quicklook", &["cpu", "mem", "swap"]),
    ("containers", &["cpu_percent"]),
    ("gpu", &["proc", "mem"]),
];

fn number(v: Option<&Value>) -> Option<Number> {
    match v? {
        Value::Number(n) => Some(n.clone()),
        _ => None,
    }
}

pub fn record(store: &mut HistoryStore, snapshot: &Snapshot, at: DateTime<Utc>) {
    for (plugin, fields) in SERIES {
        match snapshot.plugin(plugin) {
            Some(Value::Object(m)) => {
                for f in *fields {
                    if let Some(n) = number(m.get(*f)) {
                        store.push(plugin, f, at, n);
                    }
                }
            }
            Some(Value::Array(list)) => {
                for e in list {
                    let Some(key) = e["key"].as_str().map(|k| &e[k]) else {
                        continue;
                    };
                    let key = match key {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    for f in *fields {
                        if let Some(n) = number(e.get(*f)) {
                            store.push(plugin, &format!("{key}_{f}"), at, n);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}
