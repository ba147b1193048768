//! `zmon library load`: loads a library of ready-made check and alert
//! definitions (`checks/library/*.yaml`) through the controller's REST API,
//! as any API client would. Loading twice updates instead of duplicating:
//! checks are matched by (name, team) by the controller, alerts here.
//!
//! A library file has a `team` (the default owning and responsible team),
//! a list of `checks` and a list of `alerts`. Each entry is a definition as
//! the API takes it plus a `key`; an alert names its check by key
//! (`check`) and may name a parent alert by key (`parent`), defined above
//! it.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use reqwest::{Method, RequestBuilder};
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The library file (YAML).
    file: PathBuf,
    /// The controller's base URL.
    #[arg(long, env = "ZMON_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An API token (sent as a Bearer token).
    #[arg(long, env = "ZMON_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A user for HTTP Basic authentication, with `ZMON_PASSWORD`.
    #[arg(long, env = "ZMON_USER", conflicts_with = "token")]
    user: Option<String>,
    #[arg(long, env = "ZMON_PASSWORD", hide_env_values = true)]
    password: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Library {
    team: String,
    #[serde(default)]
    checks: Vec<Entry>,
    #[serde(default)]
    alerts: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    key: String,
    #[serde(default)]
    check: Option<String>,
    #[serde(default)]
    parent: Option<String>,
    #[serde(flatten)]
    definition: Map<String, Value>,
}

/// How to reach a controller's API.
#[derive(Debug, Clone)]
pub enum Credentials {
    Token(String),
    Basic(String, Option<String>),
    None,
}

struct Client {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
}

impl Client {
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let req = self
            .http
            .request(method, format!("{}{path}", self.base.trim_end_matches('/')));
        match &self.credentials {
            Credentials::Token(token) => req.bearer_auth(token),
            Credentials::Basic(user, password) => req.basic_auth(user, password.as_deref()),
            Credentials::None => req,
        }
    }

    async fn send(&self, req: RequestBuilder, what: &str) -> anyhow::Result<Value> {
        let resp = req
            .send()
            .await
            .with_context(|| format!("{what}: cannot reach {}", self.base))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            bail!("{what}: {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

pub async fn load(args: LoadArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let credentials = match (args.token, args.user) {
        (Some(token), _) => Credentials::Token(token),
        (None, Some(user)) => Credentials::Basic(user, args.password),
        (None, None) => Credentials::None,
    };
    let origin = args.file.display().to_string();
    let (checks, alerts) = load_text(&args.url, credentials, &text, &origin, true).await?;
    println!("loaded {checks} checks and {alerts} alerts from {origin}");
    Ok(())
}

/// Loads the library `text` (named `origin` in messages) into the
/// controller at `url`; returns how many checks and alerts were saved.
/// With `verbose`, prints one line per definition.
pub async fn load_text(
    url: &str,
    credentials: Credentials,
    text: &str,
    origin: &str,
    verbose: bool,
) -> anyhow::Result<(usize, usize)> {
    let library: Library =
        yaml_serde::from_str(text).with_context(|| format!("{origin} is not a valid library"))?;
    let client = Client {
        http: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?,
        base: url.to_string(),
        credentials,
    };
    let say = |line: String| {
        if verbose {
            println!("{line}");
        }
    };

    let mut check_ids = HashMap::new();
    for entry in &library.checks {
        let mut check = entry.definition.clone();
        check
            .entry("owning_team")
            .or_insert_with(|| Value::String(library.team.clone()));
        let what = format!("check '{}'", entry.key);
        let saved = client
            .send(
                client
                    .request(Method::POST, "/api/v1/check-definitions")
                    .json(&check),
                &what,
            )
            .await?;
        let id = saved["id"]
            .as_i64()
            .with_context(|| format!("{what}: the controller returned no id"))?;
        say(format!("{what}: saved as check {id}"));
        check_ids.insert(entry.key.clone(), id);
    }

    let existing = client
        .send(
            client.request(Method::GET, "/api/v1/alert-definitions"),
            "listing alerts",
        )
        .await?;
    let existing: HashMap<(String, String), i64> = existing
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            Some((
                (
                    a["name"].as_str()?.to_string(),
                    a["team"].as_str()?.to_string(),
                ),
                a["id"].as_i64()?,
            ))
        })
        .collect();
    let mut alert_ids = HashMap::new();
    for entry in &library.alerts {
        let what = format!("alert '{}'", entry.key);
        let mut alert = entry.definition.clone();
        for team in ["team", "responsible_team"] {
            alert
                .entry(team)
                .or_insert_with(|| Value::String(library.team.clone()));
        }
        alert
            .entry("status")
            .or_insert_with(|| Value::String("ACTIVE".into()));
        if let Some(check) = &entry.check {
            let id = check_ids
                .get(check)
                .with_context(|| format!("{what}: no check with key '{check}' in the library"))?;
            alert.insert("check_definition_id".into(), Value::from(*id));
        }
        if let Some(parent) = &entry.parent {
            let id = alert_ids.get(parent).with_context(|| {
                format!("{what}: no alert with key '{parent}' above it in the library")
            })?;
            alert.insert("parent_id".into(), Value::from(*id));
        }
        let identity = (
            alert["name"].as_str().unwrap_or_default().to_string(),
            alert["team"].as_str().unwrap_or_default().to_string(),
        );
        let (req, verb) = match existing.get(&identity) {
            Some(id) => (
                client.request(Method::PUT, &format!("/api/v1/alert-definitions/{id}")),
                "updated",
            ),
            None => (
                client.request(Method::POST, "/api/v1/alert-definitions"),
                "created",
            ),
        };
        let saved = client.send(req.json(&alert), &what).await?;
        let id = saved["id"]
            .as_i64()
            .with_context(|| format!("{what}: the controller returned no id"))?;
        say(format!("{what}: {verb} as alert {id}"));
        alert_ids.insert(entry.key.clone(), id);
    }
    Ok((check_ids.len(), alert_ids.len()))
}
