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
}

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
