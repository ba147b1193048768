//! Credentials: Basic, API tokens and pre-shared tokens.

use std::io::Write;

use reqwest::Method;
use serde_json::json;
use zmon_controller::ControllerConfig;
use zmon_core::Role;

use crate::helpers::{Auth, Options, TestApp, send};

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
