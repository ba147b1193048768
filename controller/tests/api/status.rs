//! Status endpoints read what workers write to Redis.

use reqwest::Method;
use serde_json::{Value, json};
use zmon_controller::ControllerConfig;
use zmon_core::Role;

use crate::checks::create_check;
use crate::helpers::{Auth, Options, TestApp, message, send};

async fn alert(
    app: &TestApp,
    user: &Auth,
    check: &Value,
    name: &str,
    team: &str,
    tags: Value,
) -> i64 {
    let (status, body) = send(
        app.request(Method::POST, "/api/v1/alert-definitions", user)
            .json(&json!({
        "name": name, "description": "d", "team": team, "condition": ">1", "priority": 2,
        "check_definition_id": check["id"], "tags": tags})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["id"].as_i64().expect("id")
}

#[tokio::test]
async fn platform_status_counts_alerts_workers_and_queues() {
    let app = TestApp::spawn().await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    let mut conn = app.redis.clone();
    let now = app.now_millis() as f64 / 1000.0;
    let k = &app.keys;
    let _: () = redis::pipe()
        .sadd(k.active_alerts(), "1")
        .sadd(k.active_alerts(), "2")
        .sadd(k.metrics(), "plocal.fresh")
        .sadd(k.metrics(), "plocal.stale")
        .set(k.metrics_ts("plocal.fresh"), now - 3.0)
        .set(k.metrics_check_count("plocal.fresh"), 40)
        .set(k.metrics_ts("plocal.stale"), now - 3600.0)
        .set(k.metrics_check_count("plocal.stale"), 2)
        .rpush(k.queue("default"), "t1")
        .rpush(k.queue("default"), "t2")
        .rpush(k.queue("default"), "t3")
        .query_async(&mut conn)
        .await
        .expect("seed redis");
    let (status, body) = send(app.request(Method::GET, "/api/v1/status/", &user)).await;
    assert_eq!(status, 200);
    assert_eq!(body["alerts_active"], 2);
    assert_eq!(body["workers_total"], 2);
    assert_eq!(body["workers_active"], 1);
    assert_eq!(body["check_invocations"], 42);
    assert_eq!(body["queue_size"], 3);
    assert_eq!(
        body["queues"],
        json!([{"name": k.queue("default"), "size": 3}])
    );
    assert_eq!(body["workers"][0]["name"], "plocal.fresh");
    assert_eq!(body["service_level_status"]["ingest_max_check_tier"], 3);
    assert_eq!(
        body["service_level_status"]["query_distance_hours_limit"],
        0
    );
}

#[tokio::test]
async fn all_entities_and_active_alerts_reflect_worker_state() {
    let app = TestApp::spawn().await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    let check = create_check(
        &app,
        &user,
        json!({"name": "load", "owning_team": "platform", "command": "1",
        "interval": 60, "entities": [{"type": "host"}]}),
    )
    .await;
    let check_id = check["id"].as_i64().expect("id");
    let loud = alert(
        &app,
        &user,
        &check,
        "Load {load:.1f} on {entities}",
        "Platform/Software",
        json!(["load", "prod"]),
    )
    .await;
    let admin = app.admin().await;
    let quiet = alert(&app, &admin, &check, "Other", "Shop", json!(["shop"])).await;

    let k = &app.keys;
    let mut conn = app.redis.clone();
    let state = |load: f64, downtimes: Value| {
        json!({"td": 0.01, "downtimes": downtimes, "captures": {"load": load},
        "start_time": 1.7e9, "worker": "plocal.w1", "ts": 1.7e9, "value": load})
        .to_string()
    };
    let result =
        |v: f64| json!({"ts": 1.7e9, "td": 0.01, "value": v, "worker": "plocal.w1"}).to_string();
    let _: () = redis::pipe()
        .sadd(k.active_alerts(), loud)
        .sadd(k.active_alerts(), quiet)
        .sadd(k.alert_raised_entities(loud), "h1")
        .sadd(k.alert_raised_entities(loud), "h2")
        .set(k.alert_state(loud, "h1"), state(7.25, json!([])))
        .set(k.alert_state(loud, "h2"), state(9.0, json!([{"id": "x"}])))
        .hset(k.alert_evaluated_entities(loud), "h1", r#"{"load": 7.25}"#)
        .hset(k.alert_evaluated_entities(loud), "h2", r#"{"load": 9.0}"#)
        .hset(k.alert_evaluated_entities(loud), "h3", r#"{"load": 0.5}"#)
        .lpush(k.check_results(check_id, "h1"), result(7.0))
        .lpush(k.check_results(check_id, "h1"), result(7.25))
        .lpush(k.check_results(check_id, "h3"), result(0.5))
        .sadd(k.alert_raised_entities(quiet), "h9")
        .set(k.alert_state(quiet, "h9"), state(1.0, json!([])))
        .sadd(k.alert_acks(), loud)
        .query_async(&mut conn)
        .await
        .expect("seed redis");

    let (status, data) = send(app.request(
        Method::GET,
        &format!("/api/v1/status/alert/{loud}/all-entities/"),
        &user,
    ))
    .await;
    assert_eq!(status, 200);
    let entities: Vec<&str> = data
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["entity"].as_str())
        .collect();
    assert_eq!(entities, ["h1", "h2", "h3"]);
    assert_eq!(data[0]["results"][0]["value"], 7.25, "newest result first");
    assert_eq!(data[0]["results"][0]["captures"], json!({"load": 7.25}));
    assert_eq!(data[0]["active_alert_ids"], json!([loud]));
    assert_eq!(data[1]["results"], json!([]), "no stored result");
    assert_eq!(
        data[2]["active_alert_ids"],
        json!([]),
        "evaluated but not raised"
    );

    let (_, active) = send(app.request(Method::GET, "/api/v1/status/active-alerts/", &user)).await;
    assert_eq!(active.as_array().map(Vec::len), Some(2));
    let (_, filtered) = send(
        app.request(Method::GET, "/api/v1/status/active-alerts", &user)
            .query(&[("team", "platform/*"), ("tags", "prod,!shop")]),
    )
    .await;
    assert_eq!(filtered.as_array().map(Vec::len), Some(1), "{filtered}");
    let first = &filtered[0];
    assert_eq!(first["alert_definition"]["id"], loud);
    assert_eq!(first["alert_definition"]["editable"], true);
    assert_eq!(
        first["message"], "Load 7.2 on h1",
        "entities in downtime are left out of the title"
    );
    assert_eq!(first["notifications_ack"], true);
    assert_eq!(first["entities_count"], 2);
    let (_, none) = send(
        app.request(Method::GET, "/api/v1/status/active-alerts", &user)
            .query(&[("tags", "!load,!shop")]),
    )
    .await;
    assert_eq!(none, json!([]));

    // An inactive alert shows no entities, and unknown ids are a 404.
    let mut body: Value = send(app.request(
        Method::GET,
        &format!("/api/v1/alert-definitions/{loud}"),
        &user,
    ))
    .await
    .1;
    body["status"] = json!("INACTIVE");
    send(
        app.request(
            Method::PUT,
            &format!("/api/v1/alert-definitions/{loud}"),
            &user,
        )
        .json(&body),
    )
    .await;
    let (_, data) = send(app.request(
        Method::GET,
        &format!("/api/v1/status/alert/{loud}/all-entities"),
        &user,
    ))
    .await;
    assert_eq!(data, json!([]));
    let (status, _) = send(app.request(
        Method::GET,
        "/api/v1/status/alert/999999/all-entities",
        &user,
    ))
    .await;
    assert_eq!(status, 404);
    let (status, body) =
        send(app.request(Method::GET, "/api/v1/status/alert/12,abc/", &user)).await;
    assert_eq!(status, 400, "{body}");

    let (_, teams) = send(app.request(Method::GET, "/api/v1/teams", &user)).await;
    assert_eq!(teams, json!(["Platform/Software", "Shop", "platform"]));
}

#[tokio::test]
async fn redis_outage_is_a_503_and_loses_no_downtime() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|c: &mut ControllerConfig| c.redis_url = "redis://127.0.0.1:1".into()),
    })
    .await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    let (status, body) = send(app.request(Method::GET, "/ready", &Auth::None)).await;
    assert_eq!(status, 503);
    assert_eq!(body["database"], "ok");
    assert_ne!(body["redis"], "ok");
    let (status, body) = send(app.request(Method::GET, "/api/v1/status", &user)).await;
    assert_eq!(status, 503);
    assert!(message(&body).contains("Redis"));
    let (status, _) = send(
        app.request(Method::POST, "/api/v1/downtimes", &user)
            .json(&json!({"comment": "c", "end_time": app.now_secs() + 60, "entities": ["h1"]})),
    )
    .await;
    assert_eq!(status, 200, "the database is the source of truth");
    let (_, listed) = send(app.request(Method::GET, "/api/v1/downtimes", &user)).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let (status, _) = send(
        app.request(Method::PUT, "/api/v1/entities", &user)
            .json(&json!({"id": "h1", "type": "host"})),
    )
    .await;
    assert_eq!(status, 200, "definitions do not need Redis");
}
