//! Optional authentication: HTTP Basic with the configured user, or a
//! bearer JWT (HS256) from `POST /api/4/token`, as Glances 4.5 does.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{HttpResponse, Responder, ResponseError};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::State;
use super::error::{ApiError, Challenge};

/// The header every token we issue carries; tokens with another one are
/// not ours.
const JWT_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Credentials and the key that signs tokens. The key is random per
/// process, so restarting the worker logs every client out, which is what
/// Glances does too.
pub struct Auth {
    username: String,
    password: Option<String>,
    secret: [u8; 32],
    expire: Duration,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "********"))
            .finish_non_exhaustive()
    }
}

impl Auth {
    pub fn new(username: &str, password: Option<&str>, expire: Duration) -> Self {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        Self {
            username: username.to_string(),
            password: password.map(str::to_string),
            secret,
            expire,
        }
    }

    /// Whether requests must authenticate at all.
    pub fn enabled(&self) -> bool {
        self.password.is_some()
    }

    /// Checks a request's `Authorization` header.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        if !self.enabled() {
            return Ok(());
        }
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Err(ApiError::NotAuthenticated(Challenge::Basic));
        };
        let (scheme, credentials) = value.trim().split_once(' ').unwrap_or((value, ""));
        let credentials = credentials.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            if self.basic_ok(credentials) {
                Ok(())
            } else {
                Err(ApiError::IncorrectAuthentication(Challenge::Basic))
            }
        } else if scheme.eq_ignore_ascii_case("bearer") {
            if self.token_ok(credentials, unix_now()) {
                Ok(())
            } else {
                Err(ApiError::IncorrectAuthentication(Challenge::Bearer))
            }
        } else {
            Err(ApiError::NotAuthenticated(Challenge::Basic))
        }
    }

    fn basic_ok(&self, encoded: &str) -> bool {
        let Ok(decoded) = STANDARD.decode(encoded) else {
            return false;
        };
        let Ok(decoded) = String::from_utf8(decoded) else {
            return false;
        };
        let Some((user, password)) = decoded.split_once(':') else {
            return false;
        };
        self.credentials_ok(user, password)
    }

    /// Compares both fields without short-circuiting, on digests so that
    /// the lengths leak nothing either.
    fn credentials_ok(&self, user: &str, password: &str) -> bool {
        let Some(expected) = &self.password else {
            return false;
        };
        let user_ok = digest(user).ct_eq(&digest(&self.username));
        let password_ok = digest(password).ct_eq(&digest(expected));
        (user_ok & password_ok).into()
    }

    /// A signed token for the configured user and its lifetime in seconds.
    pub fn issue(&self, now: u64) -> (String, u64) {
        let lifetime = self.expire.as_secs();
        let claims = json!({
            "sub": self.username,
            "iat": now,
            "exp": now.saturating_add(lifetime),
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(JWT_HEADER),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature =
            URL_SAFE_NO_PAD.encode(self.sign(signing_input.as_bytes()).finalize().into_bytes());
        (format!("{signing_input}.{signature}"), lifetime)
    }

    fn sign(&self, data: &[u8]) -> Hmac<Sha256> {
        // HMAC takes keys of any length, so this never fails.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(data);
        mac
    }

    fn token_ok(&self, token: &str, now: u64) -> bool {
        let mut parts = token.split('.');
        let (Some(head), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let signing_input = &token[..head.len() + 1 + claims.len()];
        if self
            .sign(signing_input.as_bytes())
            .verify_slice(&signature)
            .is_err()
        {
            return false;
        }
        // The signature is ours, so the header and claims are too; still
        // check them rather than trust their shape.
        if URL_SAFE_NO_PAD.decode(head).ok().as_deref() != Some(JWT_HEADER.as_bytes()) {
            return false;
        }
        let Some(claims) = URL_SAFE_NO_PAD
            .decode(claims)
            .ok()
            .and_then(|c| serde_json::from_slice::<Claims>(&c).ok())
        else {
            return false;
        };
        claims.exp > now && bool::from(digest(&claims.sub).ct_eq(&digest(&self.username)))
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
}

fn digest(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Lets a request through when it authenticates, or when it asks for a
/// path that is always open (`/status`, `/token`).
pub async fn require(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let verdict = match req.app_data::<web::Data<State>>() {
        Some(state) if !state.open_paths.iter().any(|p| p == req.path()) => {
            state.auth.check(req.headers())
        }
        _ => Ok(()),
    };
    match verdict {
        Ok(()) => Ok(next.call(req).await?.map_into_boxed_body()),
        Err(err) => Ok(req.into_response(err.error_response())),
    }
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

/// `POST /api/4/token` with `{"username", "password"}`.
pub async fn token(state: web::Data<State>, body: Bytes) -> Result<impl Responder, ApiError> {
    let auth = &state.auth;
    if !auth.enabled() {
        return Err(ApiError::TokensDisabled);
    }
    let login: Login = serde_json::from_slice(&body)
        .map_err(|err| ApiError::bad_request(format!("invalid login body: {err}")))?;
    if !auth.credentials_ok(&login.username, &login.password) {
        tracing::info!(username = %login.username, "glances API: refused a token request");
        return Err(ApiError::IncorrectAuthentication(Challenge::Bearer));
    }
    let (access_token, expires_in) = auth.issue(unix_now());
    Ok(HttpResponse::Ok().json(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": expires_in,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        Auth::new("glances", Some("s3cret"), Duration::from_secs(60))
    }

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let auth = auth();
        let (token, lifetime) = auth.issue(1_000);
        assert_eq!(lifetime, 60);
        assert!(auth.token_ok(&token, 1_059));
        assert!(!auth.token_ok(&token, 1_060));
    }

    #[test]
    fn tampered_or_foreign_tokens_fail() {
        let auth = auth();
        let (token, _) = auth.issue(1_000);
        let other = Auth::new("glances", Some("s3cret"), Duration::from_secs(60));
        assert!(!other.token_ok(&token, 1_001), "another key");
        let mut tampered = token.clone();
        tampered.push('A');
        assert!(!auth.token_ok(&tampered, 1_001));
        assert!(!auth.token_ok("a.b", 1_001));
        assert!(!auth.token_ok("", 1_001));
    }

    #[test]
    fn basic_needs_both_fields() {
        let auth = auth();
        assert!(auth.basic_ok(&STANDARD.encode("glances:s3cret")));
        assert!(!auth.basic_ok(&STANDARD.encode("glances:wrong")));
        assert!(!auth.basic_ok(&STANDARD.encode("root:s3cret")));
        assert!(!auth.basic_ok("!!not base64"));
    }
}
