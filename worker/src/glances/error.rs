//! Errors of the Glances API, all answered as `{"detail": ...}` like
//! FastAPI does, so Glances clients can show them.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

/// Which scheme a 401 invites the client to use next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The plugin is not in the snapshot; Glances answers 400, not 404.
    #[error("Unknown plugin {plugin} (available plugins: {available})")]
    UnknownPlugin { plugin: String, available: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// A path parameter that must be an integer is not one: FastAPI's 422
    /// shape, so clients that parse it keep working.
    #[error("{name} must be an integer, got {input:?}")]
    NotAnInteger { name: &'static str, input: String },
    #[error("Not authenticated")]
    NotAuthenticated(Challenge),
    #[error("Incorrect authentication")]
    IncorrectAuthentication(Challenge),
    /// `/token` without a password configured: there is nothing to log in to.
    #[error("token authentication is off: the server has no password")]
    TokensDisabled,
}

impl ApiError {
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    fn detail(&self) -> Value {
        match self {
            Self::NotAnInteger { name, input } => json!([{
                "type": "int_parsing",
                "loc": ["path", name],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": input,
            }]),
            other => Value::String(other.to_string()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::UnknownPlugin { .. } | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::NotAnInteger { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotAuthenticated(_) | Self::IncorrectAuthentication(_) => {
                StatusCode::UNAUTHORIZED
            }
            Self::TokensDisabled => StatusCode::NOT_IMPLEMENTED,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Self::NotAuthenticated(challenge) | Self::IncorrectAuthentication(challenge) = self {
            let scheme = match challenge {
                Challenge::Basic => "Basic",
                Challenge::Bearer => "Bearer",
            };
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static(scheme)));
        }
        response.json(json!({ "detail": self.detail() }))
    }
}

/// Parses an integer path parameter.
pub fn parse_int(name: &'static str, input: &str) -> Result<u64, ApiError> {
    input.parse().map_err(|_| ApiError::NotAnInteger {
        name,
        input: input.to_string(),
    })
}
