//! `/api/v1/check-definitions` and the scheduler lists.

use reqwest::Method;
use serde_json::{Value, json};
use zmon_core::Role;

use crate::helpers::{Auth, TestApp, message, send};

pub fn check_body(name: &str, team: &str) -> Value {
    json!({"name": name, "description": "d", "owning_team": team, "command": "http('/health').code()",
           "interval": 60, "entities": [{"type": "host"}], "status": "ACTIVE",
           "last_modified_by": "unknown"})
}

pub async fn create_check(app: &TestApp, auth: &Auth, body: Value) -> Value {
    let (status, created) = send(
        app.request(Method::POST, "/api/v1/check-definitions", auth)
            .json(&body),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    created
}

#[tokio::test]
async fn upserts_by_id_then_source_url_then_name_and_team() {
    let app = TestApp::spawn().await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    let first = create_check(&app, &user, check_body("Health", "Platform")).await;
    let id = first["id"].as_i64().expect("id");
    assert_eq!(
        first["last_modified_by"], "alice",
        "the caller, not the body's 'unknown'"
    );
    assert!(
        first["last_modified"]
            .as_i64()
            .is_some_and(|ms| ms > 1_000_000_000_000)
    );

    // Same name and team, different case: the same definition.
    let mut again = check_body("HEALTH", "platform");
    again["interval"] = json!(30);
    let updated = create_check(&app, &user, again).await;
    assert_eq!(updated["id"], id);
    assert_eq!(updated["interval"], 30);

    // By id, renaming it.
    let mut by_id = check_body("Renamed", "Platform");
    by_id["id"] = json!(id);
    assert_eq!(create_check(&app, &user, by_id).await["name"], "Renamed");

    // By source URL, whatever the name.
    let mut sourced = check_body("From git", "Platform");
    sourced["source_url"] = json!("https://git.example.org/checks/a.yaml");
    let s1 = create_check(&app, &user, sourced.clone()).await;
    sourced["name"] = json!("From git, renamed");
    sourced["source_url"] = json!("HTTPS://git.example.org/checks/a.yaml");
    let s2 = create_check(&app, &user, sourced).await;
    assert_eq!(s1["id"], s2["id"]);
    assert_ne!(s1["id"], id);

    // POST to /{id}: the body must agree with the path.
    let (status, body) = send(
        app.request(
            Method::POST,
            &format!("/api/v1/check-definitions/{id}/"),
            &user,
        )
        .json(
            &json!({"id": id + 1000, "name": "x", "owning_team": "Platform", "command": "1",
                          "interval": 5, "entities": [{"type": "host"}]}),
        ),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = send(
        app.request(
            Method::POST,
            &format!("/api/v1/check-definitions/{id}"),
            &user,
        )
        .json(&check_body("Via path", "Platform")),
    )
    .await;
    assert_eq!((status.as_u16(), body["id"].as_i64()), (200, Some(id)));

    // A second definition may not take an existing (name, team).
    let mut clash = check_body("Via path", "Platform");
    clash["id"] = json!(s1["id"]);
    let (status, body) = send(
        app.request(Method::POST, "/api/v1/check-definitions", &user)
            .json(&clash),
    )
    .await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn reads_lists_and_last_modified() {
    let app = TestApp::spawn().await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    let active = create_check(&app, &user, check_body("A", "platform")).await;
    let mut inactive = check_body("B", "platform");
    inactive["status"] = json!("INACTIVE");
    let inactive = create_check(&app, &user, inactive).await;

    let (status, body) = send(app.request(
        Method::GET,
        &format!("/api/v1/check-definitions/{}/", active["id"]),
        &user,
    ))
    .await;
    assert_eq!((status.as_u16(), body.clone()), (200, active.clone()));
    let (status, body) =
        send(app.request(Method::GET, "/api/v1/check-definitions/424242", &user)).await;
    assert_eq!(status, 404, "not ZMON's empty 200");
    assert!(message(&body).contains("424242"));

    let (_, snapshot) = send(app.request(
        Method::GET,
        "/api/v1/checks/all-active-check-definitions/",
        &user,
    ))
    .await;
    let ids: Vec<&Value> = snapshot["check_definitions"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(ids, [&active["id"]]);
    let first_snapshot = snapshot["snapshot_id"].as_i64().expect("snapshot id");
    let (_, all) =
        send(app.request(Method::GET, "/api/v1/checks/all-check-definitions", &user)).await;
    assert_eq!(all["check_definitions"].as_array().map(Vec::len), Some(2));
    let (_, listed) = send(app.request(
        Method::GET,
        "/api/v1/check-definitions?status=INACTIVE",
        &user,
    ))
    .await;
    assert_eq!(listed[0]["id"], inactive["id"]);

    let head = app
        .request(
            Method::HEAD,
            "/api/v1/checks/all-active-check-definitions",
            &user,
        )
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.status(), 200);
    let before = head.headers()["last-modified"]
        .to_str()
        .expect("header")
        .to_string();
    assert!(
        chrono::DateTime::parse_from_rfc3339(&before).is_ok(),
        "{before}"
    );

    // A deletion moves Last-Modified and the snapshot id, so pollers notice.
    app.set_time_millis(app.now_millis() + 5_000);
    let (status, _) = send(app.request(
        Method::DELETE,
        &format!("/api/v1/check-definitions/{}", inactive["id"]),
        &user,
    ))
    .await;
    assert_eq!(status, 200);
    let head = app
        .request(Method::HEAD, "/api/v1/check-definitions", &user)
        .send()
        .await
        .expect("HEAD");
    let after = head.headers()["last-modified"]
        .to_str()
        .expect("header")
        .to_string();
    assert_ne!(before, after);
    let (_, snapshot) = send(app.request(
        Method::GET,
        "/api/v1/checks/all-active-check-definitions",
        &user,
    ))
    .await;
    assert!(snapshot["snapshot_id"].as_i64().expect("id") > first_snapshot);
}

#[tokio::test]
async fn deletion_is_refused_while_alerts_use_the_check() {
    let app = TestApp::spawn().await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    let check = create_check(&app, &user, check_body("A", "platform")).await;
    let alert = json!({"name": "a", "description": "d", "team": "platform", "responsible_team": "platform",
        "condition": ">1", "check_definition_id": check["id"], "priority": 1});
    let (status, alert) = send(
        app.request(Method::POST, "/api/v1/alert-definitions", &user)
            .json(&alert),
    )
    .await;
    assert_eq!(status, 200);
    let path = format!("/api/v1/check-definitions/{}/", check["id"]);
    let (status, body) = send(app.request(Method::DELETE, &path, &user)).await;
    assert_eq!(status, 409);
    assert!(message(&body).contains(&alert["id"].to_string()), "{body}");
    let (status, _) = send(app.request(
        Method::DELETE,
        &format!("/api/v1/alert-definitions/{}", alert["id"]),
        &user,
    ))
    .await;
    assert_eq!(status, 200);
    let (status, deleted) = send(app.request(Method::DELETE, &path, &user)).await;
    assert_eq!(
        (status.as_u16(), deleted["id"].clone()),
        (200, check["id"].clone())
    );
    let (status, _) = send(app.request(Method::DELETE, &path, &user)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn invalid_definitions_name_the_field() {
    let app = TestApp::spawn().await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    let cases = [
        ("interval", json!(0), "interval"),
        ("interval", json!("often"), "interval"),
        ("entities", json!([]), "entities"),
        ("name", json!(null), "name"),
        ("status", json!("SOMETIMES"), "status"),
        ("owning_team", json!(""), "owning_team"),
    ];
    for (field, value, expected) in cases {
        let mut body = check_body("A", "platform");
        body[field] = value;
        let (status, resp) = send(
            app.request(Method::POST, "/api/v1/check-definitions", &user)
                .json(&body),
        )
        .await;
        assert_eq!(status, 400, "{field}: {resp}");
        assert!(
            resp["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with(expected),
            "{resp}"
        );
    }
    let (_, all) = send(app.request(Method::GET, "/api/v1/check-definitions", &user)).await;
    assert_eq!(all, json!([]), "nothing was stored");
}
