//! A JSON body extractor with a size limit and errors that name the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest request body accepted, in bytes; configured per app.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

impl Default for BodyLimit {
    fn default() -> Self {
        Self(1024 * 1024)
    }
}

/// Like `web::Json`, but any content type is read as JSON (curl's
/// `--data-binary` without `-H` sends a form type), bodies over the limit are
/// a 413, and parse errors say where the document went wrong.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<BodyLimit>>()
            .map(|l| l.0)
            .unwrap_or_else(|| BodyLimit::default().0);
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|n| n > limit) {
                return Err(too_large(limit));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ApiError::bad_request(format!("could not read request body: {e}"))
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            parse(&body).map(ApiJson)
        })
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "request body is larger than the limit of {limit} bytes"
    ))
}

/// Parses a JSON document, reporting the path of the offending element.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "request body is empty; a JSON document is expected",
        ));
    }
    // Serde would also read a struct from an array, positionally; every
    // body of this API is an object.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::bad_request(
            "could not read request: the body must be a JSON object",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            ApiError::bad_request(format!("could not read request: {inner}"))
        } else {
            ApiError::bad_request(format!("{path}: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("could not read request: {e}")))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zmon_core::AlertDefinitionInput;

    fn message(body: &str) -> String {
        parse::<AlertDefinitionInput>(body.as_bytes())
            .expect_err("must fail")
            .to_string()
    }

    #[test]
    fn names_the_field_with_the_wrong_type() {
        assert!(message(r#"{"priority": "high"}"#).starts_with("priority: invalid type: string"));
        assert!(
            message(r#"{"status": "SLEEPING"}"#).starts_with("status: unknown variant `SLEEPING`")
        );
        assert!(
            message(r#"{"parameters": {"p": {"value": 1, "type": "decimal"}}}"#)
                .starts_with("parameters.p.type: unknown variant `decimal`")
        );
    }

    #[test]
    fn malformed_and_empty_bodies_are_explained() {
        assert!(message(r#"{"name": "#).contains("EOF while parsing"));
        assert_eq!(
            message("  "),
            "request body is empty; a JSON document is expected"
        );
        assert!(message(r#"{} {}"#).starts_with("could not read request: trailing characters"));
        assert_eq!(
            message("[1, 2]"),
            "could not read request: the body must be a JSON object"
        );
    }
}
