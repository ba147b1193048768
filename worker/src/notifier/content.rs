//! What notifications say: ZMON's mail body and `notify_http` context,
//! and Alertmanager's v4 webhook body.

use std::hash::{Hash, Hasher};

use serde_json::{Value, json};
use zmon_core::notification::{NotificationRequest, NotifyEvent, python_str};

/// `<public>/#/alert-details/<id>`, or empty without a public URL.
pub fn alert_link(public_url: Option<&str>, alert_id: i64) -> String {
    public_url
        .map(|base| format!("{}/#/alert-details/{alert_id}", base.trim_end_matches('/')))
        .unwrap_or_default()
}

/// ZMON's notification context, as `notify_http` posts it.
pub fn context(r: &NotificationRequest) -> Value {
    json!({
        "is_alert": r.event != NotifyEvent::Ended,
        "changed": r.event != NotifyEvent::Ongoing,
        "alert_changed": r.alert_changed,
        "duration": r.duration_secs,
        "captures": r.captures,
        "entity": r.entity,
        "worker": r.worker,
        "alert_evaluation_ts": r.ts,
        "value": r.value,
        "alert_def": {
            "id": r.alert.id,
            "name": r.alert.name,
            "check_id": r.alert.check_id,
            "condition": r.alert.condition,
            "priority": r.alert.priority,
            "team": r.alert.team,
            "responsible_team": r.alert.responsible_team,
            "period": r.alert.period,
            "tags": r.alert.tags,
        },
    })
}

fn rfc3339(epoch: f64) -> String {
    chrono::DateTime::from_timestamp_micros((epoch * 1e6) as i64)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Alertmanager's webhook body (version 4), one alert per notification,
/// so receivers written for Alertmanager take ours unchanged.
pub fn alertmanager(r: &NotificationRequest, public_url: Option<&str>) -> Value {
    let resolved = r.event == NotifyEvent::Ended;
    let status = if resolved { "resolved" } else { "firing" };
    let name = r.expanded_name(None);
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (r.alert.id, &r.entity_id).hash(&mut hasher);
    let labels = json!({
        "alertname": name,
        "alert_id": r.alert.id.to_string(),
        "entity": r.entity_id,
        "team": r.alert.team,
        "responsible_team": r.alert.responsible_team,
        "priority": r.alert.priority.to_string(),
        "check_id": r.alert.check_id.to_string(),
    });
    json!({
        "version": "4",
        "groupKey": format!("zmon:{}", r.alert.id),
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "zmon",
        "groupLabels": {"alert_id": r.alert.id.to_string()},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": public_url.unwrap_or_default(),
        "alerts": [{
            "status": status,
            "labels": labels,
            "annotations": {
                "summary": r.subject(None),
                "captures": Value::Object(r.captures.clone()).to_string(),
            },
            "startsAt": rfc3339(r.ts - r.duration_secs),
            "endsAt": if resolved { rfc3339(r.ts) } else { "0001-01-01T00:00:00Z".to_string() },
            "generatorURL": alert_link(public_url, r.alert.id),
            "fingerprint": format!("{:016x}", hasher.finish()),
        }],
    })
}

/// ZMON's plain-text mail body, with its `include_*` switches.
pub fn mail_text(r: &NotificationRequest, link: &str) -> String {
    let spec = &r.spec;
    let name = r.expanded_name(None);
    let mut out = match r.event {
        NotifyEvent::New => format!("New alert on {}: {name}\n", r.entity_id),
        NotifyEvent::Ongoing => format!(
            "Entity {} in alert for {}: {name}\n",
            r.entity_id,
            zmon_core::notification::python_timedelta(r.duration_secs)
        ),
        NotifyEvent::Ended => format!("Alert ended on {}: {name}\n", r.entity_id),
    };
    if spec.option_bool("include_value", true) {
        let value = r.value.get("value").unwrap_or(&r.value);
        out.push_str(&format!("\nValue: {}\n", python_str(value)));
    }
    if !link.is_empty() {
        out.push_str(&format!("\nDetails: {link}\n"));
    }
    out.push_str(&format!("Worker: {}\n", r.worker));
    if spec.option_bool("include_captures", true) && !r.captures.is_empty() {
        out.push_str("\nCaptures:\n");
        for (k, v) in &r.captures {
            out.push_str(&format!("  {k}: {}\n", python_str(v)));
        }
    }
    if spec.option_bool("include_definition", true) {
        out.push_str(&format!(
            "\nAlert definition:\n  Name (ID): {} ({})\n  Priority: {}\n  Condition: {}\n  Team: {}\n  Responsible team: {}\n",
            r.alert.name, r.alert.id, r.alert.priority, r.alert.condition, r.alert.team, r.alert.responsible_team
        ));
    }
    if spec.option_bool("include_entity", true) && !r.entity.is_empty() {
        out.push_str("\nEntity:\n");
        for (k, v) in &r.entity {
            out.push_str(&format!("  {k}: {}\n", python_str(v)));
        }
    }
    out
}

/// A minimal HTML version of the mail, for `html=True`.
pub fn mail_html(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<html><body><pre style=\"font-family: sans-serif\">{escaped}</pre></body></html>")
}
