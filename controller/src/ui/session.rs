//! The web UI's session: a signed JWT (HS256) in an HttpOnly cookie.
//!
//! The token carries who logged in and how, plus a random CSRF secret that
//! every form post must echo. The user's role and teams are read again on
//! each request (OAuth identities are recorded as users at login), so
//! changing or deleting a user takes effect at once.

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::{Deserialize, Serialize};
use zmon_core::Role;

use crate::auth::Caller;

pub const COOKIE: &str = "zmon_session";
/// Name of the instance secret that signs sessions when none is configured.
pub const SECRET_NAME: &str = "session_signing_key";
const ISSUER: &str = "zmon-controller";
const CSRF_CHARS: usize = 32;

/// Where an identity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Local,
    Oidc,
    Github,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub teams: Vec<String>,
    pub origin: Origin,
    pub csrf: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    pub fn caller(&self) -> Caller {
        Caller {
            uid: self.sub.clone(),
            role: self.role,
            teams: self.teams.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SessionError {
    #[error("no session")]
    Missing,
    #[error("the session expired")]
    Expired,
    #[error("the session is not valid")]
    Invalid,
}

/// Signs and checks session cookies.
pub struct Sessions {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
    /// Cookies get `Secure` (the UI is served over https).
    secure: bool,
}

impl Sessions {
    pub fn new(
        secret: &[u8],
        ttl: Duration,
        secure: bool,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        Ok(Self {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            ttl,
            secure,
        })
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A new session for `caller`, valid for the configured lifetime from `now`.
    pub fn issue(&self, caller: &Caller, origin: Origin, now: i64) -> Claims {
        Claims {
            sub: caller.uid.clone(),
            role: caller.role,
            teams: caller.teams.clone(),
            origin,
            csrf: random_text(CSRF_CHARS),
            iss: ISSUER.into(),
            iat: now,
            exp: now.saturating_add(self.ttl.as_secs() as i64),
        }
    }

    pub fn cookie(&self, claims: &Claims) -> Result<Cookie<'static>, jsonwebtoken::errors::Error> {
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)?;
        Ok(self.build(COOKIE, token, self.ttl))
    }

    /// A cookie that makes the browser drop the session.
    pub fn removal(&self) -> Cookie<'static> {
        self.build(COOKIE, String::new(), Duration::ZERO)
    }

    /// A short-lived cookie of the UI (login CSRF, OAuth state id) with
    /// the same attributes as the session's.
    pub fn build(&self, name: &'static str, value: String, max_age: Duration) -> Cookie<'static> {
        Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .max_age(actix_web::cookie::time::Duration::seconds(
                max_age.as_secs() as i64,
            ))
            .finish()
    }

    /// The session of a request; `now` decides expiry, so tests control it.
    pub fn read(&self, req: &HttpRequest, now: i64) -> Result<Claims, SessionError> {
        let cookie = req.cookie(COOKIE).ok_or(SessionError::Missing)?;
        self.decode(cookie.value(), now)
    }

    pub fn decode(&self, token: &str, now: i64) -> Result<Claims, SessionError> {
        if token.is_empty() {
            return Err(SessionError::Missing);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked below against the injected clock.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "iss", "sub"].map(String::from).into();
        validation.set_issuer(&[ISSUER]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| SessionError::Invalid)?
            .claims;
        if claims.exp <= now {
            return Err(SessionError::Expired);
        }
        Ok(claims)
    }
}

pub fn random_text(chars: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(chars)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            uid: "ana".into(),
            role: Role::User,
            teams: vec!["db".into()],
        }
    }

    #[test]
    fn a_session_round_trips_until_it_expires() {
        let sessions = Sessions::new(
            b"0123456789abcdef0123456789abcdef",
            Duration::from_secs(60),
            false,
        )
        .expect("key");
        let claims = sessions.issue(&caller(), Origin::Local, 1_000);
        let cookie = sessions.cookie(&claims).expect("signed");
        assert!(cookie.http_only().unwrap_or_default());
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
        let back = sessions.decode(cookie.value(), 1_059).expect("valid");
        assert_eq!(back.caller(), caller());
        assert_eq!(back.csrf, claims.csrf);
        assert_eq!(
            sessions.decode(cookie.value(), 1_060).err(),
            Some(SessionError::Expired)
        );
    }

    #[test]
    fn another_key_or_a_changed_token_is_refused() {
        let sessions = Sessions::new(
            b"0123456789abcdef0123456789abcdef",
            Duration::from_secs(60),
            true,
        )
        .expect("key");
        let cookie = sessions
            .cookie(&sessions.issue(&caller(), Origin::Oidc, 1_000))
            .expect("signed");
        assert_eq!(cookie.secure(), Some(true));
        let other = Sessions::new(
            b"another key another key another!",
            Duration::from_secs(60),
            true,
        )
        .expect("key");
        assert_eq!(
            other.decode(cookie.value(), 1_001).err(),
            Some(SessionError::Invalid)
        );
        let mut tampered = cookie.value().to_string();
        tampered.insert(tampered.len() / 2, 'x');
        assert_eq!(
            sessions.decode(&tampered, 1_001).err(),
            Some(SessionError::Invalid)
        );
        assert_eq!(
            sessions.decode("", 1_001).err(),
            Some(SessionError::Missing)
        );
    }
}
