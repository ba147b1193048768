//! On-call groups: ZMON's v1 routes as the zmon-cli calls them, the v2
//! replace and delete, and who may write.

use reqwest::Method;
use serde_json::json;
use zmon_core::Role;

use crate::helpers::{TestApp, send, send_text};

#[tokio::test]
async fn the_cli_flows_work_and_removed_members_leave_the_rota() {
    let app = TestApp::spawn().await;
    let lead = app
        .create_user("ann@example.org", Role::User, &["db"])
        .await;
    let outsider = app.create_user("otto", Role::User, &["web"]).await;
    let viewer = app.create_user("vic", Role::Viewer, &["db"]).await;

    // zmon-cli sends trailing slashes and reads the integer reply.
    for (method, path, expected) in [
        (
            Method::PUT,
            "/api/v1/groups/db/member/ann@example.org/",
            "1",
        ),
        (
            Method::PUT,
            "/api/v1/groups/db/member/ann@example.org/",
            "0",
        ),
        (
            Method::PUT,
            "/api/v1/groups/db/member/bob@example.org/",
            "1",
        ),
        (
            Method::PUT,
            "/api/v1/groups/db/active/carl@example.org/",
            "-1",
        ),
        (Method::DELETE, "/api/v1/groups/db/active/", "0"),
        (
            Method::PUT,
            "/api/v1/groups/db/active/bob@example.org/",
            "1",
        ),
        (
            Method::PUT,
            "/api/v1/groups/ann@example.org/phone/+491701234/",
            "1",
        ),
        (Method::PUT, "/api/v1/groups/ann@example.org/name/Ann/", "1"),
    ] {
        let (status, body) = send_text(app.request(method.clone(), path, &lead)).await;
        assert_eq!(
            (status.as_u16(), body.as_str()),
            (200, expected),
            "{method} {path}"
        );
    }
    let (status, groups) = send(app.request(Method::GET, "/api/v1/groups/", &viewer)).await;
    assert_eq!(status, 200);
    assert_eq!(
        groups,
        json!([{"id": "db", "name": "db", "members": ["ann@example.org", "bob@example.org"],
            "active": ["bob@example.org"]}])
    );
    let (_, member) = send(app.request(
        Method::GET,
        "/api/v1/groups/member/ann@example.org/",
        &viewer,
    ))
    .await;
    assert_eq!(
        member,
        json!({"id": "ann@example.org", "email": "ann@example.org", "name": "Ann", "phones": ["+491701234"]})
    );

    // Writes need the group's team (or admin); phones need the member.
    for (auth, path) in [
        (&outsider, "/api/v1/groups/db/member/otto@example.org/"),
        (&viewer, "/api/v1/groups/db/member/vic@example.org/"),
        (&outsider, "/api/v1/groups/ann@example.org/phone/+49999/"),
    ] {
        let (status, _) = send(app.request(Method::PUT, path, auth)).await;
        assert_eq!(status, 403, "{path}");
    }
    let admin = app.admin().await;
    let (status, _) = send(app.request(
        Method::PUT,
        "/api/v1/groups/db/member/dora@example.org/",
        &admin,
    ))
    .await;
    assert_eq!(status, 200, "admins may");

    let (status, _) = send(app.request(
        Method::DELETE,
        "/api/v1/groups/db/member/bob@example.org/",
        &lead,
    ))
    .await;
    assert_eq!(status, 200);
    let (_, groups) = send(app.request(Method::GET, "/api/v1/groups", &viewer)).await;
    assert_eq!(
        groups[0]["active"],
        json!([]),
        "a removed member is off call"
    );
}

#[tokio::test]
async fn a_group_is_replaced_and_deleted_in_one_call() {
    let app = TestApp::spawn().await;
    let lead = app
        .create_user("ann@example.org", Role::User, &["db"])
        .await;
    let body = json!({"name": "Database on-call",
        "members": [{"id": "ann@example.org", "name": "Ann", "phones": ["+491"]},
                    {"id": "bob@example.org", "phones": []}],
        "active": ["ann@example.org"]});
    let (status, group) = send(
        app.request(Method::PUT, "/api/v2/groups/db", &lead)
            .json(&body),
    )
    .await;
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["name"], "Database on-call");
    assert_eq!(group["active"], json!(["ann@example.org"]));
    let (status, reply) = send(
        app.request(Method::PUT, "/api/v2/groups/db", &lead)
            .json(&json!({"members": [], "active": ["zed@example.org"]})),
    )
    .await;
    assert_eq!(status, 400, "{reply}");
    let (status, _) = send(
        app.request(Method::PUT, "/api/v2/groups/db", &lead)
            .json(&json!({"nme": "x"})),
    )
    .await;
    assert_eq!(status, 400, "typos are refused");
    let (_, groups) = send(app.request(Method::GET, "/api/v1/groups", &lead)).await;
    assert_eq!(
        groups[0]["members"],
        json!(["ann@example.org", "bob@example.org"]),
        "unchanged by the refusals"
    );
    let (status, _) = send(app.request(Method::DELETE, "/api/v2/groups/db", &lead)).await;
    assert_eq!(status, 204);
    let (status, _) = send(app.request(Method::DELETE, "/api/v2/groups/db", &lead)).await;
    assert_eq!(status, 404);
}
