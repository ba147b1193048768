//! What the controller needs to run. The binary builds this from its
//! layered configuration; tests build it directly.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone)]
pub struct ControllerConfig {
    pub database_url: String,
    pub database_max_connections: u32,
    pub redis_url: String,
    /// First segment of every Redis key (`zmon` gives ZMON's key names).
    pub redis_prefix: String,
    pub bind: String,
    pub admin_user: Option<String>,
    pub admin_password: Option<String>,
    pub preshared_tokens: Option<PathBuf>,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Queue names reported by `/api/v1/status` (`default` → `zmon:queue:default`).
    pub queues: Vec<String>,
    /// How long in-flight requests may finish after SIGTERM.
    pub shutdown_timeout: Duration,
    /// How often the downtime mirror in Redis is compared with the database.
    pub mirror_check_interval: Duration,
    /// HTTP worker threads; `None` uses one per core.
    pub http_workers: Option<usize>,
    /// Names this instance among the controllers that share the alert
    /// event stream.
    pub instance_name: String,
    /// How often host registrations published by workers are turned into
    /// host entities.
    pub host_sync_interval: Duration,
    /// How long per-minute monitor history is kept (at least 30 days is
    /// the promise; shorter is allowed for small disks).
    pub monitor_retention: Duration,
    /// How often history past its retention is deleted.
    pub monitor_prune_interval: Duration,
    /// How long the event history (alert changes, notifications) is kept.
    pub event_retention: Duration,
    /// Answer a refused Nezha API request with a real 401/403 instead of
    /// Nezha's HTTP 200 with `code: 403` (`?strict=1` does so per request).
    pub nezha_strict_auth: bool,
    /// The external base URL (`https://zmon.example.org`); session cookies
    /// are `Secure` when it is https, and form posts must come from it
    /// (or from the host the request names).
    pub public_url: Option<String>,
    /// Signs UI sessions; when unset, one is generated and kept in the
    /// store, so every replica shares it and restarts keep sessions.
    pub session_secret: Option<String>,
    /// How long a UI login lasts.
    pub session_ttl: Duration,
    /// Login through OAuth providers, and how their identities map to
    /// roles and teams.
    pub oauth: OAuthConfig,
}

/// An OpenID Connect provider, found through its discovery document.
#[derive(Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scopes: Vec<String>,
}

/// GitHub (or GitHub Enterprise) as an OAuth2 provider.
#[derive(Clone)]
pub struct GithubConfig {
    pub client_id: String,
    pub client_secret: String,
    /// Only members of this organisation may log in.
    pub org: Option<String>,
    /// `https://github.com`, or a GitHub Enterprise server.
    pub web_url: String,
    /// `https://api.github.com`, or `<server>/api/v3`.
    pub api_url: String,
}

pub const GITHUB_WEB_URL: &str = "https://github.com";
pub const GITHUB_API_URL: &str = "https://api.github.com";

#[derive(Clone, Default)]
pub struct OAuthConfig {
    pub oidc: Option<OidcConfig>,
    pub github: Option<GithubConfig>,
    /// The ID token claim that lists the identity's groups (e.g.
    /// `groups`); they become its teams. GitHub's are its organisations.
    pub teams_claim: Option<String>,
    /// Groups (or GitHub organisations) whose members are ADMIN.
    pub admin_groups: Vec<String>,
    /// The role of everyone else; `None` refuses identities that neither
    /// match a local user nor an admin group.
    pub default_role: Option<zmon_core::Role>,
}

impl fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("oidc_issuer", &self.oidc.as_ref().map(|o| &o.issuer))
            .field("github", &self.github.as_ref().map(|g| &g.web_url))
            .field("teams_claim", &self.teams_claim)
            .field("admin_groups", &self.admin_groups)
            .field("default_role", &self.default_role)
            .finish()
    }
}

pub const DEFAULT_MONITOR_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
pub const DEFAULT_EVENT_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            database_url: "postgres://postgres@127.0.0.1:5432/zmon".into(),
            database_max_connections: 16,
            redis_url: "redis://127.0.0.1:6379".into(),
            redis_prefix: "zmon".into(),
            bind: "127.0.0.1:8080".into(),
            admin_user: None,
            admin_password: None,
            preshared_tokens: None,
            max_body_bytes: 1024 * 1024,
            queues: vec!["default".into()],
            shutdown_timeout: Duration::from_secs(10),
            mirror_check_interval: Duration::from_secs(10),
            http_workers: None,
            instance_name: format!("controller.{}", std::process::id()),
            host_sync_interval: Duration::from_secs(10),
            monitor_retention: DEFAULT_MONITOR_RETENTION,
            monitor_prune_interval: Duration::from_secs(3600),
            event_retention: DEFAULT_EVENT_RETENTION,
            nezha_strict_auth: false,
            public_url: None,
            session_secret: None,
            session_ttl: DEFAULT_SESSION_TTL,
            oauth: OAuthConfig::default(),
        }
    }
}

/// Hides the password in a URL such as `postgres://user:secret@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl fmt::Debug for ControllerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControllerConfig")
            .field("database_url", &redact_url(&self.database_url))
            .field("redis_url", &redact_url(&self.redis_url))
            .field("redis_prefix", &self.redis_prefix)
            .field("bind", &self.bind)
            .field("admin_user", &self.admin_user)
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "***"),
            )
            .field("preshared_tokens", &self.preshared_tokens)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("queues", &self.queues)
            .field("oauth", &self.oauth)
            .field("public_url", &self.public_url)
            .field(
                "session_secret",
                &self.session_secret.as_ref().map(|_| "***"),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_debug_output() {
        assert_eq!(
            redact_url("postgres://zmon:s3cret@db:5432/zmon"),
            "postgres://zmon:***@db:5432/zmon"
        );
        assert_eq!(
            redact_url("redis://:pw@cache:6379"),
            "redis://:***@cache:6379"
        );
        assert_eq!(redact_url("redis://cache:6379"), "redis://cache:6379");
        let config = ControllerConfig {
            admin_password: Some("hunter22".into()),
            database_url: "postgres://a:b@c/d".into(),
            ..ControllerConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter22") && !shown.contains(":b@"));
    }
}
