//! ICMP ping and TCP-connect monitors (Nezha's "services"): a target
//! probed from every covered host at a fixed interval.
//!
//! A monitor is run as a check definition it manages (see
//! [`crate::check::MONITOR_SOURCE_PREFIX`]): the scheduler routes it to
//! each covered host's queue, the host's worker probes, and alerts can use
//! its results like any check's. Each probe is also published as a
//! [`ProbeSample`]; the controller folds those into per-minute
//! [`MonitorMinute`]s for the fleet API's history.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::check::{DefinitionStatus, MAX_NAME_LEN, MONITOR_SOURCE_PREFIX, NewCheckDefinition};
use crate::filter::EntityFilter;
use crate::validation::{ValidationError, max_len, non_blank};

pub const DEFAULT_INTERVAL: i64 = 30;
pub const MIN_INTERVAL: i64 = 5;
pub const MAX_INTERVAL: i64 = 86_400;
const MAX_TARGET_LEN: usize = 255;
const MAX_SERVERS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MonitorKind {
    /// ICMP echo; `target` is a host name or an address.
    Icmp,
    /// TCP connect; `target` is `host:port` (`[v6]:port`).
    Tcp,
}

impl MonitorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Icmp => "icmp",
            Self::Tcp => "tcp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "icmp" => Some(Self::Icmp),
            "tcp" => Some(Self::Tcp),
            _ => None,
        }
    }
}

/// Which hosts probe: all, only the listed ones, or all except them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Cover {
    #[default]
    All,
    Only,
    Except,
}

impl Cover {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Only => "only",
            Self::Except => "except",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "all" => Some(Self::All),
            "only" => Some(Self::Only),
            "except" => Some(Self::Except),
            _ => None,
        }
    }
}

/// A server in `servers`: its fleet id (as in `/api/v1/server/list`) or
/// its host entity id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ServerRef {
    Id(i64),
    Entity(String),
}

/// A stored monitor, as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Monitor {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: MonitorKind,
    pub target: String,
    /// Seconds between probes from each host.
    pub interval: i64,
    pub cover: Cover,
    pub servers: Vec<ServerRef>,
    /// Owns the managed check definition.
    pub team: String,
    /// The check definition that runs the probes; alerts point at it.
    pub check_definition_id: i64,
    pub last_modified_by: String,
    /// Epoch milliseconds.
    pub last_modified: i64,
}

/// A monitor as clients send it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitorInput {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<MonitorKind>,
    pub target: Option<String>,
    /// Defaults to 30 seconds.
    pub interval: Option<i64>,
    /// Defaults to `all`.
    pub cover: Option<Cover>,
    pub servers: Option<Vec<ServerRef>>,
    /// Defaults to the caller's first team.
    pub team: Option<String>,
    /// Ignored (the path names the monitor); accepted so a GET body can be
    /// sent back.
    pub id: Option<i64>,
    #[serde(default)]
    pub check_definition_id: Option<i64>,
    #[serde(default)]
    pub last_modified_by: Option<String>,
    #[serde(default)]
    pub last_modified: Option<i64>,
}

/// A validated monitor, before the store gives it an id.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorDraft {
    pub name: String,
    pub kind: MonitorKind,
    pub target: String,
    pub interval: i64,
    pub cover: Cover,
    pub servers: Vec<ServerRef>,
    pub team: Option<String>,
}

impl MonitorInput {
    pub fn validate(self) -> Result<MonitorDraft, ValidationError> {
        let name = non_blank("name", self.name)?;
        max_len("name", &name, MAX_NAME_LEN)?;
        let kind = self
            .kind
            .ok_or_else(|| ValidationError::mandatory("type"))?;
        let target = non_blank("target", self.target)?;
        validate_target(kind, &target)?;
        let interval = self.interval.unwrap_or(DEFAULT_INTERVAL);
        if !(MIN_INTERVAL..=MAX_INTERVAL).contains(&interval) {
            return Err(ValidationError::new(
                "interval",
                format!("must be between {MIN_INTERVAL} and {MAX_INTERVAL} seconds"),
            ));
        }
        let cover = self.cover.unwrap_or_default();
        let servers = self.servers.unwrap_or_default();
        if servers.len() > MAX_SERVERS {
            return Err(ValidationError::new(
                "servers",
                format!("must list at most {MAX_SERVERS} servers"),
            ));
        }
        for server in &servers {
            match server {
                ServerRef::Id(id) if *id < 1 => {
                    return Err(ValidationError::new(
                        "servers",
                        format!("server id {id} is not a positive integer"),
                    ));
                }
                ServerRef::Entity(e) if e.trim().is_empty() => {
                    return Err(ValidationError::new(
                        "servers",
                        "must not contain blank entity ids",
                    ));
                }
                _ => {}
            }
        }
        if cover == Cover::Only && servers.is_empty() {
            return Err(ValidationError::new(
                "servers",
                "cover 'only' needs at least one server",
            ));
        }
        if let Some(team) = &self.team {
            max_len("team", team, MAX_NAME_LEN)?;
        }
        Ok(MonitorDraft {
            name,
            kind,
            target,
            interval,
            cover,
            servers,
            team: self.team.filter(|t| !t.trim().is_empty()),
        })
    }
}

fn validate_target(kind: MonitorKind, target: &str) -> Result<(), ValidationError> {
    max_len("target", target, MAX_TARGET_LEN)?;
    if target
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\\' | '/'))
    {
        return Err(ValidationError::new(
            "target",
            "must be a host name or address without spaces, quotes, slashes or a scheme",
        ));
    }
    match kind {
        MonitorKind::Tcp => {
            let (host, port) = split_host_port(target).ok_or_else(|| {
                ValidationError::new("target", "a tcp target is host:port, e.g. example.org:443")
            })?;
            if host.is_empty() {
                return Err(ValidationError::new("target", "names no host"));
            }
            if !matches!(port.parse::<u16>(), Ok(p) if p > 0) {
                return Err(ValidationError::new(
                    "target",
                    format!("port '{port}' is not between 1 and 65535"),
                ));
            }
        }
        MonitorKind::Icmp => {
            if target.parse::<std::net::IpAddr>().is_err()
                && (target.contains(':') || target.starts_with('['))
            {
                return Err(ValidationError::new(
                    "target",
                    "an icmp target is a host name or an address, without a port",
                ));
            }
        }
    }
    Ok(())
}

/// `host:port` or `[v6]:port`, split.
pub fn split_host_port(target: &str) -> Option<(&str, &str)> {
    if let Some(rest) = target.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port));
    }
    let (host, port) = target.rsplit_once(':')?;
    if host.contains(':') {
        // An unbracketed IPv6 address: the last colon is not a port.
        return None;
    }
    Some((host, port))
}

impl MonitorDraft {
    /// The check command that probes this monitor's target.
    pub fn command(&self) -> String {
        // JSON string literals are valid Rhai string literals for the
        // characters a validated target may contain.
        format!(
            "monitor_probe({}, {})",
            json!(self.kind.as_str()),
            json!(self.target)
        )
    }

    /// The check definition that runs this monitor, given its id and the
    /// entity ids of its `servers`.
    pub fn check_definition(
        &self,
        monitor_id: i64,
        team: &str,
        server_entities: &[String],
    ) -> NewCheckDefinition {
        let host_filter = |id: Option<&str>| {
            let mut map = Map::new();
            map.insert("type".into(), Value::from("host"));
            if let Some(id) = id {
                map.insert("id".into(), Value::from(id));
            }
            EntityFilter::new(map)
        };
        let listed = || {
            server_entities
                .iter()
                .map(|e| host_filter(Some(e)))
                .collect::<Vec<_>>()
        };
        let (entities, entities_exclude) = match self.cover {
            Cover::All => (vec![host_filter(None)], Vec::new()),
            Cover::Only => (listed(), Vec::new()),
            Cover::Except => (vec![host_filter(None)], listed()),
        };
        NewCheckDefinition {
            id: None,
            name: format!("Monitor: {}", self.name),
            description: format!(
                "{} probe of {} from each covered host, managed by monitor {monitor_id}.",
                self.kind.as_str().to_uppercase(),
                self.target
            ),
            technical_details: Some(format!(
                "Edit it through /api/v1/monitors/{monitor_id}; the value is \
                 {{avg_delay, ok, target, type}} and a failed probe is a check error."
            )),
            potential_analysis: None,
            potential_impact: None,
            potential_solution: None,
            owning_team: team.to_string(),
            entities,
            entities_exclude,
            interval: self.interval,
            command: self.command(),
            status: DefinitionStatus::Active,
            source_url: Some(format!("{MONITOR_SOURCE_PREFIX}{monitor_id}")),
        }
    }
}

/// One probe's outcome, as a worker publishes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeSample {
    pub check_id: i64,
    /// The host entity whose worker probed.
    pub entity: String,
    /// Epoch seconds the probe finished.
    pub at: f64,
    /// Round-trip (ICMP) or connect (TCP) time; `None` when it failed.
    pub delay_ms: Option<f64>,
    pub error: Option<String>,
}

/// What one minute of probes from one server to one monitor came to.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorMinute {
    pub monitor_id: i64,
    pub server_id: i64,
    /// Epoch seconds, a multiple of 60.
    pub minute: i64,
    pub successes: i64,
    pub failures: i64,
    /// Sum of the successful probes' delays; the average is this over
    /// `successes`, so failures never pull it towards 0.
    pub delay_sum_ms: f64,
}

impl MonitorMinute {
    pub fn avg_delay_ms(&self) -> Option<f64> {
        (self.successes > 0).then(|| self.delay_sum_ms / self.successes as f64)
    }

    /// Adds another count of the same (monitor, server, minute).
    pub fn absorb(&mut self, other: &MonitorMinute) {
        self.successes += other.successes;
        self.failures += other.failures;
        self.delay_sum_ms += other.delay_sum_ms;
    }
}

/// Sums the counts of equal (monitor, server, minute) keys, so a batch
/// names each row once.
pub fn merge_minutes(minutes: &[MonitorMinute]) -> Vec<MonitorMinute> {
    let mut merged: std::collections::BTreeMap<(i64, i64, i64), MonitorMinute> =
        std::collections::BTreeMap::new();
    for m in minutes {
        merged
            .entry((m.monitor_id, m.server_id, m.minute))
            .and_modify(|acc| acc.absorb(m))
            .or_insert_with(|| m.clone());
    }
    merged.into_values().collect()
}

/// The minute (epoch seconds) an instant falls in.
pub fn minute_of(epoch_seconds: f64) -> i64 {
    (epoch_seconds.floor() as i64).div_euclid(60) * 60
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(v: Value) -> MonitorInput {
        serde_json::from_value(v).expect("input parses")
    }

    #[test]
    fn defaults_and_command() {
        let d = input(json!({"name": "web", "type": "tcp", "target": "example.org:443"}))
            .validate()
            .expect("valid");
        assert_eq!(d.interval, 30);
        assert_eq!(d.cover, Cover::All);
        assert_eq!(d.command(), r#"monitor_probe("tcp", "example.org:443")"#);
        let check = d.check_definition(7, "ops", &[]);
        assert_eq!(check.source_url.as_deref(), Some("zmon-monitor:7"));
        assert_eq!(
            crate::check::monitor_id_of_source(check.source_url.as_deref()),
            Some(7)
        );
        assert_eq!(check.entities.len(), 1);
    }

    #[test]
    fn cover_becomes_filters() {
        let mut d = input(json!({"name": "p", "type": "icmp", "target": "10.0.0.1",
            "cover": "except", "servers": [1, "node-b"]}))
        .validate()
        .expect("valid");
        let servers = ["node-a".to_string(), "node-b".to_string()];
        let check = d.check_definition(1, "ops", &servers);
        assert_eq!(
            serde_json::to_value(&check.entities).expect("json"),
            json!([{"type": "host"}])
        );
        assert_eq!(
            serde_json::to_value(&check.entities_exclude).expect("json"),
            json!([{"type": "host", "id": "node-a"}, {"type": "host", "id": "node-b"}])
        );
        d.cover = Cover::Only;
        let check = d.check_definition(1, "ops", &servers);
        assert_eq!(check.entities.len(), 2);
        assert!(check.entities_exclude.is_empty());
    }

    #[test]
    fn names_what_is_wrong() {
        let cases = [
            (json!({"type": "tcp", "target": "a:1"}), "name is mandatory"),
            (json!({"name": "n", "target": "a:1"}), "type is mandatory"),
            (
                json!({"name": "n", "type": "tcp", "target": "a"}),
                "target a tcp target is host:port",
            ),
            (
                json!({"name": "n", "type": "tcp", "target": "a:0"}),
                "target port '0'",
            ),
            (
                json!({"name": "n", "type": "tcp", "target": "a:99999"}),
                "target port '99999'",
            ),
            (
                json!({"name": "n", "type": "tcp", "target": "http://a:80"}),
                "target must be a host",
            ),
            (
                json!({"name": "n", "type": "icmp", "target": "a:80"}),
                "target an icmp target",
            ),
            (
                json!({"name": "n", "type": "icmp", "target": "a\"); x("}),
                "target must be a host",
            ),
            (
                json!({"name": "n", "type": "icmp", "target": "a", "interval": 1}),
                "interval must be between",
            ),
            (
                json!({"name": "n", "type": "icmp", "target": "a", "cover": "only"}),
                "servers cover 'only'",
            ),
            (
                json!({"name": "n", "type": "icmp", "target": "a", "servers": [0]}),
                "servers server id 0",
            ),
        ];
        for (body, expected) in cases {
            let err = input(body.clone()).validate().expect_err("invalid");
            assert!(
                err.to_string().starts_with(expected),
                "{body}: got '{err}', expected '{expected}'"
            );
        }
        assert!(
            serde_json::from_value::<MonitorInput>(json!({"name": "n", "typo": 1})).is_err(),
            "unknown fields are refused"
        );
    }

    #[test]
    fn targets_parse() {
        assert_eq!(split_host_port("[::1]:22"), Some(("::1", "22")));
        assert_eq!(split_host_port("h:22"), Some(("h", "22")));
        assert_eq!(split_host_port("::1"), None);
        for ok in ["::1", "127.0.0.1", "example.org"] {
            assert!(validate_target(MonitorKind::Icmp, ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn minutes_average_successes_only() {
        let mut m = MonitorMinute {
            monitor_id: 1,
            server_id: 1,
            minute: minute_of(125.9),
            successes: 1,
            failures: 0,
            delay_sum_ms: 10.0,
        };
        assert_eq!(m.minute, 120);
        m.absorb(&MonitorMinute {
            successes: 1,
            failures: 3,
            delay_sum_ms: 30.0,
            ..m.clone()
        });
        assert_eq!(m.avg_delay_ms(), Some(20.0));
        assert_eq!(m.failures, 3);
        m.successes = 0;
        assert_eq!(m.avg_delay_ms(), None);
    }
}
