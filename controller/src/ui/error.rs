//! Errors of UI pages, answered as HTML (or a redirect to the login page).

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, LOCATION};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::error::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// Not logged in (or the session ended): go to the login page and
    /// come back to `next` afterwards.
    #[error("login required")]
    LoginRequired { next: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        match e.status_code() {
            StatusCode::BAD_REQUEST => UiError::BadRequest(e.to_string()),
            StatusCode::UNAUTHORIZED => UiError::LoginRequired { next: "/".into() },
            StatusCode::FORBIDDEN => UiError::Forbidden(e.to_string()),
            StatusCode::NOT_FOUND => UiError::NotFound(e.to_string()),
            StatusCode::SERVICE_UNAVAILABLE => UiError::Unavailable(e.to_string()),
            _ => UiError::Internal(e.to_string()),
        }
    }
}

impl From<askama::Error> for UiError {
    fn from(e: askama::Error) -> Self {
        UiError::Internal(format!("rendering: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    user: Option<&'a str>,
}

impl ResponseError for UiError {
    fn status_code(&self) -> StatusCode {
        match self {
            UiError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            UiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            UiError::Forbidden(_) => StatusCode::FORBIDDEN,
            UiError::NotFound(_) => StatusCode::NOT_FOUND,
            UiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            UiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let UiError::LoginRequired { next } = self {
            let target = format!("/login?next={}", super::view::url_encode(next));
            return HttpResponse::SeeOther()
                .insert_header((LOCATION, target))
                .finish();
        }
        if let UiError::Internal(detail) = self {
            tracing::error!(error = %detail, "UI page failed");
        }
        let status = self.status_code();
        let message = match self {
            UiError::Internal(_) => {
                "Something went wrong on our side; the log has the details.".to_string()
            }
            other => other.to_string(),
        };
        let page = ErrorPage {
            title: status.canonical_reason().unwrap_or("Error"),
            message: &message,
            user: None,
        };
        let body = page
            .render()
            .unwrap_or_else(|_| "<!doctype html><title>Error</title><p>Error</p>".into());
        HttpResponse::build(status)
            .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
            .body(body)
    }
}
