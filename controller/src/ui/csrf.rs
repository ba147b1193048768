//! Cross-site request forgery defences for form posts.
//!
//! Three layers: session cookies are SameSite=Lax (no cross-site posts
//! carry them); every form carries a token the attacker cannot read (the
//! session's CSRF secret, or a login cookie's value before there is a
//! session); and a post whose Origin (or Referer) names another site is
//! refused outright.

use actix_web::HttpRequest;
use actix_web::http::header::{ORIGIN, REFERER};
use subtle::ConstantTimeEq;

use super::error::UiError;

/// Cookie holding the login form's token (double submit: before login
/// there is no session to tie the token to).
pub const LOGIN_COOKIE: &str = "zmon_login";
pub const FIELD: &str = "csrf";

fn refused() -> UiError {
    UiError::Forbidden(
        "The form's security token is missing or stale. Reload the page and try again.".into(),
    )
}

/// The submitted token equals the expected one (in constant time).
pub fn check_token(expected: &str, submitted: &str) -> Result<(), UiError> {
    let same = !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()));
    if same { Ok(()) } else { Err(refused()) }
}

/// Refuses a post that a browser says comes from another origin.
/// `public_url` is the configured external URL, if any; otherwise the
/// request's own scheme and host are the origin.
pub fn check_origin(req: &HttpRequest, public_url: Option<&str>) -> Result<(), UiError> {
    let claimed = req
        .headers()
        .get(ORIGIN)
        .or_else(|| req.headers().get(REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(claimed) = claimed else {
        // Non-browser clients send neither; the token still protects.
        return Ok(());
    };
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host());
    let allowed = [Some(own.as_str()), public_url.map(origin_of)];
    if allowed
        .into_iter()
        .flatten()
        .any(|origin| origin_of(claimed).eq_ignore_ascii_case(origin))
    {
        Ok(())
    } else {
        Err(UiError::Forbidden(
            "This form was posted from another site and was refused.".into(),
        ))
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let Some(scheme_end) = url.find("://") else {
        return url;
    };
    let rest = &url[scheme_end + 3..];
    match rest.find('/') {
        Some(path) => &url[..scheme_end + 3 + path],
        None => url.trim_end_matches('/'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn tokens_must_match_exactly() {
        assert!(check_token("abc", "abc").is_ok());
        assert!(check_token("abc", "abd").is_err());
        assert!(check_token("abc", "").is_err());
        assert!(
            check_token("", "").is_err(),
            "an empty expectation never matches"
        );
    }

    #[test]
    fn posts_from_other_origins_are_refused() {
        let own = TestRequest::default()
            .insert_header(("host", "zmon.example.org"))
            .insert_header((ORIGIN, "http://zmon.example.org"))
            .to_http_request();
        assert!(check_origin(&own, None).is_ok());
        let foreign = TestRequest::default()
            .insert_header(("host", "zmon.example.org"))
            .insert_header((ORIGIN, "https://evil.example.com"))
            .to_http_request();
        assert!(check_origin(&foreign, None).is_err());
        let behind_proxy = TestRequest::default()
            .insert_header(("host", "10.0.0.5:8080"))
            .insert_header((REFERER, "https://zmon.example.org/alerts?x=1"))
            .to_http_request();
        assert!(check_origin(&behind_proxy, Some("https://zmon.example.org/")).is_ok());
        let no_headers = TestRequest::default().to_http_request();
        assert!(check_origin(&no_headers, None).is_ok());
    }
}
