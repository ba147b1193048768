//! `/api/v1/entities`: upsert rules, queries, ownership and deletion.

use reqwest::Method;
use serde_json::{Value, json};
use zmon_controller::store::AuditKind;
use zmon_core::Role;

use crate::helpers::{Auth, TestApp, message, send, send_text};

async fn put(app: &TestApp, auth: &Auth, doc: Value) -> (reqwest::StatusCode, Value) {
    send(
        app.request(Method::PUT, "/api/v1/entities", auth)
            .json(&doc),
    )
    .await
}

#[tokio::test]
async fn upsert_get_list_and_delete() {
    let app = TestApp::spawn().await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    let (status, body) = put(
        &app,
        &user,
        json!({"id": "cd-kinshasa", "type": "city", "country": "cd", "population": 17}),
    )
    .await;
    assert_eq!(
        (status.as_u16(), body),
        (200, Value::Null),
        "empty 200 like ZMON"
    );
    // POST with a trailing slash works too.
    let (status, _) = send(
        app.request(Method::POST, "/api/v1/entities/", &user)
            .json(&json!({"id": "cn-peking", "type": "city", "country": "cn", "population": 21})),
    )
    .await;
    assert_eq!(status, 200);

    let (status, one) = send(app.request(Method::GET, "/api/v1/entities/cd-kinshasa", &user)).await;
    assert_eq!(status, 200);
    assert_eq!(one["country"], "cd");
    let stamp = one["last_modified"].as_str().expect("last_modified string");
    assert!(
        chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S%.f").is_ok(),
        "{stamp}"
    );

    let (_, all) = send(app.request(Method::GET, "/api/v1/entities/", &user)).await;
    assert_eq!(all.as_array().map(Vec::len), Some(2));
    let query = r#"{"country":"cn"}"#;
    let (_, found) = send(
        app.request(Method::GET, "/api/v1/entities", &user)
            .query(&[("query", query)]),
    )
    .await;
    assert_eq!(found.as_array().map(Vec::len), Some(1));
    assert_eq!(found[0]["id"], "cn-peking");
    let any_of = r#"[{"country":"cn"},{"country":"cd"}]"#;
    let (_, found) = send(
        app.request(Method::GET, "/api/v1/entities", &user)
            .query(&[("query", any_of)]),
    )
    .await;
    assert_eq!(found.as_array().map(Vec::len), Some(2));
    // Numbers match their decimal text, as check filters store strings.
    let (_, found) = send(
        app.request(Method::GET, "/api/v1/entities", &user)
            .query(&[("query", r#"{"population":"21"}"#)]),
    )
    .await;
    assert_eq!(found[0]["id"], "cn-peking");
    let (_, none) = send(
        app.request(Method::GET, "/api/v1/entities", &user)
            .query(&[("exclude", "country")]),
    )
    .await;
    assert_eq!(none, json!([]));

    let (status, text) =
        send_text(app.request(Method::DELETE, "/api/v1/entities/cd-kinshasa/", &user)).await;
    assert_eq!((status.as_u16(), text.as_str()), (200, "1"));
    let (status, text) =
        send_text(app.request(Method::DELETE, "/api/v1/entities/cd-kinshasa/", &user)).await;
    assert_eq!((status.as_u16(), text.as_str()), (200, "0"));
    let (status, body) =
        send(app.request(Method::GET, "/api/v1/entities/cd-kinshasa", &user)).await;
    assert_eq!(status, 404);
    assert!(message(&body).contains("cd-kinshasa"));
}

#[tokio::test]
async fn zmon_id_and_type_rules_apply() {
    let app = TestApp::spawn().await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    assert_eq!(
        put(&app, &user, json!({"id": "host-1", "type": "host"}))
            .await
            .0,
        200
    );
    let (status, body) = put(&app, &user, json!({"id": "host-1", "type": "instance"})).await;
    assert_eq!(status, 409, "type change: {body}");
    let (status, body) = put(&app, &user, json!({"id": "g1", "type": "GLOBAL"})).await;
    assert_eq!(status, 400);
    assert!(message(&body).starts_with("type"), "{body}");
    let (status, body) = put(&app, &user, json!({"id": "Host 1", "type": "host"})).await;
    assert_eq!(status, 400);
    assert!(message(&body).starts_with("id"), "{body}");
    let (status, _) = put(&app, &user, json!({"id": "cfg", "type": "zmon_config"})).await;
    assert_eq!(status, 403, "zmon_config is for admins");
    let admin = app.admin().await;
    assert_eq!(
        put(&app, &admin, json!({"id": "cfg", "type": "zmon_config"}))
            .await
            .0,
        200
    );
    // The stored document is untouched by the failed attempts.
    let (_, host) = send(app.request(Method::GET, "/api/v1/entities/host-1", &user)).await;
    assert_eq!(host["type"], "host");
}

#[tokio::test]
async fn team_owned_entities_belong_to_their_team() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice", Role::User, &["platform"]).await;
    let bob = app.create_user("bob", Role::User, &["shop"]).await;
    let carol = app
        .create_user("carol", Role::User, &["Platform/Software"])
        .await;
    assert_eq!(
        put(
            &app,
            &alice,
            json!({"id": "db-1", "type": "database", "team": "Platform/Software"})
        )
        .await
        .0,
        200
    );
    let (status, _) = put(
        &app,
        &bob,
        json!({"id": "db-1", "type": "database", "team": "shop"}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = send(app.request(Method::DELETE, "/api/v1/entities/db-1", &bob)).await;
    assert_eq!(status, 403);
    assert_eq!(
        put(
            &app,
            &carol,
            json!({"id": "db-1", "type": "database", "team": "Platform/Software", "v": 2})
        )
        .await
        .0,
        200
    );
    // Without a team anyone may update; the creator always may.
    assert_eq!(
        put(&app, &bob, json!({"id": "free", "type": "host"}))
            .await
            .0,
        200
    );
    assert_eq!(
        put(
            &app,
            &alice,
            json!({"id": "free", "type": "host", "team": "shop"})
        )
        .await
        .0,
        200
    );
    let viewer = app.create_user("vic", Role::Viewer, &["shop"]).await;
    assert_eq!(
        put(&app, &viewer, json!({"id": "free", "type": "host"}))
            .await
            .0,
        403
    );
}

#[tokio::test]
async fn changes_are_audited_and_repeats_are_no_ops() {
    let app = TestApp::spawn().await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    let doc = json!({"id": "host-1", "type": "host", "dc": "a"});
    assert_eq!(put(&app, &user, doc.clone()).await.0, 200);
    // The CLI pushes back what it read, including last_modified.
    let (_, read) = send(app.request(Method::GET, "/api/v1/entities/host-1", &user)).await;
    assert_eq!(put(&app, &user, read).await.0, 200);
    assert_eq!(
        put(
            &app,
            &user,
            json!({"id": "host-1", "type": "host", "dc": "b"})
        )
        .await
        .0,
        200
    );
    let trail = app
        .store
        .audit_trail(AuditKind::Entity, "host-1")
        .await
        .expect("audit");
    assert_eq!(
        trail.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["create", "update"]
    );
    assert_eq!(trail[1].actor, "alice");
    assert_eq!(
        trail[1].before.as_ref().map(|b| b["dc"].clone()),
        Some(json!("a"))
    );
    assert_eq!(
        trail[1].after.as_ref().map(|a| a["dc"].clone()),
        Some(json!("b"))
    );
    let (_, stored) = send(app.request(Method::GET, "/api/v1/entities/host-1", &user)).await;
    assert_eq!(stored["dc"], "b");
}
