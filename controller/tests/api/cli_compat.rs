//! The official zmon-cli's calls (zmon_cli/client.py), with the paths,
//! bodies and expectations it has, including its quirks.

use reqwest::Method;
use serde_json::{Value, json};
use zmon_core::Role;

use crate::helpers::{Auth, TestApp, send, send_text};

async fn cli_app() -> (TestApp, Auth) {
    let app = TestApp::spawn().await;
    app.create_user("cli", Role::User, &["platform"]).await;
    let token = app.create_token("cli").await;
    (app, token)
}

/// The CLI parses `last_modified` with either of these to sort entities.
fn parses_like_the_cli(stamp: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S%.6f").is_ok()
        || chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S").is_ok()
}

#[tokio::test]
async fn status_and_entities() {
    let (app, cli) = cli_app().await;
    let (status, body) = send(app.request(Method::GET, "/api/v1/status/", &cli)).await;
    assert_eq!(status, 200);
    assert!(body["alerts_active"].is_number());
    for key in [
        "ingest_max_check_tier",
        "query_max_check_tier",
        "query_distance_hours_limit",
    ] {
        assert!(body["service_level_status"][key].is_number(), "{key}");
    }

    // add_entity: PUT without trailing slash; only the status matters.
    let entity = json!({"id": "app-1[eu]", "type": "instance", "application_id": "shop"});
    let resp = app
        .request(Method::PUT, "/api/v1/entities", &cli)
        .json(&entity)
        .send()
        .await
        .expect("PUT");
    assert!(resp.status().is_success());
    // get_entities: with and without ?query=, trailing slash.
    let (_, list) = send(app.request(Method::GET, "/api/v1/entities/", &cli)).await;
    assert!(
        list.as_array()
            .expect("list")
            .iter()
            .all(|e| parses_like_the_cli(e["last_modified"].as_str().unwrap_or_default()))
    );
    let (_, found) = send(
        app.request(Method::GET, "/api/v1/entities/", &cli)
            .query(&[("query", r#"{"application_id": "shop"}"#)]),
    )
    .await;
    assert_eq!(found[0]["id"], "app-1[eu]");
    // get_entity: no trailing slash, percent-encoded brackets.
    let (status, one) =
        send(app.request(Method::GET, "/api/v1/entities/app-1%5Beu%5D", &cli)).await;
    assert_eq!(
        (status.as_u16(), one["application_id"].clone()),
        (200, json!("shop"))
    );
    // delete_entity: trailing slash, success is the text "1".
    let (status, text) =
        send_text(app.request(Method::DELETE, "/api/v1/entities/app-1%5Beu%5D/", &cli)).await;
    assert_eq!((status.as_u16(), text.as_str()), (200, "1"));
}

#[tokio::test]
async fn check_and_alert_definitions() {
    let (app, cli) = cli_app().await;
    // update_check_definition: POST with trailing slash; the CLI always
    // sends last_modified_by "unknown".
    let check = json!({"name": "CLI check", "owning_team": "platform", "command": "1", "interval": 60,
        "entities": [{"type": "instance"}], "status": "ACTIVE", "last_modified_by": "unknown",
        "description": "from the cli"});
    let (status, check) = send(
        app.request(Method::POST, "/api/v1/check-definitions/", &cli)
            .json(&check),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(check["last_modified_by"], "cli");
    let check_id = check["id"].as_i64().expect("id");
    let (status, fetched) = send(app.request(
        Method::GET,
        &format!("/api/v1/check-definitions/{check_id}/"),
        &cli,
    ))
    .await;
    assert_eq!(
        (status.as_u16(), fetched["id"].as_i64()),
        (200, Some(check_id))
    );
    let (_, snapshot) = send(app.request(
        Method::GET,
        "/api/v1/checks/all-active-check-definitions/",
        &cli,
    ))
    .await;
    let listed = &snapshot["check_definitions"][0];
    for key in ["id", "name", "owning_team", "last_modified_by", "status"] {
        assert!(!listed[key].is_null(), "{key}");
    }
    assert!(
        listed["last_modified"].is_i64(),
        "milliseconds as an integer"
    );

    // create_alert_definition: POST with trailing slash and last_modified_by.
    let alert = json!({"name": "CLI alert", "description": "d", "team": "platform", "responsible_team": "platform",
        "condition": ">0", "check_definition_id": check_id, "priority": 3, "status": "ACTIVE",
        "entities": [], "entities_exclude": [], "last_modified_by": "someone", "parameters": {"limit": {"value": 5}}});
    let (status, alert) = send(
        app.request(Method::POST, "/api/v1/alert-definitions/", &cli)
            .json(&alert),
    )
    .await;
    assert_eq!(status, 200, "{alert}");
    let alert_id = alert["id"].as_i64().expect("id");
    // update_alert_definition: PUT with trailing slash.
    let mut changed = alert.clone();
    changed["priority"] = json!(1);
    let (status, updated) = send(
        app.request(
            Method::PUT,
            &format!("/api/v1/alert-definitions/{alert_id}/"),
            &cli,
        )
        .json(&changed),
    )
    .await;
    assert_eq!(
        (status.as_u16(), updated["priority"].clone()),
        (200, json!(1))
    );
    let (_, one) = send(app.request(
        Method::GET,
        &format!("/api/v1/alert-definitions/{alert_id}/"),
        &cli,
    ))
    .await;
    assert_eq!(one["priority"], 1);
    let (_, active) = send(app.request(
        Method::GET,
        "/api/v1/checks/all-active-alert-definitions/",
        &cli,
    ))
    .await;
    let listed = &active["alert_definitions"][0];
    for key in [
        "id",
        "name",
        "check_definition_id",
        "team",
        "responsible_team",
        "priority",
        "last_modified_by",
        "status",
    ] {
        assert!(!listed[key].is_null(), "{key}");
    }
    assert!(listed["last_modified"].is_i64());

    // get_alert_data: `zmon data` reads results[0].value per entity.
    let k = &app.keys;
    let mut conn = app.redis.clone();
    let _: () = redis::pipe()
        .hset(k.alert_evaluated_entities(alert_id), "app-1", "{}")
        .lpush(
            k.check_results(check_id, "app-1"),
            json!({"ts": 1.0, "td": 0.1, "value": 42, "worker": "w"}).to_string(),
        )
        .query_async(&mut conn)
        .await
        .expect("redis");
    let (status, data) = send(app.request(
        Method::GET,
        &format!("/api/v1/status/alert/{alert_id}/all-entities/"),
        &cli,
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(data[0]["entity"], "app-1");
    assert_eq!(data[0]["results"][0]["value"], 42);

    // delete_alert_definition answers JSON; delete_check_definition a 2xx.
    let (status, deleted) = send(app.request(
        Method::DELETE,
        &format!("/api/v1/alert-definitions/{alert_id}/"),
        &cli,
    ))
    .await;
    assert_eq!(
        (status.as_u16(), deleted["id"].as_i64()),
        (200, Some(alert_id))
    );
    let resp = app
        .request(
            Method::DELETE,
            &format!("/api/v1/check-definitions/{check_id}/"),
            &cli,
        )
        .send()
        .await
        .expect("DELETE");
    assert!(resp.status().is_success());
}

#[tokio::test]
async fn downtimes_with_float_times() {
    let (app, cli) = cli_app().await;
    let now = app.now_secs() as f64 + 0.312921;
    let body = json!({"entities": ["app-1"], "comment": "downtime by ZMON CLI", "start_time": now, "end_time": now + 3600.0});
    let (status, group) = send(
        app.request(Method::POST, "/api/v1/downtimes/", &cli)
            .json(&body),
    )
    .await;
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["start_time"], now.trunc() as i64);
    assert_eq!(group["end_time"], (now + 3600.0).trunc() as i64);
    assert!(group["id"].is_string());
    assert_eq!(group["created_by"], Value::String("cli".into()));
}

#[tokio::test]
async fn dashboards_search_and_onetime_tokens() {
    let (app, cli) = cli_app().await;
    // `zmon dashboard init` writes "id": ""; update then POSTs to /dashboard/.
    let init = json!({"id": "", "name": "Platform overview", "last_modified_by": "cli",
        "alert_teams": ["platform"], "tags": [], "view_mode": "FULL", "shared_teams": [],
        "widget_configuration": [{"type": "iframe", "options": {"src": "https://example.org"}}]});
    let (status, id) = send(
        app.request(Method::POST, "/api/v1/dashboard/", &cli)
            .json(&init),
    )
    .await;
    assert_eq!(status, 200, "{id}");
    let id = id.as_i64().expect("the answer is the id");
    let (status, dashboard) =
        send(app.request(Method::GET, &format!("/api/v1/dashboard/{id}/"), &cli)).await;
    assert_eq!(status, 200);
    assert_eq!(dashboard["name"], "Platform overview");
    assert_eq!(dashboard["widget_configuration"][0]["type"], "iframe");
    assert_eq!(dashboard["edit_option"], "PRIVATE");
    let mut changed = dashboard.clone();
    changed["name"] = json!("Renamed");
    let (status, same) = send(
        app.request(Method::POST, &format!("/api/v1/dashboard/{id}/"), &cli)
            .json(&changed),
    )
    .await;
    assert_eq!((status.as_u16(), same.as_i64()), (200, Some(id)));
    let (status, _) = send(app.request(Method::GET, "/api/v1/dashboard/9999/", &cli)).await;
    assert_eq!(status, 404);

    // Someone else may not edit a private dashboard.
    let other = app.create_user("other", Role::User, &["platform"]).await;
    let (status, _) = send(
        app.request(Method::POST, &format!("/api/v1/dashboard/{id}"), &other)
            .json(&changed),
    )
    .await;
    assert_eq!(status, 403);

    // `zmon search`: four lists of {id, title, team}.
    let check = json!({"name": "Renamed check", "owning_team": "platform", "command": "1", "interval": 60,
        "entities": [{"type": "host"}]});
    send(
        app.request(Method::POST, "/api/v1/check-definitions/", &cli)
            .json(&check),
    )
    .await;
    let (status, found) = send(
        app.request(Method::GET, "/api/v1/quick-search/", &cli)
            .query(&[("query", "renamed"), ("teams", "platform"), ("limit", "10")]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(found["dashboards"][0]["id"], id.to_string());
    assert_eq!(found["dashboards"][0]["title"], "Renamed");
    assert_eq!(found["checks"][0]["title"], "Renamed check");
    assert_eq!(found["checks"][0]["team"], "platform");
    assert_eq!(found["alerts"], json!([]));
    assert_eq!(found["grafana_dashboards"], json!([]));

    // `zmon onetime-tokens get` strips quotes from the text; `list` reads ms times.
    let (status, text) = send_text(
        app.request(Method::POST, "/api/v1/onetime-tokens/", &cli)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 200);
    let token = text.trim_matches('"').to_string();
    assert_eq!(token.len(), 8);
    let (status, body) = send(
        app.request(Method::POST, "/api/v1/onetime-tokens/", &cli)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(body["message"], "Rate limit hit: wait 15 seconds");
    app.set_time_millis(app.now_millis() + 16_000);
    let (status, _) = send(
        app.request(Method::POST, "/api/v1/onetime-tokens/", &cli)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, list) = send(app.request(Method::GET, "/api/v1/onetime-tokens/", &cli)).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert_eq!(list[0]["token"], token.as_str());
    assert!(list[0]["created"].is_i64());
    assert_eq!(list[0]["bound_at"], Value::Null);
}
