//! JSON bodies, gzipped when the client accepts it and the body is large
//! enough to be worth it (Glances uses GZipMiddleware with 1000 bytes).
//!
//! Compression happens here rather than in actix's `Compress` middleware:
//! that one has no size threshold, and `/all` must serve the snapshot's
//! pre-gzipped bytes without compressing them again.

use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, Responder};
use serde::Serialize;
use zmon_checks::host::{Snapshot, gzip};

/// Bodies shorter than this are sent as they are.
pub const GZIP_MIN_BYTES: usize = 1000;

/// A JSON response body.
pub struct Json {
    plain: Bytes,
    /// Already compressed bytes of `plain`, when someone made them once for
    /// every client.
    gzipped: Option<Bytes>,
}

impl Json {
    pub fn new(value: &impl Serialize) -> Self {
        // Serialising a `serde_json::Value` or plain data cannot fail; an
        // empty object is a safe answer should it ever.
        let plain = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Self {
            plain: Bytes::from(plain),
            gzipped: None,
        }
    }

    /// `/all`: the snapshot's cached bytes, shared without copying.
    pub fn all(snapshot: Arc<Snapshot>) -> Self {
        Self {
            plain: Bytes::from_owner(AllJson(snapshot.clone())),
            gzipped: Some(Bytes::from_owner(AllGzip(snapshot))),
        }
    }
}

struct AllJson(Arc<Snapshot>);

impl AsRef<[u8]> for AllJson {
    fn as_ref(&self) -> &[u8] {
        self.0.all_json()
    }
}

struct AllGzip(Arc<Snapshot>);

impl AsRef<[u8]> for AllGzip {
    fn as_ref(&self) -> &[u8] {
        self.0.all_gzip()
    }
}

impl Responder for Json {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse {
        let mut response = HttpResponse::Ok();
        response.content_type("application/json");
        if self.plain.len() < GZIP_MIN_BYTES {
            return response.body(self.plain);
        }
        response.insert_header((header::VARY, HeaderValue::from_static("Accept-Encoding")));
        if !accepts_gzip(req) {
            return response.body(self.plain);
        }
        let body = self
            .gzipped
            .unwrap_or_else(|| Bytes::from(gzip(&self.plain)));
        response
            .insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")))
            .body(body)
    }
}

/// Whether `Accept-Encoding` lists gzip (or `*`) with a non-zero quality.
pub fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let refused = parts.any(|param| {
                param
                    .trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            !refused
                && (coding.eq_ignore_ascii_case("gzip")
                    || coding.eq_ignore_ascii_case("x-gzip")
                    || coding == "*")
        })
}
