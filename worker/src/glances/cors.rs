//! The outermost filter: allowed hosts (DNS-rebinding protection), CORS,
//! and JSON bodies for the 404/405 answers actix makes by itself.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};
use serde_json::json;

use super::State;
use super::error::ApiError;

const ALLOWED_METHODS: &str = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT";
const PREFLIGHT_MAX_AGE: &str = "600";

/// Cross-origin policy.
#[derive(Debug)]
pub struct Cors {
    origins: Vec<String>,
    any_origin: bool,
    credentials: bool,
}

impl Cors {
    pub fn new(origins: &[String], credentials: bool) -> Self {
        let any_origin = origins.iter().any(|o| o == "*");
        if any_origin && credentials {
            tracing::warn!(
                "glances API: CORS credentials are ignored with a wildcard origin; list the origins instead"
            );
        }
        Self {
            origins: origins.to_vec(),
            any_origin,
            // Credentials with `*` would let any site read the API with the
            // user's cookies or cached Basic credentials.
            credentials: credentials && !any_origin,
        }
    }

    fn allows(&self, origin: &str) -> bool {
        self.any_origin || self.origins.iter().any(|o| o == origin)
    }

    /// Adds the response headers for an allowed `origin`.
    fn decorate(&self, origin: &str, headers: &mut HeaderMap) {
        if self.any_origin && !self.credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        } else if let Ok(value) = HeaderValue::from_str(origin) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        if self.credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }

    fn preflight(&self, origin: &str, request: &HeaderMap) -> HttpResponse {
        if !self.allows(origin) {
            return ApiError::bad_request("Disallowed CORS origin").error_response();
        }
        let mut response = HttpResponse::Ok().finish();
        let headers = response.headers_mut();
        self.decorate(origin, headers);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOWED_METHODS),
        );
        if let Some(requested) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
        }
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE),
        );
        response
    }
}

/// Host names the server answers to; empty means any.
#[derive(Debug, Default)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    pub fn new(hosts: &[String]) -> Self {
        Self(hosts.iter().map(|h| h.to_ascii_lowercase()).collect())
    }

    fn allows(&self, host: &str) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let host = strip_port(host).to_ascii_lowercase();
        self.0.iter().any(|pattern| {
            pattern == "*"
                || *pattern == host
                || pattern
                    .strip_prefix("*.")
                    .is_some_and(|domain| host.ends_with(&format!(".{domain}")))
        })
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

/// The host the client asked for. Only `Host` (or the HTTP/2 authority)
/// counts: forwarding headers are set freely by a rebinding page's script.
fn requested_host(req: &ServiceRequest) -> Option<String> {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_string()))
}

pub async fn filter(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<State>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let host_ok = requested_host(&req).is_some_and(|host| state.hosts.allows(&host));
    if !host_ok {
        tracing::debug!(host = ?requested_host(&req), "glances API: refused a request for another host");
        let response = ApiError::bad_request("Invalid host header").error_response();
        return Ok(req.into_response(response));
    }
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_string);
    if let Some(origin) = &origin
        && req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        let response = state.cors.preflight(origin, req.headers());
        return Ok(req.into_response(response));
    }
    let mut response = next.call(req).await?.map_into_boxed_body();
    response = json_error_body(response);
    if let Some(origin) = &origin
        && state.cors.allows(origin)
    {
        state.cors.decorate(origin, response.headers_mut());
    }
    Ok(response)
}

/// actix answers a path without a resource, or a method a resource lacks,
/// with an empty body; Glances clients expect FastAPI's `{"detail": ...}`.
fn json_error_body(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    let detail = match status {
        StatusCode::NOT_FOUND => "Not Found",
        StatusCode::METHOD_NOT_ALLOWED => "Method Not Allowed",
        _ => return response,
    };
    if response.headers().contains_key(header::CONTENT_TYPE) {
        return response;
    }
    let (req, old) = response.into_parts();
    let mut replacement = HttpResponse::build(status).json(json!({ "detail": detail }));
    if let Some(allow) = old.headers().get(header::ALLOW) {
        replacement
            .headers_mut()
            .insert(header::ALLOW, allow.clone());
    }
    ServiceResponse::new(req, replacement)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns() {
        let hosts = AllowedHosts::new(&["localhost".into(), "*.example.org".into()]);
        assert!(hosts.allows("localhost:61208"));
        assert!(hosts.allows("LOCALHOST"));
        assert!(hosts.allows("glances.example.org"));
        assert!(!hosts.allows("example.org.evil.com"));
        assert!(!hosts.allows("evil.com"));
        assert!(AllowedHosts::default().allows("anything"));
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
    }

    #[test]
    fn wildcard_origin_never_sends_credentials() {
        let cors = Cors::new(&["*".into()], true);
        let mut headers = HeaderMap::new();
        cors.decorate("https://evil.example", &mut headers);
        assert_eq!(
            headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN),
            Some(&HeaderValue::from_static("*"))
        );
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS));
    }
}
