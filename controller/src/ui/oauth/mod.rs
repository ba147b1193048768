//! Login through OAuth providers: `/auth/login/{oidc|github}` sends the
//! browser to the provider; `/auth/callback` brings it back.
//!
//! The PKCE verifier and the nonce never leave the server: they wait in
//! the store under the `state` value, which works once and for ten
//! minutes. The browser that started a login must finish it: `state` is
//! also in a cookie, so a callback link planted by someone else (login
//! CSRF) is refused.

pub mod github;
pub mod http;
pub mod identity;
pub mod oidc;

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::error::UiError;
use super::pages::login::login_form;
use super::session::Origin;
use super::view::safe_next;
use crate::auth::Caller;
use crate::config::OAuthConfig;
use crate::state::AppState;
use crate::store::OAuthLogin;
use github::Github;
use http::{HttpError, ProviderHttp};
use identity::MappingError;
use oidc::Oidc;

/// How long a login may take between the redirect and the callback.
const LOGIN_TTL: Duration = Duration::from_secs(600);
const STATE_COOKIE: &str = "zmon_oauth";
pub const CALLBACK_PATH: &str = "/auth/callback";

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("login is misconfigured: {0}")]
    Config(String),
    #[error("the login provider failed: {0}")]
    Provider(String),
    #[error("login refused: {0}")]
    Refused(String),
    #[error(transparent)]
    Mapping(#[from] MappingError),
}

impl OAuthError {
    fn status(&self) -> StatusCode {
        match self {
            OAuthError::Config(_) => StatusCode::INTERNAL_SERVER_ERROR,
            OAuthError::Provider(_) => StatusCode::BAD_GATEWAY,
            OAuthError::Refused(_) => StatusCode::FORBIDDEN,
            OAuthError::Mapping(MappingError::Unmapped { .. }) => StatusCode::FORBIDDEN,
            OAuthError::Mapping(MappingError::Store(_)) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// A login sent to the provider: where to, and what to keep until it
/// comes back.
pub struct Started {
    pub url: String,
    pub state: String,
    pub pkce_verifier: String,
    pub nonce: String,
}

/// The configured providers.
pub struct Providers {
    oidc: Option<Oidc>,
    github: Option<Github>,
    config: OAuthConfig,
}

impl Providers {
    pub fn new(config: &OAuthConfig) -> Result<Self, HttpError> {
        let http = ProviderHttp::new()?;
        Ok(Self {
            oidc: config
                .oidc
                .clone()
                .map(|o| Oidc::new(o, config.teams_claim.clone(), http.clone())),
            github: config.github.clone().map(|g| Github::new(g, http)),
            config: config.clone(),
        })
    }

    /// The login page's buttons: (path, label).
    pub fn buttons(&self) -> Vec<(String, String)> {
        let mut buttons = Vec::new();
        if let Some(o) = &self.oidc {
            buttons.push(("/auth/login/oidc".to_string(), o.label()));
        }
        if let Some(g) = &self.github {
            buttons.push(("/auth/login/github".to_string(), g.label()));
        }
        buttons
    }
}

/// `<public URL>/auth/callback`, or the request's own origin when no
/// public URL is configured (a standalone install on localhost).
fn redirect_uri(req: &HttpRequest, state: &AppState) -> String {
    match &state.ui.public_url {
        Some(base) => format!("{base}{CALLBACK_PATH}"),
        None => {
            let info = req.connection_info();
            format!("{}://{}{CALLBACK_PATH}", info.scheme(), info.host())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct BeginQuery {
    next: Option<String>,
}

#[get("/auth/login/{provider}")]
pub async fn begin(
    req: HttpRequest,
    state: web::Data<AppState>,
    provider: web::Path<String>,
    query: web::Query<BeginQuery>,
) -> Result<HttpResponse, UiError> {
    let next = safe_next(query.next.as_deref());
    let redirect = redirect_uri(&req, &state);
    let providers = &state.ui.providers;
    let started = match provider.as_str() {
        "oidc" => match &providers.oidc {
            Some(o) => o.start(&redirect).await,
            None => {
                return Err(UiError::NotFound(
                    "No OpenID Connect provider is configured.".into(),
                ));
            }
        },
        "github" => match &providers.github {
            Some(g) => g.start(&redirect),
            None => return Err(UiError::NotFound("GitHub login is not configured.".into())),
        },
        _ => return Err(UiError::NotFound("No such login provider.".into())),
    };
    let started = match started {
        Ok(s) => s,
        Err(e) => return refused(&state, &next, &e),
    };
    let now = state.clock.now();
    let expired_before = now - chrono::Duration::seconds(LOGIN_TTL.as_secs() as i64);
    state
        .store
        .put_oauth_login(
            &OAuthLogin {
                state: started.state.clone(),
                provider: provider.into_inner(),
                pkce_verifier: started.pkce_verifier,
                nonce: started.nonce,
                next_path: next,
                created_at: now,
            },
            expired_before,
        )
        .await
        .map_err(crate::error::ApiError::from)?;
    let cookie = state
        .ui
        .sessions
        .build(STATE_COOKIE, started.state, LOGIN_TTL);
    let mut response = HttpResponse::SeeOther()
        .insert_header((LOCATION, started.url))
        .finish();
    response
        .add_cookie(&cookie)
        .map_err(|e| UiError::Internal(e.to_string()))?;
    Ok(response)
}

/// The login page again, saying why this login did not work.
fn refused(state: &AppState, next: &str, error: &OAuthError) -> Result<HttpResponse, UiError> {
    tracing::warn!(error = %error, "OAuth login failed");
    let message = match error {
        // Details of our own configuration are for the log, not the page.
        OAuthError::Config(_) => {
            "Login with this provider is misconfigured; the log has the details.".to_string()
        }
        other => other.to_string(),
    };
    login_form(state, error.status(), next, "", Some(&message), None)
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

#[get("/auth/callback")]
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, UiError> {
    let returned = query.state.clone().unwrap_or_default();
    let bound = req
        .cookie(STATE_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let same_browser =
        !returned.is_empty() && bool::from(bound.as_bytes().ct_eq(returned.as_bytes()));
    if !same_browser {
        return refused(
            &state,
            "/",
            &OAuthError::Refused(
                "this login was not started in this browser, or took too long. Please log in again.".into(),
            ),
        );
    }
    let login = state
        .store
        .take_oauth_login(&returned)
        .await
        .map_err(crate::error::ApiError::from)?;
    let now = state.clock.now();
    let Some(login) =
        login.filter(|l| (now - l.created_at).num_seconds() < LOGIN_TTL.as_secs() as i64)
    else {
        return refused(
            &state,
            "/",
            &OAuthError::Refused(
                "this login expired or was already used. Please log in again.".into(),
            ),
        );
    };
    let next = login.next_path.clone();
    if let Some(error) = &query.error {
        let detail = query.error_description.as_deref().unwrap_or(error);
        return refused(
            &state,
            &next,
            &OAuthError::Refused(format!("the provider said: {detail}")),
        );
    }
    let Some(code) = query.code.as_deref().filter(|c| !c.is_empty()) else {
        return refused(
            &state,
            &next,
            &OAuthError::Provider("the callback has no code".into()),
        );
    };
    let redirect = redirect_uri(&req, &state);
    let providers = &state.ui.providers;
    let (identity, origin) = match (login.provider.as_str(), &providers.oidc, &providers.github) {
        ("oidc", Some(o), _) => (
            o.finish(&redirect, code, &login.pkce_verifier, &login.nonce)
                .await,
            Origin::Oidc,
        ),
        ("github", _, Some(g)) => (
            g.finish(&redirect, code, &login.pkce_verifier).await,
            Origin::Github,
        ),
        _ => {
            return refused(
                &state,
                &next,
                &OAuthError::Refused("that provider is no longer configured".into()),
            );
        }
    };
    let user = match identity {
        Ok(identity) => identity::resolve(state.store.as_ref(), &providers.config, &identity).await,
        Err(e) => return refused(&state, &next, &e),
    };
    let user = match user {
        Ok(user) => user,
        Err(e) => return refused(&state, &next, &OAuthError::from(e)),
    };
    let caller = Caller {
        uid: user.name,
        role: user.role,
        teams: user.teams,
    };
    let claims = state.ui.sessions.issue(&caller, origin, now.timestamp());
    let session = state
        .ui
        .sessions
        .cookie(&claims)
        .map_err(|e| UiError::Internal(format!("signing the session: {e}")))?;
    tracing::info!(user = %caller.uid, role = %caller.role, provider = %login.provider, "UI login");
    let mut response = HttpResponse::SeeOther()
        .insert_header((LOCATION, next))
        .finish();
    response
        .add_cookie(&session)
        .map_err(|e| UiError::Internal(e.to_string()))?;
    response
        .add_removal_cookie(
            &state
                .ui
                .sessions
                .build(STATE_COOKIE, String::new(), Duration::ZERO),
        )
        .map_err(|e| UiError::Internal(e.to_string()))?;
    Ok(response)
}
