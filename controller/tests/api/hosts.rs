//! Host registrations published by workers become host entities.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use zmon_controller::bus::Bus;
use zmon_core::Role;
use zmon_core::host::{HostFacts, HostRegistration};

use crate::helpers::{Auth, TestApp, send};

fn registration(mem_total: u64) -> HostRegistration {
    HostRegistration {
        id: "web-1".into(),
        queue: "host-web-1".into(),
        worker: "plocal.web-1".into(),
        facts: HostFacts {
            hostname: "Web-1".into(),
            os: "Linux".into(),
            platform: "debian".into(),
            platform_version: "12".into(),
            arch: "x86_64".into(),
            cpu_logical_cores: 4,
            mem_total,
            ipv4: vec!["10.0.0.7".into()],
            ..HostFacts::default()
        },
    }
}

/// Polls the entity until `accept` holds, for up to five seconds.
async fn wait_for_entity(app: &TestApp, auth: &Auth, accept: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = send(app.request(Method::GET, "/api/v1/entities/web-1", auth)).await;
        if status == 200 && accept(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "entity never matched; last {status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_registration_becomes_a_host_entity_and_keeps_what_people_added() {
    let app = TestApp::spawn_with_fast_host_sync().await;
    let admin = app.admin().await;
    let bus = app.bus();
    bus.register_host(&registration(8 << 30))
        .await
        .expect("register");

    let entity = wait_for_entity(&app, &admin, |e| e["type"] == "host").await;
    assert_eq!(
        entity["queue"], "host-web-1",
        "checks on it go to its worker"
    );
    assert_eq!(entity["host"], "Web-1");
    assert_eq!(entity["ip"], "10.0.0.7");
    assert_eq!(entity["mem_total"], json!(8u64 << 30));
    assert_eq!(entity["cpu_logical_cores"], 4);
    assert_eq!(entity["platform"], "debian");

    // People tag the host; the next registration must not undo it.
    let mut tagged = entity.clone();
    if let Some(map) = tagged.as_object_mut() {
        map.insert("team".into(), json!("platform"));
        map.remove("last_modified");
    }
    let (status, _) = send(
        app.request(Method::PUT, "/api/v1/entities", &admin)
            .json(&tagged),
    )
    .await;
    assert_eq!(status, 200);
    bus.register_host(&registration(16 << 30))
        .await
        .expect("register again");
    let entity = wait_for_entity(&app, &admin, |e| e["mem_total"] == json!(16u64 << 30)).await;
    assert_eq!(entity["team"], "platform", "a person's attribute survives");

    let viewer = app.create_user("vera", Role::Viewer, &[]).await;
    let (status, hosts) = send(app.request(
        Method::GET,
        "/api/v1/entities?query={\"type\":\"host\"}",
        &viewer,
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(hosts.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_registration_never_takes_over_an_entity_of_another_type() {
    let app = TestApp::spawn_with_fast_host_sync().await;
    let admin = app.admin().await;
    let (status, _) = send(
        app.request(Method::PUT, "/api/v1/entities", &admin)
            .json(&json!({"id": "web-1", "type": "instance", "owner": "people"})),
    )
    .await;
    assert_eq!(status, 200);
    let bus = app.bus();
    bus.register_host(&registration(1)).await.expect("register");
    // Another host registered after it is still synchronised.
    let mut other = registration(1);
    other.id = "web-2".into();
    bus.register_host(&other).await.expect("register");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _) = send(app.request(Method::GET, "/api/v1/entities/web-2", &admin)).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "web-2 never appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, web1) = send(app.request(Method::GET, "/api/v1/entities/web-1", &admin)).await;
    assert_eq!(web1["type"], "instance");
    assert_eq!(web1["owner"], "people");
}
