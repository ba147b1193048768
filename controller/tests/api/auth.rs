//! Credentials: Basic, API tokens and pre-shared tokens.

use std::io::Write;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use zmon_controller::ControllerConfig;
use zmon_core::Role;

use crate::helpers::{Auth, Options, TestApp, eventually, send};

const BAD: &str = r#"{"message":"Bad credentials"}"#;

async fn status_of(app: &TestApp, auth: &Auth) -> (u16, String) {
    let resp = app
        .request(Method::GET, "/api/v1/teams", auth)
        .send()
        .await
        .expect("request");
    (resp.status().as_u16(), resp.text().await.expect("body"))
}

#[tokio::test]
async fn api_tokens_work_until_revoked() {
    let app = TestApp::spawn().await;
    app.create_user("bot", Role::ApiWriter, &["platform"]).await;
    let token = app.create_token("bot").await;
    assert_eq!(status_of(&app, &token).await.0, 200);
    let (status, _) = send(
        app.request(Method::POST, "/api/v1/downtimes", &token)
            .json(&json!({"comment": "c", "end_time": app.now_secs() + 60, "entities": ["h1"]})),
    )
    .await;
    assert_eq!(status, 200);
    let tokens = app.store.tokens(Some("bot")).await.expect("tokens");
    assert!(app.store.revoke_token(tokens[0].id).await.expect("revoke"));
    assert_eq!(status_of(&app, &token).await, (401, BAD.into()));
    assert_eq!(
        status_of(&app, &Auth::Bearer("zmon_guess".into())).await,
        (401, BAD.into())
    );
}

#[tokio::test]
async fn basic_auth_failures_are_bad_credentials() {
    let app = TestApp::spawn().await;
    app.create_user_with_password("alice", "correct horse", Role::User, &[])
        .await;
    assert_eq!(
        status_of(&app, &Auth::Basic("alice".into(), "correct horse".into()))
            .await
            .0,
        200
    );
    assert_eq!(
        status_of(&app, &Auth::Basic("alice".into(), "wrong".into())).await,
        (401, BAD.into())
    );
    assert_eq!(
        status_of(&app, &Auth::Basic("nobody".into(), "x".into())).await,
        (401, BAD.into())
    );
    let resp = app
        .http
        .get(app.url("/api/v1/teams"))
        .header("Authorization", "Basic %%%")
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.text().await.expect("body"), BAD);
}

#[tokio::test]
async fn repeated_wrong_passwords_are_throttled_per_user_without_locking_out_scripts() {
    let app = TestApp::spawn().await;
    app.create_user_with_password("alice", "correct horse", Role::User, &[])
        .await;
    app.create_user_with_password("bob", "battery staple", Role::User, &[])
        .await;
    let alice = Auth::Basic("alice".into(), "correct horse".into());
    let bob = Auth::Basic("bob".into(), "battery staple".into());
    // A script logged in a moment ago; its login is remembered.
    assert_eq!(status_of(&app, &alice).await.0, 200);

    let guess = Auth::Basic("alice".into(), "guess".into());
    for attempt in 1..=5 {
        assert_eq!(
            status_of(&app, &guess).await,
            (401, BAD.into()),
            "{attempt}"
        );
    }
    let resp = app
        .request(Method::GET, "/api/v1/teams", &guess)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 429);
    let retry_after: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Too many failed logins")),
        "{body}"
    );

    assert_eq!(
        status_of(&app, &Auth::Basic("ALICE".into(), "guess".into()))
            .await
            .0,
        429,
        "names are case-blind"
    );
    // The remembered login keeps working, and other users are untouched.
    assert_eq!(status_of(&app, &alice).await.0, 200);
    assert_eq!(status_of(&app, &bob).await.0, 200);

    // A password not verified lately waits too, even the right one: the
    // throttle cannot tell an owner from a guesser. After the wait, the
    // owner gets in, and that clears the failures.
    app.create_user_with_password("carol", "carol password", Role::User, &[])
        .await;
    let carol = Auth::Basic("carol".into(), "carol password".into());
    let carol_guess = Auth::Basic("carol".into(), "guess".into());
    for _ in 0..5 {
        assert_eq!(status_of(&app, &carol_guess).await.0, 401);
    }
    assert_eq!(status_of(&app, &carol).await.0, 429);
    let status = eventually(Duration::from_secs(10), || async {
        let status = status_of(&app, &carol).await.0;
        (status != 429).then_some(status)
    })
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        status_of(&app, &carol_guess).await,
        (401, BAD.into()),
        "the success cleared the failures"
    );
}

#[tokio::test]
async fn preshared_tokens_come_from_a_file() {
    let mut file = tempfile();
    writeln!(
        file.1,
        r#"
        [[tokens]]
        token = "preshared-writer-0123456789"
        uid = "deployer"
        role = "API_WRITER"
        teams = ["platform"]

        [[tokens]]
        token = "preshared-expired-0123456789"
        uid = "old"
        expires_at = 1000
        "#
    )
    .expect("write");
    let path = file.0.clone();
    let app = TestApp::spawn_with(Options {
        configure: Box::new(move |c: &mut ControllerConfig| c.preshared_tokens = Some(path)),
    })
    .await;
    let writer = Auth::Bearer("preshared-writer-0123456789".into());
    let (status, _) = send(
        app.request(Method::PUT, "/api/v1/entities", &writer)
            .json(&json!({"id": "h1", "type": "host"})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, entity) = send(app.request(Method::GET, "/api/v1/entities/h1", &writer)).await;
    assert_eq!(entity["id"], "h1");
    let trail = app
        .store
        .audit_trail(zmon_controller::store::AuditKind::Entity, "h1")
        .await
        .expect("audit");
    assert_eq!(trail[0].actor, "deployer");
    assert_eq!(
        status_of(&app, &Auth::Bearer("preshared-expired-0123456789".into())).await,
        (401, BAD.into())
    );
    let _ = std::fs::remove_file(&file.0);
}

fn tempfile() -> (std::path::PathBuf, std::fs::File) {
    let path = std::env::temp_dir().join(format!("zmon-tokens-{}.toml", uuid::Uuid::new_v4()));
    let file = std::fs::File::create(&path).expect("temp file");
    (path, file)
}
