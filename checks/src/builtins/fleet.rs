//! `host_reports()`: what every registered host last reported, for fleet
//! checks such as "host stopped reporting". Such a check must not run on a
//! host's own worker (a dead host runs nothing), so it targets ZMON's
//! `GLOBAL` entity; the worker loads the reports before it runs.

use rhai::{Dynamic, Engine, Map};
use serde_json::Value;

use crate::{context, convert};

/// Entity id to `#{id, last_active, age, status}`. `last_active` is Unix
/// seconds and `age` the seconds since then; both are `()` for a host that
/// registered but has no report.
fn host_reports() -> Map {
    let now = chrono::Utc::now().timestamp();
    context::with_state(|state| {
        state
            .host_reports
            .iter()
            .map(|(id, report)| {
                let mut entry = Map::new();
                entry.insert("id".into(), Dynamic::from(id.clone()));
                let (last_active, age, status) = match report {
                    Some(r) => (
                        Dynamic::from(r.last_active),
                        Dynamic::from(now.saturating_sub(r.last_active)),
                        serde_json::to_value(&r.status)
                            .map(|v| convert::to_dynamic(&v))
                            .unwrap_or(Dynamic::UNIT),
                    ),
                    None => (
                        Dynamic::UNIT,
                        Dynamic::UNIT,
                        convert::to_dynamic(&Value::Null),
                    ),
                };
                entry.insert("last_active".into(), last_active);
                entry.insert("age".into(), age);
                entry.insert("status".into(), status);
                (id.as_str().into(), Dynamic::from_map(entry))
            })
            .collect()
    })
}

pub(super) fn register(engine: &mut Engine) {
    engine.register_fn("host_reports", host_reports);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use serde_json::{Map, json};
    use zmon_core::host::{HostReport, HostStatus};

    use crate::{compile, run_command_with};

    #[test]
    fn a_script_sees_each_registered_host_and_its_age() {
        let now = chrono::Utc::now().timestamp();
        let reports = Arc::new(vec![
            (
                "web-1".to_string(),
                Some(HostReport {
                    id: "web-1".into(),
                    last_active: now - 300,
                    status: HostStatus {
                        process_count: 7,
                        ..HostStatus::default()
                    },
                }),
            ),
            ("web-2".to_string(), None),
        ]);
        let script = compile(
            "let r = host_reports(); let ages = #{}; \
             for id in r.keys() { ages[id] = r[id].age; } \
             ages.procs = r[\"web-1\"].status.process_count; ages",
        )
        .expect("compiles");
        assert!(script.needs.host_reports);
        let value =
            run_command_with(&script, &Map::new(), reports, Duration::from_secs(1)).expect("runs");
        let age = value["web-1"].as_i64().unwrap_or_default();
        assert!((300..305).contains(&age), "{value}");
        assert_eq!(value["web-2"], json!(null), "registered, never reported");
        assert_eq!(value["procs"], 7);
    }
}
