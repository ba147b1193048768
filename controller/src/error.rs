//! The API's error type. Every failure leaves as `{"message": "..."}` with
//! a status that says whose fault it was.

use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;
use zmon_core::ValidationError;

use crate::auth::RetryAfter;
use crate::bus::BusError;
use crate::store::StoreError;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    #[schema(example = "Bad credentials")]
    pub message: String,
}

pub const FULL_AUTHENTICATION_REQUIRED: &str =
    "Full authentication is required to access this resource";
pub const BAD_CREDENTIALS: &str = "Bad credentials";
pub const ACCESS_DENIED: &str = "Access is denied";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{FULL_AUTHENTICATION_REQUIRED}")]
    Unauthenticated,
    #[error("{BAD_CREDENTIALS}")]
    BadCredentials,
    /// A read-only role tried to write.
    #[error("{ACCESS_DENIED}")]
    AccessDenied,
    /// A team or ownership rule refused the change; the text says which.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// Too many failed logins for one user name; the wait is sent as
    /// `Retry-After`.
    #[error("Too many failed logins for this user; try again in {} s", .0.seconds())]
    LoginThrottled(RetryAfter),
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected backend failure. The detail is logged, not sent.
    #[error("internal server error")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Self::BadRequest(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::Invalid(m) => Self::BadRequest(m),
            StoreError::Unavailable(m) => {
                tracing::warn!(error = %m, "database unavailable");
                Self::Unavailable("the database is unavailable; try again shortly".into())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<BusError> for ApiError {
    fn from(e: BusError) -> Self {
        tracing::warn!(error = %e, "redis unavailable");
        Self::Unavailable("Redis is unavailable; try again shortly".into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthenticated | Self::BadCredentials => StatusCode::UNAUTHORIZED,
            Self::AccessDenied | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests(_) | Self::LoginThrottled(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(detail) = self {
            tracing::error!(error = %detail, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let Self::LoginThrottled(wait) = self {
            response.insert_header((RETRY_AFTER, wait.seconds().to_string()));
        }
        response.json(ErrorBody {
            message: self.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn body(e: ApiError) -> (u16, String) {
        let resp = e.error_response();
        let status = resp.status().as_u16();
        let bytes = to_bytes(resp.into_body()).await.expect("body");
        (status, String::from_utf8(bytes.to_vec()).expect("utf8"))
    }

    #[actix_web::test]
    async fn auth_bodies_match_the_zmon_documentation_byte_for_byte() {
        assert_eq!(
            body(ApiError::Unauthenticated).await,
            (
                401,
                r#"{"message":"Full authentication is required to access this resource"}"#.into()
            )
        );
        assert_eq!(
            body(ApiError::BadCredentials).await,
            (401, r#"{"message":"Bad credentials"}"#.into())
        );
        assert_eq!(
            body(ApiError::AccessDenied).await,
            (403, r#"{"message":"Access is denied"}"#.into())
        );
    }

    #[actix_web::test]
    async fn internal_details_are_not_leaked() {
        let (status, text) = body(ApiError::Internal("password=secret".into())).await;
        assert_eq!(status, 500);
        assert!(!text.contains("secret"));
    }
}
