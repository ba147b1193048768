//! Authentication: who is calling, with which role and teams.
//!
//! Credentials come as HTTP Basic (local users with argon2 hashes) or as a
//! Bearer token (API tokens kept as SHA-256 hashes, pre-shared tokens from
//! a file, or the JWT the controller issues at UI login). The answers to
//! missing and wrong credentials are ZMON's, byte for byte.

pub mod login_cache;
pub mod login_throttle;
pub mod password;
pub mod permissions;
pub mod preshared;
pub mod tokens;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use tokio::sync::Semaphore;
use zmon_core::time::Clock;
use zmon_core::{Role, team};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Store;

pub use login_cache::LoginCache;
pub use login_throttle::{LoginThrottle, RetryAfter};
pub use preshared::PresharedTokens;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub uid: String,
    pub role: Role,
    pub teams: Vec<String>,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// True when one of the caller's teams covers `team` (ZMON's
    /// case-insensitive prefix rule).
    pub fn is_member(&self, team: &str) -> bool {
        team::is_member(&self.teams, team)
    }

    /// Refuses read-only roles with ZMON's 403 body.
    pub fn require_write(&self) -> Result<(), ApiError> {
        if self.role.can_write() {
            Ok(())
        } else {
            Err(ApiError::AccessDenied)
        }
    }
}

/// Checks credentials against the store and the pre-shared tokens.
pub struct Authenticator {
    store: Arc<dyn Store>,
    preshared: PresharedTokens,
    clock: Arc<dyn Clock>,
    logins: LoginCache,
    throttle: LoginThrottle,
    /// Bounds the argon2 runs in flight (19 MiB each), so a flood of
    /// logins queues instead of exhausting memory and the blocking pool.
    verifications: Semaphore,
}

/// How long a verified Basic login is remembered.
const LOGIN_CACHE_TTL: Duration = Duration::from_secs(60);
const LOGIN_CACHE_CAPACITY: usize = 10_000;
/// How many user names' failed logins are tracked at most.
const LOGIN_THROTTLE_CAPACITY: usize = 10_000;
/// A token's `last_used_at` is written at most this often.
const TOKEN_TOUCH_INTERVAL_SECONDS: i64 = 60;

enum Credentials {
    Basic { user: String, password: String },
    Bearer(String),
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>, preshared: PresharedTokens, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            preshared,
            clock,
            logins: LoginCache::new(LOGIN_CACHE_TTL, LOGIN_CACHE_CAPACITY),
            throttle: LoginThrottle::new(LOGIN_THROTTLE_CAPACITY),
            verifications: Semaphore::new(concurrent_verifications()),
        }
    }

    pub async fn authenticate(&self, header: Option<&str>) -> Result<Caller, ApiError> {
        match parse_header(header)? {
            Credentials::Basic { user, password } => self.basic(&user, password).await,
            Credentials::Bearer(token) => self.bearer(&token).await,
        }
    }

    /// A local user's name and password, as the UI's login form sends them.
    pub async fn password_login(&self, user: &str, password: String) -> Result<Caller, ApiError> {
        self.basic(user, password).await
    }

    async fn basic(&self, user: &str, password: String) -> Result<Caller, ApiError> {
        let key = LoginCache::key(user, &password);
        if let Some(caller) = self.logins.get(&key) {
            return Ok(caller);
        }
        // Asked only once a verification slot is held, so parallel guesses
        // cannot all pass before the first failure is counted.
        let _slot = self
            .verifications
            .acquire()
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        self.throttle
            .check(user, Instant::now())
            .map_err(ApiError::LoginThrottled)?;
        let record = self.store.user(user).await?;
        let hash = record.as_ref().and_then(|r| r.password_hash.clone());
        // Unknown users cost the same as known ones, so timing does not
        // reveal which names exist.
        let ok = web::block(move || password::verify(&password, hash.as_deref()))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        match record {
            Some(r) if ok => {
                self.throttle.succeeded(user);
                let caller = Caller {
                    uid: r.name,
                    role: r.role,
                    teams: r.teams,
                };
                self.logins.put(key, caller.clone());
                Ok(caller)
            }
            _ => {
                self.throttle.failed(user, Instant::now());
                Err(ApiError::BadCredentials)
            }
        }
    }

    /// Authenticates a bare API token (Nezha's `Authorization: <token>`).
    pub async fn token(&self, token: &str) -> Result<Caller, ApiError> {
        self.bearer(token).await
    }

    async fn bearer(&self, token: &str) -> Result<Caller, ApiError> {
        let now = self.clock.now();
        let hash = tokens::hash(token);
        if let Some(caller) = self.preshared.lookup(&hash, now)? {
            return Ok(caller);
        }
        let Some((record, user)) = self.store.token_by_hash(&hash).await? else {
            return Err(ApiError::BadCredentials);
        };
        if !record.is_usable_at(now) {
            return Err(ApiError::BadCredentials);
        }
        // Bookkeeping only, and at most once a minute per token: a write per
        // request would cost more than the request.
        let stale = record
            .last_used_at
            .is_none_or(|t| (now - t).num_seconds() >= TOKEN_TOUCH_INTERVAL_SECONDS);
        if stale {
            let store = self.store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.touch_token(record.id, now).await {
                    tracing::debug!(error = %e, "could not record token use");
                }
            });
        }
        Ok(Caller {
            uid: user.name,
            role: user.role,
            teams: user.teams,
        })
    }
}

/// Two argon2 runs per core keep every core busy without queueing memory.
fn concurrent_verifications() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

fn parse_header(header: Option<&str>) -> Result<Credentials, ApiError> {
    let header = header.map(str::trim).unwrap_or_default();
    let (scheme, value) = header.split_once(' ').unwrap_or((header, ""));
    let value = value.trim();
    if scheme.eq_ignore_ascii_case("basic") && !value.is_empty() {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(ApiError::BadCredentials)?;
        let (user, password) = decoded.split_once(':').ok_or(ApiError::BadCredentials)?;
        return Ok(Credentials::Basic {
            user: user.to_string(),
            password: password.to_string(),
        });
    }
    if scheme.eq_ignore_ascii_case("bearer") && !value.is_empty() {
        return Ok(Credentials::Bearer(value.to_string()));
    }
    Err(ApiError::Unauthenticated)
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get(AUTHORIZATION)
            .map(|v| v.to_str().map(str::to_string));
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            let header = match header {
                None => None,
                Some(Ok(h)) => Some(h),
                Some(Err(_)) => return Err(ApiError::BadCredentials),
            };
            if let Some(token) = header.as_deref().and_then(session_token)
                && let Some(caller) = session_caller(&state, token).await?
            {
                return Ok(caller);
            }
            state.auth.authenticate(header.as_deref()).await
        })
    }
}

/// A Bearer credential that is a JWT (three dot-separated parts) rather
/// than an API token (`zmon_…`, no dots) or a pre-shared token.
fn session_token(header: &str) -> Option<&str> {
    let (scheme, value) = header.trim().split_once(' ')?;
    let value = value.trim();
    (scheme.eq_ignore_ascii_case("bearer") && value.matches('.').count() == 2).then_some(value)
}

/// The JWTs the controller issues at UI login also work as Bearer tokens on
/// the API, for as long as the session lasts; the user is read again, so a
/// deleted user's JWT stops working at once. `None` when the token is not
/// a valid session, so it is tried as an API or pre-shared token next.
async fn session_caller(state: &AppState, token: &str) -> Result<Option<Caller>, ApiError> {
    let now = state.clock.now().timestamp();
    let Ok(claims) = state.ui.sessions.decode(token, now) else {
        return Ok(None);
    };
    Ok(state.store.user(&claims.sub).await?.map(|user| Caller {
        uid: user.name,
        role: user.role,
        teams: user.teams,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parsing_distinguishes_missing_from_bad() {
        assert!(matches!(parse_header(None), Err(ApiError::Unauthenticated)));
        assert!(matches!(
            parse_header(Some("")),
            Err(ApiError::Unauthenticated)
        ));
        assert!(matches!(
            parse_header(Some("Digest abc")),
            Err(ApiError::Unauthenticated)
        ));
        assert!(matches!(
            parse_header(Some("Basic !!!")),
            Err(ApiError::BadCredentials)
        ));
        assert!(matches!(
            parse_header(Some("Basic bm9jb2xvbg==")),
            Err(ApiError::BadCredentials)
        ));
        match parse_header(Some("Basic aGphY29iczp0ZXN0")) {
            Ok(Credentials::Basic { user, password }) => {
                assert_eq!((user.as_str(), password.as_str()), ("hjacobs", "test"));
            }
            _ => panic!("seed credentials must parse"),
        }
        assert!(
            matches!(parse_header(Some("bearer tok")), Ok(Credentials::Bearer(t)) if t == "tok")
        );
    }

    #[test]
    fn only_jwt_shaped_bearer_tokens_are_taken_for_sessions() {
        assert_eq!(session_token("Bearer a.b.c"), Some("a.b.c"));
        assert_eq!(session_token("bearer  a.b.c "), Some("a.b.c"));
        assert_eq!(session_token("Bearer zmon_abcdef"), None);
        assert_eq!(session_token("Basic a.b.c"), None);
        assert_eq!(session_token("Bearer a.b"), None);
    }
}
