//! HTTP delivery shared by the chat, paging, SMS and webhook targets, and
//! how its answers map to retry or not.

use std::time::Duration;

use reqwest::{Client, RequestBuilder, StatusCode, header};

use super::targets::Attempt;

pub fn client(timeout: Duration) -> Result<Client, String> {
    zmon_checks::install_crypto_provider();
    Client::builder()
        .user_agent(concat!("zmon-notifier/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        // A notification target must answer itself, not send us elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// Sends and classifies: 2xx delivered; 429 (honouring Retry-After), 5xx
/// and network errors retried; other answers final.
pub async fn send(request: RequestBuilder, targets: Vec<String>) -> Attempt {
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            return Attempt::Retry {
                error: describe(&e),
                status: None,
                after: None,
            };
        }
    };
    let status = response.status();
    if status.is_success() {
        return Attempt::Delivered {
            targets,
            status: Some(status.as_u16()),
        };
    }
    let after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body: String = response
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    let error = format!("HTTP {}: {}", status.as_u16(), body.trim());
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Attempt::Retry {
            error,
            status: Some(status.as_u16()),
            after,
        }
    } else {
        Attempt::Fatal {
            error,
            status: Some(status.as_u16()),
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        format!("cannot connect: {e}")
    } else {
        e.to_string()
    }
}

/// Whether `notify_http` may call `url`: `*` allows any, otherwise a
/// listed prefix must match.
pub fn allowed(url: &str, allow: &[String]) -> bool {
    allow
        .iter()
        .any(|prefix| prefix == "*" || (!prefix.is_empty() && url.starts_with(prefix.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allow_list_is_by_prefix() {
        let allow = vec!["https://hooks.example.org/".to_string()];
        assert!(allowed("https://hooks.example.org/x", &allow));
        assert!(!allowed("https://hooks.example.org.evil/x", &allow));
        assert!(!allowed("http://169.254.169.254/", &allow));
        assert!(!allowed("https://x", &[]), "nothing is allowed by default");
        assert!(allowed("https://x", &["*".to_string()]));
    }
}
