//! Notification entries of alert definitions, as ZMON writes them:
//! `send_mail('team@example.org', repeat=600)`, `send_slack(channel='#ops')`.
//!
//! An entry is a call of one of the functions below (or an alias), with
//! literal arguments. `zmon_checks::notification::parse` reads the text
//! into a [`NotificationSpec`] once, when the definition is saved; this
//! module holds what each function accepts and the defaults ZMON gives it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What an entry delivers through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyKind {
    Mail,
    Sms,
    Slack,
    /// A generic webhook (`notify_http`; `format='alertmanager'` or
    /// `notify_webhook` send Alertmanager's v4 body).
    Http,
    PagerDuty,
    OpsGenie,
    /// ZMON accepts `True` and `False` as entries; they send nothing.
    Nothing,
}

/// A function's name, what it does, and the keyword arguments it takes in
/// order (positional arguments fill them in that order, except for the
/// recipients of mail and SMS, which are all positional).
pub struct FunctionSpec {
    pub names: &'static [&'static str],
    pub kind: NotifyKind,
    /// Positional arguments are recipients (`*to`, `*numbers`).
    pub variadic: bool,
    pub params: &'static [&'static str],
}

pub const FUNCTIONS: &[FunctionSpec] = &[
    FunctionSpec {
        names: &["send_mail", "send_email", "notify_mail", "notify_email"],
        kind: NotifyKind::Mail,
        variadic: true,
        params: &[
            "subject",
            "cc",
            "html",
            "hide_recipients",
            "include_value",
            "include_definition",
            "include_captures",
            "include_entity",
            "per_entity",
            "repeat",
        ],
    },
    FunctionSpec {
        names: &["send_sms", "notify_sms"],
        kind: NotifyKind::Sms,
        variadic: true,
        params: &["message", "repeat"],
    },
    FunctionSpec {
        names: &["send_slack", "notify_slack"],
        kind: NotifyKind::Slack,
        variadic: false,
        params: &["webhook", "channel", "message", "repeat"],
    },
    FunctionSpec {
        names: &["notify_http", "notify_webhook"],
        kind: NotifyKind::Http,
        variadic: false,
        params: &[
            "url",
            "body",
            "params",
            "headers",
            "timeout",
            "oauth2",
            "include_alert",
            "format",
            "send_resolved",
            "repeat",
        ],
    },
    FunctionSpec {
        names: &["notify_pagerduty"],
        kind: NotifyKind::PagerDuty,
        variadic: false,
        params: &[
            "message",
            "per_entity",
            "include_alert",
            "routing_key",
            "alert_class",
            "alert_group",
            "repeat",
        ],
    },
    FunctionSpec {
        names: &["notify_opsgenie"],
        kind: NotifyKind::OpsGenie,
        variadic: false,
        params: &[
            "teams",
            "per_entity",
            "include_alert",
            "include_captures",
            "priority",
            "message",
            "description",
            "custom_fields",
            "api_key",
            "repeat",
        ],
    },
];

pub fn function(name: &str) -> Option<&'static FunctionSpec> {
    FUNCTIONS.iter().find(|f| f.names.contains(&name))
}

/// Every accepted function name, for error messages.
pub fn function_names() -> Vec<&'static str> {
    FUNCTIONS
        .iter()
        .flat_map(|f| f.names.iter().copied())
        .collect()
}

/// A parsed entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationSpec {
    pub kind: NotifyKind,
    /// The function as written (an alias stays an alias).
    pub function: String,
    /// Recipients for mail (addresses, `group:<g>`, `active:<g>`) and SMS
    /// (numbers, or the same group forms).
    pub recipients: Vec<String>,
    /// Keyword arguments (positional ones already named).
    pub options: Map<String, Value>,
}

impl NotificationSpec {
    pub fn nothing(written: &str) -> Self {
        Self {
            kind: NotifyKind::Nothing,
            function: written.to_string(),
            recipients: Vec::new(),
            options: Map::new(),
        }
    }

    /// Seconds between ONGOING repeats; 0 = no repeats (ZMON's default).
    pub fn repeat_secs(&self) -> u64 {
        match self.options.get("repeat") {
            Some(Value::Number(n)) => n
                .as_u64()
                .or_else(|| n.as_f64().filter(|f| *f > 0.0).map(|f| f as u64))
                .unwrap_or(0),
            _ => 0,
        }
    }

    /// Whether every entity notifies on its own (`per_entity=True`) or the
    /// alert only as a whole: ZMON's default is per entity for mail and
    /// per alert for PagerDuty and OpsGenie; the others always notify per
    /// entity.
    pub fn per_entity(&self) -> bool {
        let default = !matches!(self.kind, NotifyKind::PagerDuty | NotifyKind::OpsGenie);
        match (self.kind, self.options.get("per_entity")) {
            (NotifyKind::Mail | NotifyKind::PagerDuty | NotifyKind::OpsGenie, Some(v)) => truthy(v),
            _ => default,
        }
    }

    pub fn option_str(&self, key: &str) -> Option<&str> {
        self.options.get(key).and_then(Value::as_str)
    }

    pub fn option_bool(&self, key: &str, default: bool) -> bool {
        self.options.get(key).map_or(default, truthy)
    }

    /// Incident-tracking targets, which must hear when an alert ends even
    /// outside its period or after its entity vanished.
    pub fn tracks_incidents(&self) -> bool {
        matches!(self.kind, NotifyKind::PagerDuty | NotifyKind::OpsGenie)
    }
}

/// Which moment of an alert a notification announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotifyEvent {
    New,
    Ongoing,
    Ended,
}

impl NotifyEvent {
    /// ZMON's subject prefix.
    pub fn headline(self) -> &'static str {
        match self {
            Self::New => "NEW ALERT",
            Self::Ongoing => "ALERT ONGOING",
            Self::Ended => "ALERT ENDED",
        }
    }
}

/// What a notification says about its alert (from the merged definition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotifiedAlert {
    pub id: i64,
    pub name: String,
    pub check_id: i64,
    pub condition: String,
    pub team: String,
    pub responsible_team: String,
    pub priority: i32,
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl From<&crate::task::TaskAlert> for NotifiedAlert {
    fn from(alert: &crate::task::TaskAlert) -> Self {
        Self {
            id: alert.id,
            name: alert.name.clone(),
            check_id: alert.check_id,
            condition: alert.condition.clone(),
            team: alert.team.clone(),
            responsible_team: alert.responsible_team.clone(),
            priority: alert.priority,
            period: alert.period.clone(),
            tags: alert.tags.clone(),
        }
    }
}

/// One notification to deliver, as a worker publishes it for the notifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationRequest {
    /// Unique; every delivery attempt is recorded under it.
    pub id: String,
    pub event: NotifyEvent,
    /// The entry as written in the definition.
    pub expr: String,
    pub spec: NotificationSpec,
    pub alert: NotifiedAlert,
    pub entity_id: String,
    pub entity: Map<String, Value>,
    pub captures: Map<String, Value>,
    /// The check result: `{ts, td, value, worker}`.
    pub value: Value,
    pub worker: String,
    /// Epoch seconds of the evaluation.
    pub ts: f64,
    /// Seconds the alert has been raised on the entity (0 when it starts).
    pub duration_secs: f64,
    /// The alert as a whole started or ended with this entity.
    pub alert_changed: bool,
    /// Why an ENDED was sent other than the condition clearing, e.g.
    /// `out_of_period`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl NotificationRequest {
    /// The alert's name (or the entry's custom message) with captures
    /// filled in, as ZMON's `_get_expanded_alert_name`.
    pub fn expanded_name(&self, custom: Option<&str>) -> String {
        let name = custom.unwrap_or(&self.alert.name);
        let mut values = self.captures.clone();
        values.insert("entities".into(), Value::String(self.entity_id.clone()));
        match python_format(name, &values) {
            Ok(text) => text,
            Err(FormatError::MissingKey) => name.to_string(),
            Err(FormatError::Invalid(e)) => format!("<<< Unformattable name '{name}': {e} >>>"),
        }
    }

    /// ZMON's subject: `NEW ALERT: <name> on <entity>`, plus ` for 0:05:00`
    /// while ongoing; with a custom message just `<EVENT>: <message>`.
    pub fn subject(&self, custom: Option<&str>) -> String {
        let name = self.expanded_name(custom);
        let event = self.event.headline();
        if custom.is_some() {
            return format!("{event}: {name}");
        }
        let mut subject = format!("{event}: {name} on {}", self.entity_id);
        if self.duration_secs >= 1.0 {
            subject.push_str(&format!(" for {}", python_timedelta(self.duration_secs)));
        }
        subject
    }

    /// `ZMON-<alert>` or `ZMON-<alert>-<entity>`, the key incident targets
    /// deduplicate on (hashed when over PagerDuty's 255 characters).
    pub fn dedup_key(&self) -> String {
        let key = if self.spec.per_entity() {
            format!("ZMON-{}-{}", self.alert.id, self.entity_id)
        } else {
            format!("ZMON-{}", self.alert.id)
        };
        if key.len() <= 255 {
            key
        } else {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            key.hash(&mut h);
            format!("ZMON-{}-{:016x}", self.alert.id, h.finish())
        }
    }
}

/// `str(timedelta)[:7]` for durations under ten hours, e.g. `0:00:30`.
pub fn python_timedelta(secs: f64) -> String {
    let total = secs.max(0.0) as u64;
    let (days, rest) = (total / 86_400, total % 86_400);
    let text = format!("{}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    let text = if days > 0 {
        format!("{days} day{}, {text}", if days == 1 { "" } else { "s" })
    } else {
        text
    };
    text.chars().take(7).collect()
}

#[derive(Debug, Clone, PartialEq)]
pub enum FormatError {
    MissingKey,
    Invalid(String),
}

/// Python's `str.format(**values)` for `{name}` fields (and `{{`, `}}`);
/// format specs and conversions are refused as ZMON would fail on them.
pub fn python_format(template: &str, values: &Map<String, Value>) -> Result<String, FormatError> {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut field = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => field.push(c),
                        None => return Err(FormatError::Invalid("unclosed '{'".into())),
                    }
                }
                if field.contains([':', '!', '[', '.']) {
                    return Err(FormatError::Invalid(format!(
                        "unsupported field '{{{field}}}'"
                    )));
                }
                let value = values.get(field.trim()).ok_or(FormatError::MissingKey)?;
                out.push_str(&python_str(value));
            }
            '}' => return Err(FormatError::Invalid("single '}'".into())),
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Python's `str()` of a JSON value.
pub fn python_str(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e16 => format!("{f:.1}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// Python's truth of a literal.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(kind: NotifyKind, options: Value) -> NotificationSpec {
        NotificationSpec {
            kind,
            function: "f".into(),
            recipients: vec![],
            options: options.as_object().cloned().unwrap_or_default(),
        }
    }

    fn request(event: NotifyEvent, duration_secs: f64) -> NotificationRequest {
        NotificationRequest {
            id: "r1".into(),
            event,
            expr: "send_mail('a@b.c')".into(),
            spec: spec(NotifyKind::Mail, json!({})),
            alert: NotifiedAlert {
                id: 7,
                name: "Load {load} on {entities}".into(),
                check_id: 3,
                condition: "value > 1".into(),
                team: "ops".into(),
                responsible_team: "ops".into(),
                priority: 1,
                period: String::new(),
                tags: vec![],
            },
            entity_id: "hostxy".into(),
            entity: Map::new(),
            captures: json!({"load": 2.0})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            value: json!({"value": 2.0}),
            worker: "w".into(),
            ts: 0.0,
            duration_secs,
            alert_changed: true,
            reason: None,
        }
    }

    #[test]
    fn subjects_follow_zmon() {
        assert_eq!(
            request(NotifyEvent::New, 0.0).subject(None),
            "NEW ALERT: Load 2.0 on hostxy on hostxy"
        );
        assert_eq!(
            request(NotifyEvent::Ongoing, 30.0).subject(None),
            "ALERT ONGOING: Load 2.0 on hostxy on hostxy for 0:00:30"
        );
        assert_eq!(
            request(NotifyEvent::Ended, 5.0).subject(Some("db {missing}")),
            "ALERT ENDED: db {missing}",
            "a missing key leaves the name raw"
        );
        assert_eq!(
            request(NotifyEvent::New, 0.0).subject(Some("x {load:.2f}")),
            "NEW ALERT: <<< Unformattable name 'x {load:.2f}': unsupported field '{load:.2f}' >>>"
        );
        assert_eq!(python_timedelta(3.0 * 86_400.0 + 5.0), "3 days,");
        assert_eq!(python_timedelta(3725.0), "1:02:05");
        assert_eq!(request(NotifyEvent::New, 0.0).dedup_key(), "ZMON-7-hostxy");
        assert_eq!(
            python_format("{{a}} {a}", json!({"a": [1]}).as_object().expect("map")),
            Ok("{a} [1]".to_string())
        );
    }

    #[test]
    fn defaults_follow_zmon() {
        assert!(spec(NotifyKind::Mail, json!({})).per_entity());
        assert!(!spec(NotifyKind::Mail, json!({"per_entity": false})).per_entity());
        assert!(!spec(NotifyKind::PagerDuty, json!({})).per_entity());
        assert!(spec(NotifyKind::PagerDuty, json!({"per_entity": true})).per_entity());
        assert!(
            spec(NotifyKind::Slack, json!({"per_entity": false})).per_entity(),
            "slack always notifies per entity"
        );
        assert_eq!(
            spec(NotifyKind::Slack, json!({"repeat": 300})).repeat_secs(),
            300
        );
        assert_eq!(
            spec(NotifyKind::Slack, json!({"repeat": 2.5})).repeat_secs(),
            2
        );
        assert_eq!(spec(NotifyKind::Slack, json!({})).repeat_secs(), 0);
        assert!(function("send_email").is_some_and(|f| f.kind == NotifyKind::Mail));
        assert!(function("send_hipchat").is_none());
    }
}
