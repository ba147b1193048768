//! One module per page (or group of pages).

pub mod about;
pub mod alert;
pub mod alert_definitions;
pub mod checks;
pub mod dashboard;
pub mod downtimes;
pub mod entities;
pub mod hosts;
pub mod login;
pub mod tokens;

use actix_web::HttpResponse;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use askama::Template;

use super::SignedIn;
use super::error::UiError;

/// The navigation bar every page shows: who is logged in, and the logout
/// form's CSRF token.
pub struct Nav<'a> {
    pub user: &'a str,
    pub role: &'static str,
    pub csrf: &'a str,
    /// Which entry is the current page.
    pub current: &'static str,
}

impl<'a> Nav<'a> {
    pub fn new(user: &'a SignedIn, current: &'static str) -> Self {
        Self {
            user: &user.caller.uid,
            role: user.caller.role.as_str(),
            csrf: &user.claims.csrf,
            current,
        }
    }
}

/// Renders a page; pages are per user, so they are never cached.
pub fn html(page: &impl Template) -> Result<HttpResponse, UiError> {
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(page.render()?))
}
