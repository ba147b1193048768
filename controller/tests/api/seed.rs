//! Every example of the ZMON REST documentation (`reference/seeds/zmon-rest-api.txt`),
//! with its exact request body, answers with the documented status and fields.
//! The controller's clock is set to the moment each example was recorded.

use reqwest::Method;
use serde_json::{Value, json};
use zmon_core::Role;

use crate::helpers::{Auth, TestApp, eventually, send, send_text};

const HJACOBS: (&str, &str) = ("hjacobs", "test");

const ALERT_CREATE_BODY: &str = r#"{"name": "City Longitude >0", "description": "Test whether a city lies east or west", "team": "Platform/Software", "responsible_team": "Platform/Software", "entities": [{"type": "city"}], "entities_exclude": [], "condition": "capture(longitude=float(value)) > longitude_param", "notifications": [], "check_definition_id": 20, "status": "ACTIVE", "priority": 2, "period": "", "template": false, "parameters": {"longitude_param": {"comment": "Longitude parameter","type": "float", "value": 0}}, "tags": ["CITY"]}"#;

const ALERT_CREATE_RESPONSE: &str = r#"{"id":788,"name":"City Longitude >0","description":"Test whether a city lies east or west",
"team":"Platform/Software","responsible_team":"Platform/Software","entities":[{"type":"city"}],
"entities_exclude":[],"condition":"capture(longitude=float(value)) > longitude_param","notifications":[],
"check_definition_id":20,"status":"ACTIVE","priority":2,"last_modified":1409076149956,"last_modified_by":"hjacobs",
"period":"","template":false,"parent_id":null,
"parameters":{"longitude_param":{"value":0,"comment":"Longitude parameter","type":"float"}},"tags":["CITY"]}"#;

const ALERT_UPDATE_BODY: &str = r#"{"name": "City Longitude >0", "description": "Checks whether a city lies east or west", "team": "Platform/Software", "responsible_team": "Platform/Software", "entities": [{"type": "city"}], "entities_exclude": [], "condition": "capture(longitude=float(value)) > longitude_param", "notifications": [], "check_definition_id": 20, "status": "ACTIVE", "priority": 2, "period": "", "template": false, "parameters": {"longitude_param": {"comment": "Longitude parameter","type": "float", "value": 0}}, "tags": ["CITY"]}"#;

const ALERT_UPDATE_RESPONSE: &str = r#"{"id":788,"name":"City Longitude >0","description":"Checks whether a city lies east or west",
"team":"Platform/Software","responsible_team":"Platform/Software","entities":[{"type":"city"}],
"entities_exclude":[],"condition":"capture(longitude=float(value)) > longitude_param","notifications":[],
"check_definition_id":20,"status":"ACTIVE","priority":2,"last_modified":1409078820694,"last_modified_by":"hjacobs",
"period":"","template":false,"parent_id":null,
"parameters":{"longitude_param":{"value":0,"comment":"Longitude parameter","type":"float"}},"tags":["CITY"]}"#;

const DOWNTIME_BODY: &str = r#"{"comment":"Cities downtime","end_time":1408665600,"entities":["cd-kinshasa", "cn-peking"]}"#;

const STATUS_RESPONSE: &str = r#"{"69":{"itr-elsn02:5827":{"td":0.013866,"downtimes":[],"captures":{"count":1},"start_time":1.416391418749185E9,"worker":"p3426.itr-monitor01","ts":1.4164876292204E9,"value":1},"elsn03:5827":{"td":0.015576,"downtimes":[],"captures":{"count":8},"start_time":1.416391397741839E9,"worker":"p3426.monitor02","ts":1.416487629218565E9,"value":8},"elsn02:5827":{"td":0.024973,"downtimes":[],"captures":{"count":9},"start_time":1.416330457394862E9,"worker":"p3426.itr-monitor01","ts":1.416487629223615E9,"value":9},"itr-elsn03:5827":{"td":0.020491,"downtimes":[],"captures":{"count":1},"start_time":1.416255229204794E9,"worker":"p3426.itr-monitor01","ts":1.41648762923005E9,"value":1},"elsn01:5827":{"td":0.019912,"downtimes":[],"captures":{"count":8},"start_time":1.416391418966269E9,"worker":"p3426.monitor03","ts":1.416487629216758E9,"value":8},"itr-elsn01:5827":{"td":0.015741,"downtimes":[],"captures":{"count":2},"start_time":1.416391429438217E9,"worker":"p3426.itr-monitor01","ts":1.416487629224237E9,"value":2}},"3454":{"monitor02":{"td":0.027714,"downtimes":[],"captures":{},"start_time":1.414754929626809E9,"worker":"p3426.monitor02","ts":1.416487578812573E9,"value":{"load1":8.71,"load15":9.73,"load5":10.22}},"monitor03":{"td":0.028951,"downtimes":[],"captures":{},"start_time":1.41475492971822E9,"worker":"p3426.monitor02","ts":1.41648757881069E9,"value":{"load1":9.25,"load15":11.17,"load5":10.9}}}}"#;

fn hjacobs() -> Auth {
    Auth::Basic(HJACOBS.0.into(), HJACOBS.1.into())
}

/// The documentation's world: user hjacobs, check 20 on cities, two cities.
async fn seeded_app() -> TestApp {
    let app = TestApp::spawn().await;
    app.create_user_with_password(HJACOBS.0, HJACOBS.1, Role::User, &["Platform/Software"])
        .await;
    let check = json!({"id": 20, "name": "City longitude", "owning_team": "Platform/Software",
        "command": "entity.longitude", "interval": 60, "entities": [{"type": "city"}]});
    let (status, body) = send(
        app.request(Method::POST, "/api/v1/check-definitions", &hjacobs())
            .json(&check),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], 20);
    for (id, longitude) in [("cd-kinshasa", 15.3), ("cn-peking", 116.4)] {
        let entity = json!({"id": id, "type": "city", "longitude": longitude});
        let (status, _) = send(
            app.request(Method::PUT, "/api/v1/entities", &hjacobs())
                .json(&entity),
        )
        .await;
        assert_eq!(status, 200);
    }
    app
}

fn with_id(doc: &str, id: &Value) -> Value {
    let mut expected: Value = serde_json::from_str(doc).expect("seed JSON");
    expected["id"] = id.clone();
    expected
}

/// Posts the documented body as curl sends it (`--data-binary`, JSON content type).
async fn post_seed_alert(app: &TestApp) -> Value {
    app.set_time_millis(1_409_076_149_956);
    let (status, body) = send(
        app.request(Method::POST, "/api/v1/alert-definitions", &hjacobs())
            .header("Content-Type", "application/json")
            .body(ALERT_CREATE_BODY),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn creating_an_alert_definition_answers_the_documented_body() {
    let app = seeded_app().await;
    let body = post_seed_alert(&app).await;
    assert!(body["id"].as_i64().is_some_and(|id| id > 0));
    assert_eq!(body, with_id(ALERT_CREATE_RESPONSE, &body["id"]));
}

#[tokio::test]
async fn updating_and_reading_an_alert_definition_answer_the_documented_bodies() {
    let app = seeded_app().await;
    let id = post_seed_alert(&app).await["id"].clone();
    app.set_time_millis(1_409_078_820_694);
    let (status, body) = send(
        app.request(
            Method::PUT,
            &format!("/api/v1/alert-definitions/{id}"),
            &hjacobs(),
        )
        .header("Content-Type", "application/json")
        .body(ALERT_UPDATE_BODY),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, with_id(ALERT_UPDATE_RESPONSE, &id));

    let (status, body) = send(app.request(
        Method::GET,
        &format!("/api/v1/alert-definitions/{id}"),
        &hjacobs(),
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, with_id(ALERT_UPDATE_RESPONSE, &id));

    let (status, body) =
        send(app.request(Method::GET, "/api/v1/alert-definitions/999999", &hjacobs())).await;
    assert_eq!(status, 404);
    assert!(body["message"].is_string());
    let (status, _) = send(
        app.request(Method::PUT, "/api/v1/alert-definitions/999999", &hjacobs())
            .body(ALERT_UPDATE_BODY),
    )
    .await;
    assert_eq!(
        status, 404,
        "updating a missing definition is a 404 as documented"
    );
}

#[tokio::test]
async fn scheduling_and_deleting_a_downtime_answer_the_documented_bodies() {
    let app = seeded_app().await;
    let alert_id = post_seed_alert(&app).await["id"].clone();
    // The documentation's request ran at 2014-08-21T14:26:02Z.
    app.set_time_millis(1_408_631_162_000);
    let (status, group) = send(
        app.request(Method::POST, "/api/v1/downtimes", &hjacobs())
            .header("Content-Type", "application/json")
            .body(DOWNTIME_BODY),
    )
    .await;
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["comment"], "Cities downtime");
    assert_eq!(group["start_time"], 1_408_631_162);
    assert_eq!(group["end_time"], 1_408_665_600);
    assert_eq!(group["created_by"], "hjacobs");
    assert!(uuid::Uuid::parse_str(group["id"].as_str().unwrap_or_default()).is_ok());
    let mut entities: Vec<String> =
        serde_json::from_value(group["entities"].clone()).expect("entities");
    entities.sort();
    assert_eq!(entities, ["cd-kinshasa", "cn-peking"]);
    assert_eq!(group["alert_definitions"], json!([alert_id]));

    // Workers see it in the Redis mirror.
    let id = group["id"].as_str().unwrap_or_default().to_string();
    let key = app
        .keys
        .downtimes(alert_id.as_i64().unwrap_or_default(), "cn-peking");
    let conn = app.redis.clone();
    let mirrored: Value = eventually(std::time::Duration::from_secs(5), || {
        let key = key.clone();
        let mut conn = conn.clone();
        async move {
            let hash: std::collections::HashMap<String, String> =
                redis::AsyncCommands::hgetall(&mut conn, &key).await.ok()?;
            hash.values()
                .next()
                .and_then(|v| serde_json::from_str(v).ok())
        }
    })
    .await;
    assert_eq!(mirrored["group_id"], id.as_str());
    assert_eq!(mirrored["entity"], "cn-peking");

    let (status, deleted) = send(app.request(
        Method::DELETE,
        &format!("/api/v1/downtimes/{id}"),
        &hjacobs(),
    ))
    .await;
    assert_eq!(status, 200);
    for field in [
        "comment",
        "start_time",
        "end_time",
        "created_by",
        "id",
        "entities",
        "alert_definitions",
    ] {
        assert_eq!(deleted[field], group[field], "{field}");
    }
    // The mirror forgets it (at once, or at the latest at the next sync).
    eventually(std::time::Duration::from_secs(5), || {
        let key = key.clone();
        let mut conn = conn.clone();
        async move {
            let hash: std::collections::HashMap<String, String> =
                redis::AsyncCommands::hgetall(&mut conn, &key).await.ok()?;
            hash.is_empty().then_some(())
        }
    })
    .await;

    // The documentation's own id does not exist here: success, nothing covered.
    let (status, body) = send(app.request(
        Method::DELETE,
        "/api/v1/downtimes/cf6ada50-3eb2-4c17-8d09-4eb03dc19cf5",
        &hjacobs(),
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], "cf6ada50-3eb2-4c17-8d09-4eb03dc19cf5");
    assert_eq!(body["entities"], json!([]));
    assert_eq!(body["alert_definitions"], json!([]));
}

#[tokio::test]
async fn alert_status_answers_the_documented_body_from_redis() {
    let app = seeded_app().await;
    let expected: Value = serde_json::from_str(STATUS_RESPONSE).expect("seed JSON");
    for (alert, entities) in expected.as_object().expect("object") {
        let alert: i64 = alert.parse().expect("id");
        for (entity, state) in entities.as_object().expect("object") {
            app.redis_sadd(&app.keys.alert_raised_entities(alert), entity)
                .await;
            app.redis_set(&app.keys.alert_state(alert, entity), &state.to_string())
                .await;
        }
    }
    // As documented: with the trailing slash.
    let (status, body) =
        send(app.request(Method::GET, "/api/v1/status/alert/69,3454/", &hjacobs())).await;
    assert_eq!(status, 200);
    assert_eq!(body, expected);
    // And without it.
    let (status, body) =
        send(app.request(Method::GET, "/api/v1/status/alert/69,3454", &hjacobs())).await;
    assert_eq!(status, 200);
    assert_eq!(body, expected);
}

#[tokio::test]
async fn authentication_failures_answer_the_documented_bodies_byte_for_byte() {
    let app = seeded_app().await;
    let resp = app
        .request(Method::POST, "/api/v1/downtimes", &Auth::None)
        .body(DOWNTIME_BODY)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/json")
    );
    assert_eq!(
        resp.text().await.expect("body"),
        r#"{"message":"Full authentication is required to access this resource"}"#
    );

    let (status, text) = send_text(
        app.request(
            Method::POST,
            "/api/v1/downtimes",
            &Auth::Basic("hjacobs".into(), "wrong".into()),
        )
        .body(DOWNTIME_BODY),
    )
    .await;
    assert_eq!(
        (status.as_u16(), text.as_str()),
        (401, r#"{"message":"Bad credentials"}"#)
    );
    assert_eq!(text.len(), 29, "Content-Length 29 as documented");

    let viewer = app
        .create_user("viewer", Role::Viewer, &["Platform/Software"])
        .await;
    let (status, text) = send_text(
        app.request(Method::POST, "/api/v1/downtimes", &viewer)
            .body(DOWNTIME_BODY),
    )
    .await;
    assert_eq!(
        (status.as_u16(), text.as_str()),
        (403, r#"{"message":"Access is denied"}"#)
    );
    assert_eq!(text.len(), 30, "Content-Length 30 as documented");
}
