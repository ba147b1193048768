//! Hostile and broken requests get a clear 4xx, the process stays up, and
//! nothing stored changes.

use reqwest::Method;
use serde_json::{Value, json};
use zmon_controller::ControllerConfig;
use zmon_core::Role;

use crate::helpers::{Auth, Options, TestApp, message, send};

#[tokio::test]
async fn malformed_bodies_are_400s_that_say_why() {
    let app = TestApp::spawn().await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    let cases: [(&str, &str, &str); 7] = [
        ("/api/v1/alert-definitions", "{\"name\": ", "EOF"),
        (
            "/api/v1/alert-definitions",
            "{\"team\": \"t\", \"priority\": \"high\"}",
            "priority",
        ),
        (
            "/api/v1/alert-definitions",
            "{\"team\": \"t\", \"status\": \"SLEEPING\"}",
            "status: unknown variant `SLEEPING`",
        ),
        (
            "/api/v1/alert-definitions",
            "[1, 2]",
            "could not read request",
        ),
        (
            "/api/v1/check-definitions",
            "{\"interval\": 1e400}",
            "interval",
        ),
        ("/api/v1/downtimes", "", "request body is empty"),
        ("/api/v1/entities", "not json", "could not read request"),
    ];
    for (path, body, expected) in cases {
        let (status, resp) = send(
            app.request(Method::POST, path, &user)
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
        assert_eq!(status, 400, "{path} {body}: {resp}");
        let message = resp["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{path} {body}: {message}");
    }
    // Deeply nested JSON is refused, not a stack overflow.
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (status, _) = send(
        app.request(Method::PUT, "/api/v1/entities", &user)
            .body(nested),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = send(app.request(Method::GET, "/health", &Auth::None)).await;
    assert_eq!(status, 200, "still up");
}

#[tokio::test]
async fn oversized_bodies_are_413_and_nothing_is_stored() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|c: &mut ControllerConfig| c.max_body_bytes = 4096),
    })
    .await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    let big = json!({"id": "big", "type": "host", "blob": "x".repeat(10_000)});
    let (status, body) = send(
        app.request(Method::PUT, "/api/v1/entities", &user)
            .json(&big),
    )
    .await;
    assert_eq!(status, 413);
    assert!(message(&body).contains("4096"), "{body}");
    // Also without a Content-Length (chunked).
    let stream =
        futures_util::stream::iter((0..10).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1000])));
    let (status, _) = send(
        app.request(Method::PUT, "/api/v1/entities", &user)
            .body(reqwest::Body::wrap_stream(stream)),
    )
    .await;
    assert_eq!(status, 413);
    let (_, all) = send(app.request(Method::GET, "/api/v1/entities", &user)).await;
    assert_eq!(all, json!([]));
}

#[tokio::test]
async fn unknown_routes_methods_and_ids_get_json_errors() {
    let app = TestApp::spawn().await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    let (status, body) = send(app.request(Method::GET, "/api/v1/nothing-here", &user)).await;
    assert_eq!(status, 404);
    assert!(body["message"].is_string(), "{body}");
    let (status, body) = send(app.request(Method::PATCH, "/api/v1/downtimes", &user)).await;
    assert!(status == 404 || status == 405, "{status}");
    assert!(body["message"].is_string(), "{body}");
    let (status, body) =
        send(app.request(Method::GET, "/api/v1/alert-definitions/abc", &user)).await;
    assert_eq!(status, 400);
    assert!(body["message"].is_string(), "{body}");
    let (status, body) =
        send(app.request(Method::GET, "/api/v1/check-definitions?status=MAYBE", &user)).await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("query"), "{body}");
    let (status, body) = send(
        app.request(Method::GET, "/api/v1/entities", &user)
            .query(&[("query", "{oops")]),
    )
    .await;
    assert_eq!(status, 400);
    assert!(message(&body).starts_with("query"), "{body}");
    let huge_id = "9".repeat(40);
    let (status, _) = send(app.request(
        Method::GET,
        &format!("/api/v1/alert-definitions/{huge_id}"),
        &user,
    ))
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_failed_write_leaves_no_trace() {
    let app = TestApp::spawn().await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    let (status, _) = send(
        app.request(Method::POST, "/api/v1/alert-definitions", &user)
            .json(&json!({
        "name": "a", "description": "d", "team": "platform", "condition": ">1", "priority": 1,
        "check_definition_id": 4242})),
    )
    .await;
    assert_eq!(status, 400);
    let (_, all) = send(app.request(Method::GET, "/api/v1/alert-definitions", &user)).await;
    assert_eq!(all, Value::Array(vec![]));
    let (_, teams) = send(app.request(Method::GET, "/api/v1/teams", &user)).await;
    assert_eq!(
        teams,
        json!(["platform"]),
        "only the user's own team; no half-written definition"
    );
}
