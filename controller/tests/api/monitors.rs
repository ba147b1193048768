//! Monitors: CRUD with the check definition each manages, probe samples
//! folded into per-minute history, Nezha's `/api/v1/monitor/{id}`, and
//! retention.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use zmon_controller::bus::Bus;
use zmon_core::Role;
use zmon_core::monitor::ProbeSample;

use crate::helpers::{Auth, Options, TestApp, eventually, message, send};

async fn put_host(app: &TestApp, admin: &Auth, id: &str) {
    let (status, body) = send(
        app.request(Method::PUT, "/api/v1/entities", admin)
            .json(&json!({"id": id, "type": "host"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// Fleet id of each host, by name.
async fn server_ids(app: &TestApp, admin: &Auth) -> Vec<(String, i64)> {
    let (status, body) = send(app.request(Method::GET, "/api/v1/server/list", admin)).await;
    assert_eq!(status, 200);
    body["result"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or_default().to_string(),
                s["id"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

#[tokio::test]
async fn monitors_manage_their_check_definition() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for host in ["node-a", "node-b"] {
        put_host(&app, &admin, host).await;
    }
    let ids = server_ids(&app, &admin).await;
    let node_a = ids
        .iter()
        .find(|(n, _)| n == "node-a")
        .map(|(_, id)| *id)
        .expect("node-a");
    let ops = app.create_user("opsie", Role::User, &["ops"]).await;
    let viewer = app.create_user("vera", Role::Viewer, &["ops"]).await;

    let (status, monitor) = send(
        app.request(Method::POST, "/api/v1/monitors", &ops)
            .json(&json!({"name": "web", "type": "tcp", "target": "example.org:443"})),
    )
    .await;
    assert_eq!(status, 201, "{monitor}");
    assert_eq!(monitor["interval"], 30, "the default interval");
    assert_eq!(monitor["cover"], "all");
    assert_eq!(monitor["team"], "ops", "the caller's team by default");
    let id = monitor["id"].as_i64().expect("id");
    let check_id = monitor["check_definition_id"].as_i64().expect("check id");

    let (status, check) = send(app.request(
        Method::GET,
        &format!("/api/v1/check-definitions/{check_id}"),
        &ops,
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        check["command"],
        r#"monitor_probe("tcp", "example.org:443")"#
    );
    assert_eq!(check["source_url"], format!("zmon-monitor:{id}"));
    assert_eq!(check["entities"], json!([{"type": "host"}]));
    assert_eq!(check["interval"], 30);

    // The check changes only through its monitor.
    let mut edited = check.clone();
    edited["interval"] = json!(5);
    let (status, body) = send(
        app.request(Method::POST, "/api/v1/check-definitions", &ops)
            .json(&edited),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        message(&body).contains(&format!("/api/v1/monitors/{id}")),
        "{body}"
    );
    let (status, _) = send(app.request(
        Method::DELETE,
        &format!("/api/v1/check-definitions/{check_id}"),
        &ops,
    ))
    .await;
    assert_eq!(status, 409);
    let (status, body) = send(
        app.request(Method::POST, "/api/v1/check-definitions", &ops)
            .json(
                &json!({"name": "sneaky", "owning_team": "ops", "command": "1", "interval": 60,
                "entities": [{"type": "host"}], "source_url": "zmon-monitor:99"}),
            ),
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // Cover rules become the check's filters.
    let (status, updated) = send(
        app.request(Method::PUT, &format!("/api/v1/monitors/{id}"), &ops)
            .json(
                &json!({"name": "web", "type": "icmp", "target": "10.1.2.3", "interval": 60,
                "cover": "except", "servers": [node_a, "node-b"]}),
            ),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["check_definition_id"], check_id, "the same check");
    let (_, check) = send(app.request(
        Method::GET,
        &format!("/api/v1/check-definitions/{check_id}"),
        &ops,
    ))
    .await;
    assert_eq!(check["command"], r#"monitor_probe("icmp", "10.1.2.3")"#);
    assert_eq!(
        check["entities_exclude"],
        json!([{"type": "host", "id": "node-a"}, {"type": "host", "id": "node-b"}])
    );
    assert_eq!(check["interval"], 60);

    // Bad input is a 400 naming the field, and changes nothing.
    for (body, expected) in [
        (json!({"name": "x", "target": "a:1"}), "type is mandatory"),
        (json!({"name": "x", "type": "tcp", "target": "a"}), "target"),
        (json!({"name": "x", "type": "ping", "target": "a"}), ""),
        (
            json!({"name": "x", "type": "icmp", "target": "a", "servers": [99999]}),
            "server 99999 does not exist",
        ),
        (
            json!({"name": "x", "type": "icmp", "target": "a", "colour": "red"}),
            "colour",
        ),
    ] {
        let (status, reply) = send(
            app.request(Method::POST, "/api/v1/monitors", &ops)
                .json(&body),
        )
        .await;
        assert_eq!(status, 400, "{body}: {reply}");
        assert!(message(&reply).contains(expected), "{body}: {reply}");
    }
    let (status, _) = send(
        app.request(Method::POST, "/api/v1/monitors", &viewer)
            .json(&json!({"name": "v", "type": "icmp", "target": "a"})),
    )
    .await;
    assert_eq!(status, 403, "viewers may not manage monitors");
    let (status, listed) = send(app.request(Method::GET, "/api/v1/monitors", &viewer)).await;
    assert_eq!(status, 200, "viewers may list them");
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let (status, _) = send(app.request(Method::GET, "/api/v1/monitors/999", &viewer)).await;
    assert_eq!(status, 404);

    // Alerts use the monitor's check like any check's, and hold it.
    let (status, alert) = send(
        app.request(Method::POST, "/api/v1/alert-definitions", &ops)
            .json(
                &json!({"name": "slow", "description": "slow probes", "team": "ops", "responsible_team": "ops",
                "condition": "value.avg_delay > 200", "check_definition_id": check_id,
                "priority": 2, "status": "ACTIVE"}),
            ),
    )
    .await;
    assert_eq!(status, 200, "{alert}");
    let (status, body) =
        send(app.request(Method::DELETE, &format!("/api/v1/monitors/{id}"), &ops)).await;
    assert_eq!(status, 409, "{body}");
    let alert_id = alert["id"].as_i64().expect("alert id");
    let (status, _) = send(app.request(
        Method::DELETE,
        &format!("/api/v1/alert-definitions/{alert_id}"),
        &ops,
    ))
    .await;
    assert_eq!(status, 200);
    let (status, _) =
        send(app.request(Method::DELETE, &format!("/api/v1/monitors/{id}"), &ops)).await;
    assert_eq!(status, 200);
    let (status, _) = send(app.request(
        Method::GET,
        &format!("/api/v1/check-definitions/{check_id}"),
        &ops,
    ))
    .await;
    assert_eq!(status, 404, "the check goes with its monitor");
}

fn sample(check_id: i64, entity: &str, at: i64, delay_ms: Option<f64>) -> ProbeSample {
    ProbeSample {
        check_id,
        entity: entity.into(),
        at: at as f64 + 0.25,
        delay_ms,
        error: delay_ms.is_none().then(|| "connection refused".to_string()),
    }
}

#[tokio::test]
async fn probe_samples_become_nezhas_history_with_failures_apart() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    put_host(&app, &admin, "web-1").await;
    let server = server_ids(&app, &admin).await[0].1;
    let (status, monitor) = send(
        app.request(Method::POST, "/api/v1/monitors", &admin)
            .json(&json!({"name": "Monitor1", "type": "tcp", "target": "db:5432", "team": "ops"})),
    )
    .await;
    assert_eq!(status, 201, "{monitor}");
    let check = monitor["check_definition_id"].as_i64().expect("check");

    let now = app.now_secs();
    let minute = now - now.rem_euclid(60);
    let (a, b) = (minute - 120, minute - 60);
    app.bus()
        .publish_probe_samples(&[
            sample(check, "web-1", a, Some(10.0)),
            sample(check, "web-1", a + 20, Some(30.0)),
            sample(check, "web-1", a + 40, None),
            sample(check, "web-1", b, None),
            // Older than 24 h: stored, but not shown.
            sample(check, "web-1", minute - 25 * 3600, Some(5.0)),
            // Not a monitor's check: dropped.
            sample(check + 1000, "web-1", a, Some(1.0)),
        ])
        .await
        .expect("publish");

    let path = format!("/api/v1/monitor/{server}");
    let body = eventually(Duration::from_secs(10), || async {
        let (status, body) = send(app.request(Method::GET, &path, &Auth::None)).await;
        assert_eq!(status, 200);
        (body["result"][0]["created_at"].as_array().map(Vec::len) == Some(2)).then_some(body)
    })
    .await;
    assert_eq!(
        (body["code"].clone(), body["message"].clone()),
        (json!(0), json!("success"))
    );
    let item = &body["result"][0];
    let keys: Vec<&str> = item
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for field in [
        "monitor_id",
        "server_id",
        "monitor_name",
        "server_name",
        "created_at",
        "avg_delay",
    ] {
        assert!(keys.contains(&field), "the seed's {field} in {item}");
    }
    assert_eq!(item["monitor_id"], monitor["id"]);
    assert_eq!(item["server_id"], server);
    assert_eq!(item["monitor_name"], "Monitor1");
    assert_eq!(item["server_name"], "web-1");
    assert_eq!(
        item["created_at"],
        json!([a * 1000, b * 1000]),
        "minutes in epoch ms"
    );
    assert_eq!(
        item["avg_delay"],
        json!([20.0, null]),
        "failures are not averaged in as 0 ms"
    );
    assert_eq!(item["failed"], json!([1, 1]));

    let (status, body) = send(app.request(Method::GET, "/api/v1/monitor/99999", &Auth::None)).await;
    assert_eq!((status.as_u16(), body["code"].clone()), (404, json!(404)));
    let (status, _) = send(app.request(Method::GET, "/api/v1/monitor/x", &Auth::None)).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn history_past_its_retention_is_pruned() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|c| {
            c.monitor_retention = Duration::from_secs(2 * 24 * 3600);
            c.monitor_prune_interval = Duration::from_millis(100);
        }),
    })
    .await;
    let admin = app.admin().await;
    put_host(&app, &admin, "web-1").await;
    let server = server_ids(&app, &admin).await[0].1;
    let (_, monitor) = send(
        app.request(Method::POST, "/api/v1/monitors", &admin)
            .json(&json!({"name": "m", "type": "icmp", "target": "127.0.0.1", "team": "ops"})),
    )
    .await;
    let check = monitor["check_definition_id"].as_i64().expect("check");
    let now = app.now_secs();
    app.bus()
        .publish_probe_samples(&[
            sample(check, "web-1", now - 3 * 24 * 3600, Some(1.0)),
            sample(check, "web-1", now - 24 * 3600, Some(2.0)),
        ])
        .await
        .expect("publish");
    // The recent minute arrives and stays; the old one is pruned.
    let left = eventually(Duration::from_secs(10), || async {
        let minutes = app.store.monitor_history(server, 0).await.expect("history");
        (minutes.len() == 1 && minutes[0].minute > now - 2 * 24 * 3600).then_some(minutes)
    })
    .await;
    assert_eq!(left[0].avg_delay_ms(), Some(2.0));
}
