//! Downtimes: validation, coverage, durability and the Redis mirror.

use std::collections::HashMap;
use std::time::Duration;

use redis::AsyncCommands;
use reqwest::Method;
use serde_json::{Value, json};
use zmon_core::Role;

use crate::checks::create_check;
use crate::helpers::{Auth, TestApp, eventually, message, send};

struct World {
    app: TestApp,
    user: Auth,
    all_hosts: i64,
    prod_only: i64,
}

/// Hosts h1 (prod) and h2 (test); alert `all_hosts` covers both,
/// `prod_only` excludes test.
async fn world() -> World {
    let app = TestApp::spawn().await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    for (id, env) in [("h1", "prod"), ("h2", "test")] {
        let (status, _) = send(
            app.request(Method::PUT, "/api/v1/entities", &user)
                .json(&json!({"id": id, "type": "host", "env": env})),
        )
        .await;
        assert_eq!(status, 200);
    }
    let check = create_check(
        &app,
        &user,
        json!({"name": "load", "owning_team": "platform", "command": "1",
        "interval": 60, "entities": [{"type": "host"}]}),
    )
    .await;
    let alert = |exclude: Value| {
        json!({"name": "a", "description": "d", "team": "platform", "condition": ">1", "priority": 1,
               "check_definition_id": check["id"], "entities_exclude": exclude})
    };
    let mut ids = Vec::new();
    for body in [alert(json!([])), alert(json!([{"env": "test"}]))] {
        let (status, created) = send(
            app.request(Method::POST, "/api/v1/alert-definitions", &user)
                .json(&body),
        )
        .await;
        assert_eq!(status, 200);
        ids.push(created["id"].as_i64().expect("id"));
    }
    World {
        app,
        user,
        all_hosts: ids[0],
        prod_only: ids[1],
    }
}

impl World {
    async fn post(&self, body: Value) -> (reqwest::StatusCode, Value) {
        send(
            self.app
                .request(Method::POST, "/api/v1/downtimes/", &self.user)
                .json(&body),
        )
        .await
    }

    async fn mirrored(&self, alert: i64, entity: &str) -> HashMap<String, String> {
        let mut conn = self.app.redis.clone();
        conn.hgetall(self.app.keys.downtimes(alert, entity))
            .await
            .expect("HGETALL")
    }
}

#[tokio::test]
async fn covers_the_pairs_where_the_alert_applies() {
    let w = world().await;
    let now = w.app.now_secs();
    let (status, group) = w.post(json!({"comment": "patching", "end_time": now + 3600, "entities": ["h1", "h2", "unknown"]})).await;
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["entities"], json!(["h1", "h2"]));
    assert_eq!(
        group["alert_definitions"],
        json!([w.all_hosts, w.prod_only])
    );
    assert_eq!(group["start_time"], now);

    // Each covered pair lands in the mirror; h2 is excluded from prod_only.
    for (alert, entity) in [
        (w.all_hosts, "h1"),
        (w.all_hosts, "h2"),
        (w.prod_only, "h1"),
    ] {
        let entry = w.mirrored(alert, entity).await;
        let doc: Value =
            serde_json::from_str(entry.values().next().expect("mirrored")).expect("json");
        assert_eq!(
            (doc["alert_id"].as_i64(), doc["group_id"].clone()),
            (Some(alert), group["id"].clone())
        );
        assert_eq!(doc["comment"], "patching");
    }
    assert!(w.mirrored(w.prod_only, "h2").await.is_empty());

    let (status, narrowed) = w
        .post(
            json!({"comment": "only one", "end_time": now + 60, "entities": ["h2"],
        "alert_definitions": [w.all_hosts]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            narrowed["entities"].clone(),
            narrowed["alert_definitions"].clone()
        ),
        (json!(["h2"]), json!([w.all_hosts]))
    );

    let (status, nothing) = w
        .post(
            json!({"comment": "no match", "end_time": now + 60, "entities": ["h2"],
        "alert_definitions": [w.prod_only]}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), nothing["entities"].clone()),
        (200, json!([])),
        "no match still succeeds"
    );

    let (status, body) = w.post(json!({"comment": "x", "end_time": now + 60, "entities": ["h1"], "alert_definitions": [999999]})).await;
    assert_eq!(status, 400);
    assert!(message(&body).starts_with("alert_definitions"), "{body}");
}

#[tokio::test]
async fn validation_follows_the_documentation() {
    let w = world().await;
    let now = w.app.now_secs();
    let cases = [
        (
            json!({"comment": "c", "end_time": now + 60, "entities": []}),
            "entities",
        ),
        (json!({"comment": "c", "end_time": now + 60}), "entities"),
        (json!({"comment": "c", "entities": ["h1"]}), "end_time"),
        (
            json!({"comment": "c", "start_time": now + 100, "end_time": now + 60, "entities": ["h1"]}),
            "end_time",
        ),
        (
            json!({"comment": "c", "start_time": now - 100, "end_time": now - 60, "entities": ["h1"]}),
            "end_time",
        ),
        (
            json!({"comment": "c", "end_time": "tomorrow", "entities": ["h1"]}),
            "end_time",
        ),
        (json!({"end_time": now + 60, "entities": ["h1"]}), "comment"),
    ];
    for (body, field) in cases {
        let (status, resp) = w.post(body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            resp["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with(field),
            "{body} -> {resp}"
        );
    }
    // The official CLI sends float seconds.
    let (status, group) = w
        .post(json!({"comment": "cli", "start_time": now as f64 + 0.75,
        "end_time": now as f64 + 3600.5, "entities": ["h1"]}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (group["start_time"].clone(), group["end_time"].clone()),
        (json!(now), json!(now + 3600))
    );
    let (_, listed) = send(w.app.request(Method::GET, "/api/v1/downtimes", &w.user)).await;
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "only the valid one was stored"
    );
}

#[tokio::test]
async fn listing_shows_active_and_future_downtimes_only() {
    let w = world().await;
    let now = w.app.now_secs();
    let (_, current) = w
        .post(json!({"comment": "now", "end_time": now + 100, "entities": ["h1"]}))
        .await;
    let (_, future) = w.post(json!({"comment": "later", "start_time": now + 1000, "end_time": now + 2000, "entities": ["h1"]})).await;
    let (_, deleted) = w
        .post(json!({"comment": "gone", "end_time": now + 100, "entities": ["h1"]}))
        .await;
    let (status, _) = send(w.app.request(
        Method::DELETE,
        &format!(
            "/api/v1/downtimes/{}",
            deleted["id"].as_str().unwrap_or_default()
        ),
        &w.user,
    ))
    .await;
    assert_eq!(status, 200);
    let (_, listed) = send(w.app.request(Method::GET, "/api/v1/downtimes/", &w.user)).await;
    let ids: Vec<&Value> = listed
        .as_array()
        .expect("list")
        .iter()
        .map(|g| &g["id"])
        .collect();
    assert_eq!(ids, [&current["id"], &future["id"]]);
    // Once the first is over, it drops out.
    w.app.set_time_millis((now + 500) * 1000);
    let (_, listed) = send(w.app.request(Method::GET, "/api/v1/downtimes", &w.user)).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let (status, body) = send(w.app.request(
        Method::DELETE,
        "/api/v1/downtimes/not-a-uuid",
        &w.user,
    ))
    .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn the_mirror_is_rebuilt_after_redis_loses_it() {
    let w = world().await;
    let now = w.app.now_secs();
    let (_, group) = w
        .post(json!({"comment": "kept", "end_time": now + 3600, "entities": ["h1"]}))
        .await;
    let (_, gone) = w
        .post(json!({"comment": "gone", "end_time": now + 3600, "entities": ["h2"]}))
        .await;
    send(w.app.request(
        Method::DELETE,
        &format!(
            "/api/v1/downtimes/{}",
            gone["id"].as_str().unwrap_or_default()
        ),
        &w.user,
    ))
    .await;
    // A Redis restart: every key of this installation vanishes.
    let mut conn = w.app.redis.clone();
    let keys: Vec<String> = conn.keys(w.app.keys.all_pattern()).await.expect("KEYS");
    let _: () = conn.del(keys).await.expect("DEL");
    let restored = eventually(Duration::from_secs(10), || async {
        let entry = w.mirrored(w.all_hosts, "h1").await;
        (!entry.is_empty()).then_some(entry)
    })
    .await;
    let doc: Value = serde_json::from_str(restored.values().next().expect("entry")).expect("json");
    assert_eq!(doc["group_id"], group["id"]);
    assert!(
        w.mirrored(w.all_hosts, "h2").await.is_empty(),
        "deleted downtimes stay deleted"
    );
}

#[tokio::test]
async fn downtimes_are_recorded_in_the_event_history() {
    let w = world().await;
    let now = w.app.now_secs();
    let (status, group) = w
        .post(json!({"comment": "patching", "end_time": now + 3600, "entities": ["h1"]}))
        .await;
    assert_eq!(status, 200, "{group}");
    let (_, later) = w
        .post(json!({"comment": "tomorrow", "start_time": now + 86_400, "end_time": now + 90_000, "entities": ["h2"]}))
        .await;
    let path = format!("/api/v2/alert-definitions/{}/events", w.all_hosts);
    let (status, page) = send(w.app.request(Method::GET, &path, &w.user)).await;
    assert_eq!(status, 200, "{page}");
    let kinds = |page: &Value| -> Vec<(String, String)> {
        let mut k: Vec<_> = page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                (
                    i["type"].as_str().unwrap_or_default().to_string(),
                    i["entity"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        k.sort();
        k
    };
    assert_eq!(
        kinds(&page),
        [
            ("DOWNTIME_CREATED".to_string(), "h1".to_string()),
            ("DOWNTIME_CREATED".to_string(), "h2".to_string()),
            ("DOWNTIME_STARTED".to_string(), "h1".to_string()),
        ],
        "the future one has not started"
    );
    let item = &page["items"][0];
    assert_eq!(item["actor"], "alice");
    assert!(item["data"]["downtime_id"].is_string());
    let (status, _) = send(w.app.request(
        Method::DELETE,
        &format!(
            "/api/v1/downtimes/{}",
            group["id"].as_str().unwrap_or_default()
        ),
        &w.user,
    ))
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(w.app.request(
        Method::DELETE,
        &format!(
            "/api/v1/downtimes/{}",
            later["id"].as_str().unwrap_or_default()
        ),
        &w.user,
    ))
    .await;
    assert_eq!(status, 200);
    let (_, page) = send(w.app.request(
        Method::GET,
        &format!("{path}?types=DOWNTIME_DELETED,DOWNTIME_ENDED"),
        &w.user,
    ))
    .await;
    assert_eq!(
        kinds(&page),
        [
            ("DOWNTIME_DELETED".to_string(), "h1".to_string()),
            ("DOWNTIME_DELETED".to_string(), "h2".to_string()),
            ("DOWNTIME_ENDED".to_string(), "h1".to_string()),
        ],
        "only the running one ended"
    );
    let ended = page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["type"] == "DOWNTIME_ENDED")
        .cloned()
        .unwrap_or_default();
    assert_eq!(ended["data"]["reason"], "deleted");
}

#[tokio::test]
async fn scheduled_downtimes_start_and_expire_in_the_history() {
    let w = world().await;
    let now = w.app.now_secs();
    let (status, _) = w
        .post(json!({"comment": "window", "start_time": now + 60, "end_time": now + 120, "entities": ["h2"]}))
        .await;
    assert_eq!(status, 200);
    let path = format!(
        "/api/v2/alert-definitions/{}/events?types=DOWNTIME_STARTED,DOWNTIME_ENDED",
        w.all_hosts
    );
    let seen = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                format!(
                    "{} {}",
                    i["type"].as_str().unwrap_or_default(),
                    i["data"]["reason"]
                )
            })
            .collect()
    };
    w.app.set_time_millis((now + 61) * 1000);
    let started = eventually(Duration::from_secs(10), || async {
        let (_, page) = send(w.app.request(Method::GET, &path, &w.user)).await;
        let s = seen(&page);
        (!s.is_empty()).then_some(s)
    })
    .await;
    assert_eq!(started, ["DOWNTIME_STARTED null"]);
    w.app.set_time_millis((now + 121) * 1000);
    let ended = eventually(Duration::from_secs(10), || async {
        let (_, page) = send(w.app.request(Method::GET, &path, &w.user)).await;
        let s = seen(&page);
        (s.len() == 2).then_some(s)
    })
    .await;
    assert_eq!(ended[0], "DOWNTIME_ENDED \"expired\"", "newest first");
}
