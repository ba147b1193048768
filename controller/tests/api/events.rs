//! `/api/v2/events`: filters, newest first, keyset pages stable under
//! inserts, and clear 400s.

use reqwest::Method;
use serde_json::{Map, Value, json};
use zmon_core::Role;
use zmon_core::event::{AlertEvent, AlertEventKind};

use crate::checks::{check_body, create_check};
use crate::helpers::{TestApp, message, send};

fn event(alert_id: i64, entity: &str, ts: f64, kind: AlertEventKind) -> AlertEvent {
    AlertEvent {
        kind,
        alert_id,
        entity: entity.into(),
        ts,
        captures: Map::new(),
        value: json!(1),
        worker: "w1".into(),
        data: (kind == AlertEventKind::NotificationSent).then(|| json!({"expr": "send_slack()"})),
    }
}

#[tokio::test]
async fn events_page_newest_first_and_filter() {
    let app = TestApp::spawn().await;
    let user = app.create_user("alice", Role::User, &["db"]).await;
    let check = create_check(&app, &user, check_body("Disk", "db")).await;
    let (status, alert) = send(
        app.request(Method::POST, "/api/v1/alert-definitions", &user)
            .json(&json!({"name": "Disk full", "description": "d", "team": "db", "responsible_team": "db",
                "condition": "value > 90", "check_definition_id": check["id"], "priority": 2})),
    )
    .await;
    assert_eq!(status, 200, "{alert}");
    let db_alert = alert["id"].as_i64().expect("id");
    let other_alert = db_alert + 1000;
    use AlertEventKind::*;
    let batch: Vec<(String, AlertEvent)> = [
        event(db_alert, "h1", 100.0, AlertEntityStarted),
        event(db_alert, "h1", 101.0, NotificationSent),
        event(other_alert, "h2", 102.0, AlertEntityStarted),
        event(db_alert, "h1", 103.0, AlertEntityEnded),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, e)| (format!("s{i}"), e))
    .collect();
    app.store.append_alert_events(&batch).await.expect("events");

    let (status, first) = send(app.request(Method::GET, "/api/v2/events?limit=2", &user)).await;
    assert_eq!(status, 200, "{first}");
    let ts = |page: &Value| -> Vec<f64> {
        page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["ts"].as_f64())
            .collect()
    };
    assert_eq!(ts(&first), [103.0, 102.0], "newest first");
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    // An event arriving between pages does not shift the next page.
    app.store
        .append_alert_events(&[(
            "s9".into(),
            event(db_alert, "h3", 200.0, AlertEntityStarted),
        )])
        .await
        .expect("insert");
    let (_, second) = send(app.request(
        Method::GET,
        &format!("/api/v2/events?limit=2&cursor={cursor}"),
        &user,
    ))
    .await;
    assert_eq!(ts(&second), [101.0, 100.0]);
    let (_, third) = send(app.request(
        Method::GET,
        &format!(
            "/api/v2/events?limit=2&cursor={}",
            second["next_cursor"].as_str().unwrap_or_default()
        ),
        &user,
    ))
    .await;
    assert_eq!(third["items"], json!([]));
    assert_eq!(third["next_cursor"], Value::Null);

    let item = &second["items"][0];
    assert_eq!(item["type"], "NOTIFICATION_SENT");
    assert_eq!(item["alert_definition_id"], db_alert);
    assert_eq!(item["entity"], "h1");
    assert_eq!(item["actor"], "w1");
    assert_eq!(item["data"]["expr"], "send_slack()");
    assert!(item["id"].is_i64());

    for (query, expected) in [
        ("team=DB", vec![200.0, 103.0, 101.0, 100.0]),
        (
            "types=alert_entity_started,ALERT_ENTITY_ENDED&entity=h1",
            vec![103.0, 100.0],
        ),
        ("since=101&until=103", vec![102.0, 101.0]),
        (&format!("alert_definition_id={other_alert}"), vec![102.0]),
    ] {
        let (status, page) =
            send(app.request(Method::GET, &format!("/api/v2/events?{query}"), &user)).await;
        assert_eq!(status, 200, "{query}: {page}");
        assert_eq!(ts(&page), expected, "{query}");
    }
    let (_, by_alert) = send(app.request(
        Method::GET,
        &format!("/api/v2/alert-definitions/{db_alert}/events?types=NOTIFICATION_SENT"),
        &user,
    ))
    .await;
    assert_eq!(ts(&by_alert), [101.0]);

    for (query, expected) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("types=ALERT_EXPLODED", "unknown event type"),
        ("cursor=not-a-cursor", "cursor"),
        ("since=abc", ""),
    ] {
        let (status, reply) =
            send(app.request(Method::GET, &format!("/api/v2/events?{query}"), &user)).await;
        assert_eq!(status, 400, "{query}: {reply}");
        assert!(message(&reply).contains(expected), "{query}: {reply}");
    }
}
