//! The web UI: server-rendered pages (askama templates checked at compile
//! time), a session cookie, and a little hand-written JavaScript where a
//! page refreshes itself. Pages call the same services and permission
//! checks as the API, with the logged-in user as the caller.

pub mod assets;
pub mod chart;
pub mod csrf;
pub mod error;
pub mod oauth;
pub mod pages;
pub mod session;
pub mod view;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::auth::Caller;
use crate::state::AppState;
use error::UiError;
use session::{Claims, SessionError, Sessions};

/// What the UI needs beyond the API's state.
pub struct UiSettings {
    pub sessions: Sessions,
    /// The external base URL (`ZMON_PUBLIC_URL`), when configured.
    pub public_url: Option<String>,
    pub providers: oauth::Providers,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(assets::file)
        .service(pages::login::show)
        .service(pages::login::submit)
        .service(pages::login::logout)
        .service(oauth::begin)
        .service(oauth::callback)
        .service(pages::dashboard::show)
        .service(pages::dashboard::fragment)
        .service(pages::alert::show)
        .service(pages::alert::evaluate)
        .service(pages::alert::downtime)
        .service(pages::alert_definitions::list)
        .service(pages::alert_definitions::new)
        .service(pages::alert_definitions::edit)
        .service(pages::alert_definitions::create)
        .service(pages::alert_definitions::update)
        .service(pages::checks::list)
        .service(pages::checks::new)
        .service(pages::checks::start_trial)
        .service(pages::checks::trial_page)
        .service(pages::checks::trial_fragment)
        .service(pages::checks::show)
        .service(pages::checks::create)
        .service(pages::checks::update)
        .service(pages::entities::show)
        .service(pages::hosts::list)
        .service(pages::hosts::fragment)
        .service(pages::hosts::show)
        .service(pages::downtimes::show)
        .service(pages::downtimes::schedule)
        .service(pages::downtimes::delete)
        .service(pages::tokens::show)
        .service(pages::tokens::create)
        .service(pages::tokens::revoke)
        .service(pages::about::show);
}

/// A logged-in user of the UI.
pub struct SignedIn {
    pub claims: Claims,
    pub caller: Caller,
}

impl SignedIn {
    /// Refuses a form post whose CSRF token or origin is wrong.
    pub fn check_post(&self, req: &HttpRequest, submitted: &str) -> Result<(), UiError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| UiError::Internal("application state missing".into()))?;
        csrf::check_origin(req, state.ui.public_url.as_deref())?;
        csrf::check_token(&self.claims.csrf, submitted)
    }
}

impl FromRequest for SignedIn {
    type Error = UiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, UiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        Box::pin(async move {
            let state =
                state.ok_or_else(|| UiError::Internal("application state missing".into()))?;
            let next = match req.uri().path_and_query() {
                Some(pq) if req.method() == actix_web::http::Method::GET => pq.to_string(),
                _ => "/".to_string(),
            };
            let login = || UiError::LoginRequired { next: next.clone() };
            let now = state.clock.now().timestamp();
            let claims = match state.ui.sessions.read(&req, now) {
                Ok(c) => c,
                Err(SessionError::Missing | SessionError::Expired | SessionError::Invalid) => {
                    return Err(login());
                }
            };
            // Users are re-read (OAuth identities are recorded at login),
            // so a deleted user or a changed role takes effect before the
            // session expires.
            let caller = match state.store.user(&claims.sub).await {
                Ok(Some(user)) => Caller {
                    uid: user.name,
                    role: user.role,
                    teams: user.teams,
                },
                Ok(None) => return Err(login()),
                Err(e) => return Err(UiError::Unavailable(format!("database: {e}"))),
            };
            Ok(SignedIn { claims, caller })
        })
    }
}
