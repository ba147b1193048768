//! Alert definitions: inheritance, templates, completeness and the tree.

use reqwest::Method;
use serde_json::{Value, json};
use zmon_controller::store::AuditKind;
use zmon_core::Role;

use crate::checks::{check_body, create_check};
use crate::helpers::{Auth, TestApp, message, send};

async fn post(app: &TestApp, auth: &Auth, body: Value) -> (reqwest::StatusCode, Value) {
    send(
        app.request(Method::POST, "/api/v1/alert-definitions", auth)
            .json(&body),
    )
    .await
}

async fn setup() -> (TestApp, Auth, i64) {
    let app = TestApp::spawn().await;
    let user = app.create_user("alice", Role::User, &["platform"]).await;
    let check = create_check(&app, &user, check_body("Load", "platform")).await;
    let id = check["id"].as_i64().expect("id");
    (app, user, id)
}

#[tokio::test]
async fn children_inherit_and_parameters_merge_per_key() {
    let (app, user, check_id) = setup().await;
    let parent = json!({"name": "Load high", "description": "load", "team": "platform", "responsible_team": "platform",
        "condition": "value > p1", "check_definition_id": check_id, "priority": 2, "template": true,
        "entities": [{"type": "host"}], "tags": ["load"], "notifications": ["send_mail('a@b.c')"],
        "parameters": {"p0": {"value": 0, "type": "int"}, "p1": {"value": 1, "type": "int", "comment": "parent"}}});
    let (status, parent) = post(&app, &user, parent).await;
    assert_eq!(status, 200, "{parent}");
    let child = json!({"team": "platform/db", "responsible_team": "platform/db", "parent_id": parent["id"],
        "priority": 1, "parameters": {"p1": {"value": 10, "type": "int"}, "p2": {"value": "x", "type": "str"}}});
    let (status, stored) = post(&app, &user, child).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(
        stored["condition"],
        Value::Null,
        "the node stores only its overrides"
    );

    let (status, merged) = send(app.request(
        Method::GET,
        &format!("/api/v1/alert-definitions/{}", stored["id"]),
        &user,
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        merged["parameters"],
        json!({
        "p0": {"value": 0, "comment": null, "type": "int"},
        "p1": {"value": 10, "comment": null, "type": "int"},
        "p2": {"value": "x", "comment": null, "type": "str"}})
    );
    assert_eq!(merged["condition"], "value > p1");
    assert_eq!(merged["name"], "Load high");
    assert_eq!(merged["check_definition_id"], check_id);
    assert_eq!(merged["priority"], 1, "own value wins");
    assert_eq!(merged["tags"], json!(["load"]));
    assert_eq!(merged["team"], "platform/db", "team is never inherited");
    assert_eq!(merged["template"], false);
    assert_eq!(merged["parent_id"], parent["id"]);

    let (_, children) = send(app.request(
        Method::GET,
        &format!("/api/v1/alert-definitions/{}/children/", parent["id"]),
        &user,
    ))
    .await;
    assert_eq!(children.as_array().map(Vec::len), Some(1));
    assert_eq!(children[0]["id"], stored["id"]);
    assert_eq!(children[0]["condition"], "value > p1");

    // The scheduler sees the child, merged, and never the template.
    let (_, active) = send(app.request(
        Method::GET,
        "/api/v1/checks/all-active-alert-definitions/",
        &user,
    ))
    .await;
    let ids: Vec<&Value> = active["alert_definitions"]
        .as_array()
        .expect("list")
        .iter()
        .map(|a| &a["id"])
        .collect();
    assert_eq!(ids, [&stored["id"]]);
    assert_eq!(
        active["alert_definitions"][0]["parameters"]["p0"]["value"],
        0
    );
}

#[tokio::test]
async fn completeness_rules_for_templates_and_definitions() {
    let (app, user, check_id) = setup().await;
    let (status, template) = post(
        &app,
        &user,
        json!({"team": "platform", "template": true, "condition": ">5"}),
    )
    .await;
    assert_eq!(status, 200, "an incomplete template is fine: {template}");
    let (status, body) = post(
        &app,
        &user,
        json!({"team": "platform", "name": "x", "description": "d",
        "check_definition_id": check_id, "priority": 1}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "condition is mandatory");
    let (status, body) = post(
        &app,
        &user,
        json!({"team": "platform", "parent_id": template["id"], "name": "x"}),
    )
    .await;
    assert_eq!(status, 400, "still incomplete after inheriting: {body}");
    assert_eq!(body["message"], "check_definition_id is mandatory");
    let (status, child) = post(
        &app,
        &user,
        json!({"team": "platform", "parent_id": template["id"], "name": "x",
        "description": "d", "check_definition_id": check_id, "priority": 3}),
    )
    .await;
    assert_eq!(status, 200, "a child of a template completes it: {child}");

    let (status, body) = send(app.request(
        Method::DELETE,
        &format!("/api/v1/alert-definitions/{}", template["id"]),
        &user,
    ))
    .await;
    assert_eq!(status, 400, "a parent with children cannot go: {body}");
    assert!(message(&body).contains(&child["id"].to_string()));

    // An update that would leave the child incomplete is refused.
    let (status, body) = send(
        app.request(
            Method::PUT,
            &format!("/api/v1/alert-definitions/{}", template["id"]),
            &user,
        )
        .json(&json!({"team": "platform", "template": true})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        format!(
            "Update breaks the following alert definitions: {}",
            child["id"]
        )
    );

    let (status, body) = post(
        &app,
        &user,
        json!({"team": "platform", "parent_id": 987654, "template": true}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(message(&body).starts_with("parent_id"), "{body}");
    let (status, body) = post(
        &app,
        &user,
        json!({"team": "platform", "name": "x", "description": "d",
        "check_definition_id": 987654, "priority": 1, "condition": ">1"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(message(&body).starts_with("check_definition_id"), "{body}");
    let (status, body) = post(
        &app,
        &user,
        json!({"team": "platform", "name": "x", "description": "d",
        "check_definition_id": check_id, "priority": 1, "condition": "value > (1"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(message(&body).starts_with("condition"), "{body}");

    // Delete child, then parent.
    for id in [&child["id"], &template["id"]] {
        let (status, deleted) = send(app.request(
            Method::DELETE,
            &format!("/api/v1/alert-definitions/{id}/"),
            &user,
        ))
        .await;
        assert_eq!((status.as_u16(), &deleted["id"]), (200, id));
    }
    let (status, _) = send(app.request(
        Method::GET,
        &format!("/api/v1/alert-definitions/{}", template["id"]),
        &user,
    ))
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn updates_never_move_a_definition_in_the_tree() {
    let (app, user, check_id) = setup().await;
    let other_check = create_check(&app, &user, check_body("Other", "platform")).await;
    let body = json!({"name": "x", "description": "d", "team": "platform", "condition": ">1",
        "check_definition_id": check_id, "priority": 1});
    let (_, parent) = post(&app, &user, body.clone()).await;
    let (_, alert) = post(&app, &user, body.clone()).await;
    let mut change = body;
    change["check_definition_id"] = other_check["id"].clone();
    change["parent_id"] = parent["id"].clone();
    change["description"] = json!("changed");
    let (status, updated) = send(
        app.request(
            Method::PUT,
            &format!("/api/v1/alert-definitions/{}/", alert["id"]),
            &user,
        )
        .json(&change),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["check_definition_id"], check_id);
    assert_eq!(updated["parent_id"], Value::Null);
    assert_eq!(updated["description"], "changed");

    let trail = app
        .store
        .audit_trail(AuditKind::AlertDefinition, &alert["id"].to_string())
        .await
        .expect("audit");
    assert_eq!(trail.len(), 2);
    assert_eq!(
        trail[1].before.as_ref().map(|b| b["description"].clone()),
        Some(json!("d"))
    );
    assert_eq!(
        trail[1].after.as_ref().map(|a| a["description"].clone()),
        Some(json!("changed"))
    );
    assert_eq!(trail[1].actor, "alice");

    let (status, body) = send(
        app.request(
            Method::PUT,
            &format!("/api/v1/alert-definitions/{}", alert["id"]),
            &user,
        )
        .json(&json!({"id": 1, "team": "platform"})),
    )
    .await;
    assert_eq!(status, 400, "body id must match the path: {body}");
}

#[tokio::test]
async fn conditions_periods_and_commands_are_compiled_on_save() {
    let (app, user, check_id) = setup().await;
    let base = json!({"name": "x", "description": "d", "team": "platform", "check_definition_id": check_id, "priority": 1});
    let with = |field: &str, value: Value| {
        let mut b = base.clone();
        b[field] = value;
        if field != "condition" {
            b["condition"] = json!(">1");
        }
        b
    };
    for (field, value, expected) in [
        (
            "condition",
            json!("value > > 1"),
            "condition is not valid (Python subset) at column 9",
        ),
        (
            "condition",
            json!("[x for x in value]"),
            "condition is not valid",
        ),
        (
            "condition",
            json!("value > 3 &&"),
            "condition is not valid Rhai",
        ),
        (
            "period",
            json!("wd {Mon-Fri} hr {25}"),
            "period: '25' is not a valid hr value",
        ),
        (
            "period",
            json!("weekday {Mon}"),
            "period: unknown scale 'weekday'",
        ),
    ] {
        let (status, body) = post(&app, &user, with(field, value.clone())).await;
        assert_eq!(status, 400, "{field} {value}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(expected), "{message}");
    }
    for (field, value) in [
        ("condition", json!("value > 3 && value < 5")),
        ("condition", json!("alert_series(lambda v: v > 3, 5)")),
        ("period", json!("wd {Mon-Fri} hr {9-17}")),
    ] {
        let (status, body) = post(&app, &user, with(field, value)).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = send(
        app.request(Method::POST, "/api/v1/check-definitions", &user)
            .json(&json!({
        "name": "broken", "owning_team": "platform", "interval": 60, "entities": [{"type": "host"}],
        "command": "http('/health', timeout=5).code() +"})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(message(&body).starts_with("command is not valid"), "{body}");
}

#[tokio::test]
async fn notifications_are_parsed_on_save() {
    let (app, user, check_id) = setup().await;
    let body = |notifications: Value| {
        json!({"name": "Load", "description": "load", "team": "platform", "responsible_team": "platform",
            "condition": "value > 1", "check_definition_id": check_id, "priority": 2,
            "notifications": notifications})
    };
    for notifications in [
        json!([]),
        json!([
            "send_mail('team@example.org', repeat=5*60)",
            "send_slack(channel='#ops')",
            "notify_pagerduty(routing_key='k', per_entity=True)",
            "send_sms('active:db-oncall')",
            "notify_http('https://hooks.example.org/x')",
            "notify_opsgenie(teams=['db'])"
        ]),
    ] {
        let (status, stored) = post(&app, &user, body(notifications.clone())).await;
        assert_eq!(status, 200, "{notifications}: {stored}");
        assert_eq!(stored["notifications"], notifications, "stored as written");
    }
    for (entry, expected) in [
        (
            "send_mail('a@b.c', colour='red')",
            "notifications[1]: send_mail() got an unexpected keyword argument 'colour'",
        ),
        (
            "send_fax('123')",
            "notifications[1]: unknown notification function 'send_fax'",
        ),
        ("send_mail('a@b.c'", "notifications[1] has an unclosed"),
    ] {
        let (status, reply) = post(&app, &user, body(json!(["send_mail('ok@b.c')", entry]))).await;
        assert_eq!(status, 400, "{entry}: {reply}");
        assert!(message(&reply).starts_with(expected), "{entry}: {reply}");
    }
}
