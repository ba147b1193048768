//! Layered configuration: built-in defaults, then an optional TOML file
//! (`--config FILE` or `ZMON_CONFIG`), then `ZMON_*` environment variables.
//!
//! The environment names are a contract that deployment tooling relies on:
//! `ZMON_DATABASE_URL`, `ZMON_REDIS_URL`, `ZMON_BIND`, `ZMON_ADMIN_USER`,
//! `ZMON_ADMIN_PASSWORD`, `ZMON_PRESHARED_TOKENS`, `ZMON_LOG_FORMAT`, and the
//! rest of the fields below in upper case.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize};
use zmon_checks::host::{HostRoot, SamplerConfig};
use zmon_controller::ControllerConfig;
use zmon_controller::config::{GithubConfig, OAuthConfig, OidcConfig};
use zmon_scheduler::{Routing, SchedulerConfig};
use zmon_worker::glances::GlancesConfig;
use zmon_worker::notifier::NotifierConfig;
use zmon_worker::{HostReporting, WorkerConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Settings {
    pub database_url: String,
    pub database_max_connections: u32,
    pub redis_url: String,
    pub redis_prefix: String,
    pub bind: String,
    pub admin_user: Option<String>,
    pub admin_password: Option<String>,
    pub preshared_tokens: Option<PathBuf>,
    pub max_body_bytes: usize,
    #[serde(deserialize_with = "list_or_csv")]
    pub queues: Vec<String>,
    pub shutdown_timeout_secs: u64,
    pub http_workers: Option<usize>,
    pub log_format: LogFormat,
    /// A tracing filter such as `info` or `zmon_controller=debug,info`.
    pub log: String,
    /// Names the worker in `/api/v1/status` and on the queues (one per
    /// process); default `plocal.<hostname>`.
    pub worker_name: Option<String>,
    /// Tasks a worker runs at the same time.
    pub worker_concurrency: usize,
    /// Where a worker serves `/health`, `/ready` and `/metrics`.
    pub worker_admin_bind: String,
    /// Where a scheduler serves `/health`, `/ready` and `/metrics`.
    pub scheduler_admin_bind: String,
    /// Names the scheduler replica; default `scheduler.<hostname>`.
    pub scheduler_name: Option<String>,
    /// Queue per check id, e.g. `{"fast": [12, 13]}`; others go to the
    /// first of `queues` unless the entity names its own `queue`.
    #[serde(deserialize_with = "map_or_json")]
    pub scheduler_queue_mapping: BTreeMap<String, Vec<i64>>,
    /// Seconds between full reloads of the scheduler's plan.
    pub scheduler_reload_secs: u64,
    /// A worker is its host's agent: it runs the host collectors,
    /// registers the host as a `type: host` entity and consumes the host's
    /// own queue. Turn it off for pools of general workers that should not
    /// show up as hosts.
    pub host_agent: bool,
    /// The host entity id; default the lower-case host name (on
    /// Kubernetes, set it to the node name).
    pub host_id: Option<String>,
    /// Seconds between two host collector ticks.
    pub host_tick_secs: u64,
    /// Points kept per host history series (Glances' `history_size`).
    pub host_history_size: usize,
    /// Where the host's `/proc`, `/sys` and `/etc` are, e.g. `/host/proc`
    /// in a container with the host's directories mounted.
    pub host_proc: PathBuf,
    pub host_sys: PathBuf,
    pub host_etc: PathBuf,
    /// Serve the Glances-compatible API here (e.g. `127.0.0.1:61208`);
    /// off when unset.
    pub glances_bind: Option<String>,
    /// User for the Glances API's Basic authentication.
    pub glances_username: String,
    /// Turns on Basic and Bearer authentication of the Glances API
    /// (`/api/4/status` stays open).
    pub glances_password: Option<String>,
    /// Origins allowed by CORS; `*` never allows credentials.
    #[serde(deserialize_with = "list_or_csv")]
    pub glances_cors_origins: Vec<String>,
    /// Host headers the Glances API answers (DNS-rebinding protection);
    /// empty: any.
    #[serde(deserialize_with = "list_or_csv")]
    pub glances_allowed_hosts: Vec<String>,
    /// Lets browsers send credentials to listed origins (never with `*`).
    pub glances_cors_credentials: bool,
    /// Serves the API under a prefix, e.g. `/glances`.
    pub glances_url_prefix: String,
    /// Lifetime of the tokens `/api/4/token` issues.
    pub glances_jwt_expire_minutes: u64,
    /// Days of per-minute monitor history the controller keeps.
    pub monitor_retention_days: u64,
    /// Days of event history (alert changes, notifications) kept.
    pub event_retention_days: u64,
    /// Refuse Nezha API requests with a real 401/403 instead of Nezha's
    /// HTTP 200 with `code: 403`.
    pub nezha_strict_auth: bool,
    /// The UI's external base URL (links in notifications; `Secure`
    /// session cookies when it is https).
    pub public_url: Option<String>,
    /// Signs UI sessions (at least 32 bytes); unset: generated once and
    /// kept in the database.
    pub session_secret: Option<String>,
    /// How long a UI login lasts.
    pub session_ttl_hours: u64,
    /// An OpenID Connect provider's issuer URL (its
    /// `/.well-known/openid-configuration` is read).
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    pub oidc_client_secret: Option<String>,
    /// Scopes asked for, space- or comma-separated.
    pub oidc_scopes: String,
    pub github_client_id: Option<String>,
    pub github_client_secret: Option<String>,
    /// Only members of this GitHub organisation may log in.
    pub github_org: Option<String>,
    /// GitHub Enterprise: the server's web and API URLs.
    pub github_url: String,
    pub github_api_url: String,
    /// The ID token claim whose values become the identity's teams.
    pub oauth_teams_claim: Option<String>,
    /// Groups (GitHub: organisations) whose members are ADMIN.
    #[serde(deserialize_with = "list_or_csv")]
    pub oauth_admin_groups: Vec<String>,
    /// Role of other OAuth identities; unset: they are refused unless a
    /// local user of the same name or e-mail exists.
    pub oauth_default_role: Option<String>,
    /// The notifier's SMTP server, a lettre URL: `smtp://host:25`,
    /// `smtp://user:pass@host:587?tls=required`, `smtps://user:pass@host:465`.
    pub smtp_url: Option<String>,
    pub smtp_from: String,
    /// The default webhook of `send_slack`.
    pub slack_webhook: Option<String>,
    pub pagerduty_routing_key: Option<String>,
    pub pagerduty_events_url: String,
    /// The SMS provider's URL; `to`, `from` and `message` are added.
    pub sms_url: Option<String>,
    pub opsgenie_url: String,
    pub opsgenie_api_key: Option<String>,
    /// URL prefixes `notify_http` may call (comma-separated), or `*`.
    #[serde(deserialize_with = "list_or_csv")]
    pub notify_http_allow: Vec<String>,
    /// The notifier's name among those sharing the notification stream.
    pub notifier_name: Option<String>,
    /// The notifier's `/health`, `/ready` and `/metrics`.
    pub notifier_admin_bind: String,
}

impl Default for Settings {
    fn default() -> Self {
        let c = ControllerConfig::default();
        let n = NotifierConfig::default();
        Self {
            database_url: c.database_url,
            database_max_connections: c.database_max_connections,
            redis_url: c.redis_url,
            redis_prefix: c.redis_prefix,
            bind: c.bind,
            admin_user: None,
            admin_password: None,
            preshared_tokens: None,
            max_body_bytes: c.max_body_bytes,
            queues: c.queues,
            shutdown_timeout_secs: c.shutdown_timeout.as_secs(),
            http_workers: None,
            log_format: LogFormat::Text,
            log: "info,sqlx=warn".into(),
            worker_name: None,
            worker_concurrency: 32,
            worker_admin_bind: "127.0.0.1:8081".into(),
            scheduler_admin_bind: "127.0.0.1:8082".into(),
            scheduler_name: None,
            scheduler_queue_mapping: BTreeMap::new(),
            scheduler_reload_secs: 60,
            host_agent: true,
            host_id: None,
            host_tick_secs: 2,
            host_history_size: 1200,
            host_proc: "/proc".into(),
            host_sys: "/sys".into(),
            host_etc: "/etc".into(),
            glances_bind: None,
            glances_username: "glances".into(),
            glances_password: None,
            glances_cors_origins: vec!["*".into()],
            glances_allowed_hosts: Vec::new(),
            glances_cors_credentials: false,
            glances_url_prefix: String::new(),
            glances_jwt_expire_minutes: 60,
            monitor_retention_days: c.monitor_retention.as_secs() / 86_400,
            event_retention_days: c.event_retention.as_secs() / 86_400,
            nezha_strict_auth: c.nezha_strict_auth,
            public_url: None,
            session_secret: None,
            session_ttl_hours: c.session_ttl.as_secs() / 3600,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_scopes: "openid email profile".into(),
            github_client_id: None,
            github_client_secret: None,
            github_org: None,
            github_url: zmon_controller::config::GITHUB_WEB_URL.into(),
            github_api_url: zmon_controller::config::GITHUB_API_URL.into(),
            oauth_teams_claim: None,
            oauth_admin_groups: Vec::new(),
            oauth_default_role: None,
            smtp_url: None,
            smtp_from: n.smtp_from,
            slack_webhook: None,
            pagerduty_routing_key: None,
            pagerduty_events_url: n.pagerduty_events_url,
            sms_url: None,
            opsgenie_url: n.opsgenie_url,
            opsgenie_api_key: None,
            notify_http_allow: Vec::new(),
            notifier_name: None,
            notifier_admin_bind: "127.0.0.1:8083".into(),
        }
    }
}

/// Environment variables with the `ZMON_` prefix that are not settings of
/// this struct but are read elsewhere (`zmon library load` reads the
/// controller's URL and credentials).
const OTHER_ENV: &[&str] = &["CONFIG", "URL", "TOKEN", "USER", "PASSWORD"];

/// Kubernetes injects `<SERVICE>_SERVICE_HOST`, `<SERVICE>_PORT_…` for every
/// Service in the namespace; a Service called `zmon` yields `ZMON_PORT`.
fn is_kubernetes_service_link(key: &str) -> bool {
    key.starts_with("SERVICE_") || key == "PORT" || key.starts_with("PORT_")
}

/// A loaded configuration and the `ZMON_*` variables it did not understand.
pub struct Loaded {
    pub settings: Settings,
    pub unknown_env: Vec<String>,
    /// Settings given by the file or the environment rather than left at
    /// their defaults (`zmon standalone` picks other defaults for them).
    pub explicit: BTreeSet<String>,
}

/// A TOML table, or JSON text in an environment variable.
fn map_or_json<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<i64>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Map(BTreeMap<String, Vec<i64>>),
        Json(String),
    }
    match Raw::deserialize(d)? {
        Raw::Map(m) => Ok(m),
        Raw::Json(text) if text.trim().is_empty() => Ok(BTreeMap::new()),
        Raw::Json(text) => serde_json::from_str(&text).map_err(|e| {
            serde::de::Error::custom(format!("expected JSON like {{\"fast\": [12, 13]}}: {e}"))
        }),
    }
}

/// `ZMON_QUEUES=default,internal` reads naturally; TOML gives a list.
fn list_or_csv<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        Csv(String),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::List(l) => l,
        Raw::Csv(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// Settings whose default is `None` but which hold text.
const OPTIONAL_TEXT: &[&str] = &[
    "public_url",
    "session_secret",
    "oidc_issuer",
    "oidc_client_id",
    "oidc_client_secret",
    "github_client_id",
    "github_client_secret",
    "github_org",
    "oauth_teams_claim",
    "oauth_default_role",
    "smtp_url",
    "slack_webhook",
    "pagerduty_routing_key",
    "sms_url",
    "opsgenie_api_key",
    "notifier_name",
    "admin_user",
    "admin_password",
    "preshared_tokens",
    "worker_name",
    "scheduler_name",
    "host_id",
    "glances_bind",
    "glances_password",
];

/// Whether a setting holds text, so its variable is taken verbatim:
/// `ZMON_ADMIN_PASSWORD=0123` is the password "0123", not the number 123.
fn is_text(key: &str, defaults: &serde_json::Value) -> bool {
    OPTIONAL_TEXT.contains(&key) || defaults.get(key).is_some_and(serde_json::Value::is_string)
}

/// The settings the environment sets: `ZMON_<KEY>=value`, or
/// `ZMON_<KEY>_FILE=/path` for the file's content (trailing newlines
/// dropped), so secrets can come from mounted files. Text settings are
/// taken verbatim; others are parsed (numbers, booleans, lists). Setting
/// both forms of one key is an error, as is a file that cannot be read.
fn values_from_env(known: &[String]) -> anyhow::Result<Vec<(String, figment::value::Value)>> {
    let defaults = serde_json::to_value(Settings::default()).unwrap_or_default();
    let mut values = Vec::new();
    for key in known {
        let upper = key.to_uppercase();
        let direct = std::env::var(format!("ZMON_{upper}")).ok();
        let file = std::env::var_os(format!("ZMON_{upper}_FILE"));
        let raw = match (direct, file) {
            (Some(_), Some(_)) => {
                anyhow::bail!("both ZMON_{upper} and ZMON_{upper}_FILE are set; keep one")
            }
            (Some(value), None) => value,
            (None, Some(path)) => {
                let path = PathBuf::from(path);
                let text = std::fs::read_to_string(&path).with_context(|| {
                    format!("ZMON_{upper}_FILE: cannot read {}", path.display())
                })?;
                text.trim_end_matches(['\n', '\r']).to_string()
            }
            (None, None) => continue,
        };
        let value = if is_text(key, &defaults) {
            figment::value::Value::from(raw)
        } else {
            raw.parse::<figment::value::Value>()
                .unwrap_or_else(|_| figment::value::Value::from(raw))
        };
        values.push((key.clone(), value));
    }
    Ok(values)
}

impl Settings {
    fn known_keys() -> Vec<String> {
        match serde_json::to_value(Settings::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// Loads the layers. An unknown key in the file is an error (it is
    /// surely a typo); unknown `ZMON_*` variables are returned for the
    /// caller to warn about, since the environment also carries variables
    /// meant for others.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Loaded> {
        let known = Self::known_keys();
        let mut explicit = BTreeSet::new();
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config file {}", path.display()))?;
            let table: toml::Table = text
                .parse()
                .with_context(|| format!("config file {} is not valid TOML", path.display()))?;
            if let Some(key) = table.keys().find(|k| !known.contains(k)) {
                anyhow::bail!(
                    "config file {}: unknown key '{key}'; known keys are {}",
                    path.display(),
                    known.join(", ")
                );
            }
            explicit.extend(table.keys().cloned());
            figment = figment.merge(Toml::string(&text));
        }
        for (key, value) in values_from_env(&known)? {
            figment = figment.merge(Serialized::default(&key, value));
            explicit.insert(key);
        }
        let settings = figment.extract().context("invalid configuration")?;
        let unknown_env = std::env::vars()
            .filter_map(|(k, _)| k.strip_prefix("ZMON_").map(str::to_string))
            .filter(|k| {
                let key = k.to_lowercase();
                !known.contains(&key)
                    && !key
                        .strip_suffix("_file")
                        .is_some_and(|s| known.iter().any(|k| k == s))
                    && !OTHER_ENV.contains(&k.as_str())
                    && !is_kubernetes_service_link(k)
            })
            .map(|k| format!("ZMON_{k}"))
            .collect();
        Ok(Loaded {
            settings,
            unknown_env,
            explicit,
        })
    }

    fn queues_or_default(&self) -> Vec<String> {
        if self.queues.is_empty() {
            vec!["default".into()]
        } else {
            self.queues.clone()
        }
    }

    pub fn worker(&self) -> WorkerConfig {
        WorkerConfig {
            name: self
                .worker_name
                .clone()
                .unwrap_or_else(zmon_worker::config::default_name),
            queues: self.queues_or_default(),
            concurrency: self.worker_concurrency.max(1),
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout_secs),
            ..WorkerConfig::default()
        }
    }

    /// The host sampler's configuration.
    pub fn sampler(&self) -> SamplerConfig {
        SamplerConfig {
            tick: Duration::from_secs(self.host_tick_secs.max(1)),
            history_size: self.host_history_size,
            root: HostRoot {
                proc: self.host_proc.clone(),
                sys: self.host_sys.clone(),
                etc: self.host_etc.clone(),
            },
            ..SamplerConfig::default()
        }
    }

    /// How the worker reports its host, when it is the host's agent.
    pub fn host_reporting(&self) -> Option<HostReporting> {
        self.host_agent.then(|| {
            let id = self
                .host_id
                .clone()
                .filter(|id| !id.trim().is_empty())
                .unwrap_or_else(zmon_worker::config::hostname);
            HostReporting::for_host(&id)
        })
    }

    /// The Glances-compatible API, when `glances_bind` is set.
    pub fn glances(&self) -> Option<GlancesConfig> {
        let bind = self.glances_bind.clone().filter(|b| !b.trim().is_empty())?;
        Some(GlancesConfig {
            bind,
            username: self.glances_username.clone(),
            password: self.glances_password.clone().filter(|p| !p.is_empty()),
            cors_origins: self.glances_cors_origins.clone(),
            allowed_hosts: self.glances_allowed_hosts.clone(),
            cors_credentials: self.glances_cors_credentials,
            url_prefix: self.glances_url_prefix.clone(),
            jwt_expire: Duration::from_secs(self.glances_jwt_expire_minutes.max(1) * 60),
        })
    }

    pub fn scheduler(&self) -> SchedulerConfig {
        let queues = self.queues_or_default();
        let by_check = self
            .scheduler_queue_mapping
            .iter()
            .flat_map(|(queue, checks)| checks.iter().map(move |c| (*c, queue.clone())))
            .collect();
        SchedulerConfig {
            name: self
                .scheduler_name
                .clone()
                .unwrap_or_else(|| format!("scheduler.{}", zmon_worker::config::hostname())),
            routing: Routing {
                default_queue: queues.first().cloned().unwrap_or_else(|| "default".into()),
                by_check,
            },
            reload_interval: Duration::from_secs(self.scheduler_reload_secs.max(1)),
            ..SchedulerConfig::default()
        }
    }

    pub fn notifier(&self) -> NotifierConfig {
        NotifierConfig {
            name: self
                .notifier_name
                .clone()
                .unwrap_or_else(|| format!("notifier.{}", zmon_worker::config::hostname())),
            smtp_url: self.smtp_url.clone().filter(|u| !u.is_empty()),
            smtp_from: self.smtp_from.clone(),
            slack_webhook: self.slack_webhook.clone().filter(|u| !u.is_empty()),
            pagerduty_routing_key: self.pagerduty_routing_key.clone().filter(|k| !k.is_empty()),
            pagerduty_events_url: self.pagerduty_events_url.clone(),
            sms_url: self.sms_url.clone().filter(|u| !u.is_empty()),
            opsgenie_url: self.opsgenie_url.clone(),
            opsgenie_api_key: self.opsgenie_api_key.clone().filter(|k| !k.is_empty()),
            http_allow: self.notify_http_allow.clone(),
            public_url: self.public_url.clone().filter(|u| !u.is_empty()),
            ..NotifierConfig::default()
        }
    }

    /// The OAuth providers and identity mapping; an incomplete provider
    /// or an unknown role is an error, not a silently missing button.
    pub fn oauth(&self) -> anyhow::Result<OAuthConfig> {
        let set = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let oidc = match (set(&self.oidc_issuer), set(&self.oidc_client_id)) {
            (None, None) => None,
            (Some(issuer), Some(client_id)) => Some(OidcConfig {
                issuer,
                client_id,
                client_secret: set(&self.oidc_client_secret),
                scopes: self
                    .oidc_scopes
                    .split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            }),
            (Some(_), None) => {
                anyhow::bail!("ZMON_OIDC_ISSUER is set but ZMON_OIDC_CLIENT_ID is not")
            }
            (None, Some(_)) => {
                anyhow::bail!("ZMON_OIDC_CLIENT_ID is set but ZMON_OIDC_ISSUER is not")
            }
        };
        let github = match (set(&self.github_client_id), set(&self.github_client_secret)) {
            (None, None) => None,
            (Some(client_id), Some(client_secret)) => Some(GithubConfig {
                client_id,
                client_secret,
                org: set(&self.github_org),
                web_url: self.github_url.clone(),
                api_url: self.github_api_url.clone(),
            }),
            _ => anyhow::bail!(
                "GitHub login needs both ZMON_GITHUB_CLIENT_ID and ZMON_GITHUB_CLIENT_SECRET"
            ),
        };
        let default_role = match set(&self.oauth_default_role) {
            None => None,
            Some(role) => Some(role.trim().parse::<zmon_core::Role>().map_err(|_| {
                anyhow::anyhow!(
                    "ZMON_OAUTH_DEFAULT_ROLE: '{role}' is not one of ADMIN, LEAD, USER, VIEWER, API_READER, API_WRITER"
                )
            })?),
        };
        Ok(OAuthConfig {
            oidc,
            github,
            teams_claim: set(&self.oauth_teams_claim),
            admin_groups: self.oauth_admin_groups.clone(),
            default_role,
        })
    }

    pub fn controller(&self) -> ControllerConfig {
        ControllerConfig {
            database_url: self.database_url.clone(),
            database_max_connections: self.database_max_connections,
            redis_url: self.redis_url.clone(),
            redis_prefix: self.redis_prefix.clone(),
            bind: self.bind.clone(),
            admin_user: self.admin_user.clone(),
            admin_password: self.admin_password.clone(),
            preshared_tokens: self.preshared_tokens.clone(),
            max_body_bytes: self.max_body_bytes,
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout_secs),
            http_workers: self.http_workers,
            queues: self.queues_or_default(),
            instance_name: format!("controller.{}", zmon_worker::config::hostname()),
            monitor_retention: Duration::from_secs(self.monitor_retention_days.max(1) * 86_400),
            event_retention: Duration::from_secs(self.event_retention_days.max(1) * 86_400),
            nezha_strict_auth: self.nezha_strict_auth,
            public_url: self.public_url.clone().filter(|u| !u.is_empty()),
            session_secret: self.session_secret.clone().filter(|s| !s.is_empty()),
            session_ttl: Duration::from_secs(self.session_ttl_hours.max(1) * 3600),
            ..ControllerConfig::default()
        }
    }
}

#[cfg(test)]
// figment's `Jail` closures must return its (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn environment_overrides_file_which_overrides_defaults() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "zmon.toml",
                r#"
                bind = "0.0.0.0:9000"
                redis_url = "redis://file:6379"
                queues = ["default", "internal"]
                "#,
            )?;
            jail.set_env("ZMON_REDIS_URL", "redis://env:6379");
            jail.set_env("ZMON_ADMIN_USER", "admin");
            jail.set_env("ZMON_CONFIG", "zmon.toml");
            let s = Settings::load(Some(Path::new("zmon.toml")))
                .map_err(|e| e.to_string())?
                .settings;
            assert_eq!(s.bind, "0.0.0.0:9000");
            assert_eq!(s.redis_url, "redis://env:6379");
            assert_eq!(s.admin_user.as_deref(), Some("admin"));
            assert_eq!(s.queues, ["default", "internal"]);
            assert_eq!(s.database_url, Settings::default().database_url);
            Ok(())
        });
    }

    #[test]
    fn numeric_looking_secrets_stay_text() {
        Jail::expect_with(|jail| {
            jail.set_env("ZMON_ADMIN_PASSWORD", "0123.50");
            jail.set_env("ZMON_HOST_ID", "42");
            jail.set_env("ZMON_REDIS_PREFIX", "true");
            let s = Settings::load(None).map_err(|e| format!("{e:#}"))?.settings;
            assert_eq!(s.admin_password.as_deref(), Some("0123.50"), "verbatim");
            assert_eq!(s.host_id.as_deref(), Some("42"));
            assert_eq!(s.redis_prefix, "true");
            Ok(())
        });
    }

    #[test]
    fn oauth_providers_and_mapping_from_the_environment() {
        Jail::expect_with(|jail| {
            jail.create_file("oidc-secret", "s3cret-from-a-file\n")?;
            jail.set_env("ZMON_OIDC_ISSUER", "https://sso.example.org/realms/ops");
            jail.set_env("ZMON_OIDC_CLIENT_ID", "zmon");
            jail.set_env("ZMON_OIDC_CLIENT_SECRET_FILE", "oidc-secret");
            jail.set_env("ZMON_OIDC_SCOPES", "openid email profile groups");
            jail.set_env("ZMON_OAUTH_TEAMS_CLAIM", "groups");
            jail.set_env("ZMON_OAUTH_ADMIN_GROUPS", "zmon-admins, sre");
            jail.set_env("ZMON_OAUTH_DEFAULT_ROLE", "VIEWER");
            jail.set_env("ZMON_SESSION_SECRET", "0123456789");
            let loaded = Settings::load(None).map_err(|e| format!("{e:#}"))?;
            // CI's environment carries ZMON_TEST_* variables of its own.
            assert!(
                loaded
                    .unknown_env
                    .iter()
                    .all(|k| k.starts_with("ZMON_TEST_")),
                "{:?}",
                loaded.unknown_env
            );
            let s = loaded.settings;
            assert_eq!(
                s.session_secret.as_deref(),
                Some("0123456789"),
                "text, not a number"
            );
            let oauth = s.oauth().map_err(|e| e.to_string())?;
            let oidc = oauth.oidc.expect("oidc");
            assert_eq!(oidc.client_secret.as_deref(), Some("s3cret-from-a-file"));
            assert_eq!(oidc.scopes, ["openid", "email", "profile", "groups"]);
            assert_eq!(oauth.admin_groups, ["zmon-admins", "sre"]);
            assert_eq!(oauth.default_role, Some(zmon_core::Role::Viewer));
            assert!(oauth.github.is_none());

            jail.set_env("ZMON_OAUTH_DEFAULT_ROLE", "BOSS");
            let bad = Settings::load(None)
                .map_err(|e| e.to_string())?
                .settings
                .oauth();
            assert!(bad.is_err_and(|e| e.to_string().contains("BOSS")));
            jail.set_env("ZMON_OAUTH_DEFAULT_ROLE", "");
            jail.set_env("ZMON_GITHUB_CLIENT_ID", "abc");
            let half = Settings::load(None)
                .map_err(|e| e.to_string())?
                .settings
                .oauth();
            assert!(half.is_err_and(|e| e.to_string().contains("ZMON_GITHUB_CLIENT_SECRET")));
            Ok(())
        });
    }

    #[test]
    fn secrets_and_other_settings_from_files() {
        Jail::expect_with(|jail| {
            jail.create_file("db-url", "postgres://zmon:s3cret@db:5432/zmon\n")?;
            jail.create_file("password", "12345\n")?;
            jail.create_file("concurrency", "8")?;
            jail.set_env("ZMON_DATABASE_URL_FILE", "db-url");
            jail.set_env("ZMON_ADMIN_PASSWORD_FILE", "password");
            jail.set_env("ZMON_WORKER_CONCURRENCY_FILE", "concurrency");
            let loaded = Settings::load(None).map_err(|e| format!("{e:#}"))?;
            let s = loaded.settings;
            assert_eq!(s.database_url, "postgres://zmon:s3cret@db:5432/zmon");
            assert_eq!(
                s.admin_password.as_deref(),
                Some("12345"),
                "digits stay text"
            );
            assert_eq!(s.worker_concurrency, 8);
            assert!(
                !loaded.unknown_env.iter().any(|k| k.ends_with("_FILE")),
                "a _FILE variable of a known setting is not unknown: {:?}",
                loaded.unknown_env
            );
            assert!(loaded.explicit.contains("database_url"));

            jail.set_env("ZMON_ADMIN_PASSWORD", "other");
            let both = Settings::load(None).map(|_| ()).expect_err("both set");
            assert!(
                both.to_string().contains("ZMON_ADMIN_PASSWORD_FILE"),
                "{both}"
            );
            jail.set_env("ZMON_ADMIN_PASSWORD", "");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("ZMON_REDIS_URL_FILE", "/no/such/file");
            let err = Settings::load(None).map(|_| ()).expect_err("unreadable");
            assert!(format!("{err:#}").contains("/no/such/file"), "{err:#}");
            Ok(())
        });
    }

    #[test]
    fn csv_lists_and_json_logs_from_env() {
        Jail::expect_with(|jail| {
            jail.set_env("ZMON_QUEUES", "default, internal");
            jail.set_env("ZMON_LOG_FORMAT", "json");
            let s = Settings::load(None).map_err(|e| e.to_string())?.settings;
            assert_eq!(s.queues, ["default", "internal"]);
            assert_eq!(s.log_format, LogFormat::Json);
            Ok(())
        });
    }

    #[test]
    fn host_agent_and_glances_api_from_env() {
        Jail::expect_with(|jail| {
            let defaults = Settings::load(None).map_err(|e| e.to_string())?.settings;
            assert!(
                defaults.glances().is_none(),
                "the Glances API is off by default"
            );
            assert!(
                defaults.host_reporting().is_some(),
                "workers are host agents by default"
            );

            jail.set_env("ZMON_HOST_ID", "Node-7");
            jail.set_env("ZMON_HOST_PROC", "/host/proc");
            jail.set_env("ZMON_HOST_TICK_SECS", "5");
            jail.set_env("ZMON_GLANCES_BIND", "0.0.0.0:61208");
            jail.set_env("ZMON_GLANCES_PASSWORD", "secret");
            jail.set_env(
                "ZMON_GLANCES_CORS_ORIGINS",
                "https://a.example, https://b.example",
            );
            let loaded = Settings::load(None).map_err(|e| e.to_string())?;
            // The environment may hold other ZMON_* variables (CI's test
            // URLs); none of these may be unknown.
            assert!(
                !loaded
                    .unknown_env
                    .iter()
                    .any(|k| k.starts_with("ZMON_HOST") || k.starts_with("ZMON_GLANCES")),
                "{:?}",
                loaded.unknown_env
            );
            let s = loaded.settings;
            let reporting = s.host_reporting().ok_or("reporting")?;
            assert_eq!(
                (reporting.entity_id.as_str(), reporting.queue.as_str()),
                ("node-7", "host-node-7")
            );
            let sampler = s.sampler();
            assert_eq!(sampler.root.proc, Path::new("/host/proc"));
            assert_eq!(sampler.tick, Duration::from_secs(5));
            let glances = s.glances().ok_or("glances")?;
            assert_eq!(glances.bind, "0.0.0.0:61208");
            assert_eq!(glances.password.as_deref(), Some("secret"));
            assert_eq!(
                glances.cors_origins,
                ["https://a.example", "https://b.example"]
            );

            jail.set_env("ZMON_HOST_AGENT", "false");
            let s = Settings::load(None).map_err(|e| e.to_string())?.settings;
            assert!(s.host_reporting().is_none());
            Ok(())
        });
    }

    #[test]
    fn typos_are_reported_not_silently_ignored() {
        Jail::expect_with(|jail| {
            jail.set_env("ZMON_DATABSE_URL", "postgres://x");
            jail.set_env("ZMON_SERVICE_HOST", "10.0.0.1");
            jail.set_env("ZMON_PORT", "tcp://10.0.0.1:8080");
            let loaded = Settings::load(None).map_err(|e| e.to_string())?;
            assert!(loaded.unknown_env.contains(&"ZMON_DATABSE_URL".to_string()));
            assert!(
                !loaded
                    .unknown_env
                    .iter()
                    .any(|k| k == "ZMON_SERVICE_HOST" || k == "ZMON_PORT")
            );
            jail.create_file("bad.toml", "databse_url = 'x'")?;
            let err = match Settings::load(Some(Path::new("bad.toml"))) {
                Ok(_) => String::new(),
                Err(e) => e.to_string(),
            };
            assert!(err.contains("unknown key 'databse_url'"), "{err}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("ZMON_MAX_BODY_BYTES", "lots");
            let err = match Settings::load(None) {
                Ok(_) => String::new(),
                Err(e) => format!("{e:#}"),
            };
            assert!(err.to_lowercase().contains("max_body_bytes"), "{err}");
            Ok(())
        });
    }
}
