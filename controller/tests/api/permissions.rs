//! ZMON's permission matrix over HTTP: one allowed and one denied case per
//! row, and the read-only roles.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use zmon_core::Role;

use crate::checks::{check_body, create_check};
use crate::helpers::{Auth, TestApp, message, send};

const SW: &str = "Platform/Software";
const SYS: &str = "Platform/System";

struct World {
    app: TestApp,
    admin: Auth,
    check_id: Value,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let check = create_check(&app, &admin, check_body("c", SW)).await;
    World {
        check_id: check["id"].clone(),
        app,
        admin,
    }
}

impl World {
    fn alert(&self, team: &str, responsible: &str, status: &str) -> Value {
        json!({"name": "a", "description": "d", "team": team, "responsible_team": responsible,
               "condition": ">1", "check_definition_id": self.check_id, "priority": 1, "status": status})
    }

    async fn create(&self, auth: &Auth, body: &Value) -> (StatusCode, Value) {
        send(
            self.app
                .request(Method::POST, "/api/v1/alert-definitions", auth)
                .json(body),
        )
        .await
    }

    async fn create_as_admin(&self, team: &str, responsible: &str, status: &str) -> Value {
        let (status, body) = self
            .create(&self.admin, &self.alert(team, responsible, status))
            .await;
        assert_eq!(status, 200);
        body["id"].clone()
    }

    async fn update(&self, auth: &Auth, id: &Value, body: &Value) -> StatusCode {
        send(
            self.app
                .request(
                    Method::PUT,
                    &format!("/api/v1/alert-definitions/{id}"),
                    auth,
                )
                .json(body),
        )
        .await
        .0
    }

    async fn delete(&self, auth: &Auth, id: &Value) -> StatusCode {
        send(self.app.request(
            Method::DELETE,
            &format!("/api/v1/alert-definitions/{id}"),
            auth,
        ))
        .await
        .0
    }
}

#[tokio::test]
async fn create_row() {
    let w = world().await;
    let team = w
        .app
        .create_user("team", Role::User, &["platform/software"])
        .await;
    let resp = w.app.create_user("resp", Role::User, &[SYS]).await;
    assert_eq!(
        w.create(&team, &w.alert(SW, SYS, "ACTIVE")).await.0,
        200,
        "team member, case-insensitive"
    );
    assert_eq!(
        w.create(&resp, &w.alert(SW, SYS, "INACTIVE")).await.0,
        200,
        "responsible team, INACTIVE"
    );
    let (status, body) = w.create(&resp, &w.alert(SW, SYS, "ACTIVE")).await;
    assert_eq!(status, 403, "responsible team may not create it ACTIVE");
    assert!(message(&body).starts_with("Access is denied"));
    assert_eq!(
        w.create(&team, &w.alert("Shop", "Shop", "ACTIVE")).await.0,
        403
    );
}

#[tokio::test]
async fn edit_and_update_rows() {
    let w = world().await;
    let team = w.app.create_user("team", Role::User, &["Platform"]).await;
    let resp = w.app.create_user("resp", Role::User, &[SYS]).await;
    let lead = w.app.create_user("lead", Role::Lead, &[SYS]).await;
    let active = w.create_as_admin(SW, SYS, "ACTIVE").await;
    let inactive = w.create_as_admin(SW, SYS, "INACTIVE").await;
    let rejected = w.create_as_admin(SW, SYS, "REJECTED").await;

    assert_eq!(
        w.update(&team, &active, &w.alert(SW, SYS, "ACTIVE")).await,
        200,
        "prefix team member edits"
    );
    assert_eq!(
        w.update(&resp, &active, &w.alert(SW, SYS, "ACTIVE")).await,
        403,
        "USER of responsible team, ACTIVE"
    );
    assert_eq!(
        w.update(&lead, &active, &w.alert(SW, SYS, "ACTIVE")).await,
        200,
        "LEAD of responsible team"
    );
    assert_eq!(
        w.update(&resp, &inactive, &w.alert(SW, SYS, "INACTIVE"))
            .await,
        200
    );
    assert_eq!(
        w.update(&resp, &inactive, &w.alert(SW, SYS, "ACTIVE"))
            .await,
        403,
        "may not activate"
    );
    assert_eq!(
        w.update(&resp, &rejected, &w.alert(SW, SYS, "INACTIVE"))
            .await,
        200,
        "REJECTED to INACTIVE"
    );
    let shop_only = w.app.create_user("shop", Role::User, &["Shop"]).await;
    assert_eq!(
        w.update(&shop_only, &active, &w.alert("Shop", "Shop", "ACTIVE"))
            .await,
        403
    );
    let sw_only = w.app.create_user("sw", Role::User, &[SW]).await;
    assert_eq!(
        w.update(&sw_only, &active, &w.alert("Shop", "Shop", "ACTIVE"))
            .await,
        403,
        "may not give it away"
    );
}

#[tokio::test]
async fn delete_row() {
    let w = world().await;
    let team = w.app.create_user("team", Role::User, &[SW]).await;
    let resp = w.app.create_user("resp", Role::User, &[SYS]).await;
    let lead = w.app.create_user("lead", Role::Lead, &[SYS]).await;
    let a = w.create_as_admin(SW, SYS, "INACTIVE").await;
    let b = w.create_as_admin(SW, SYS, "ACTIVE").await;
    let c = w.create_as_admin(SW, SYS, "ACTIVE").await;
    assert_eq!(
        w.delete(&resp, &a).await,
        403,
        "USER needs the team, not the responsible team"
    );
    assert_eq!(w.delete(&team, &a).await, 200);
    assert_eq!(w.delete(&lead, &b).await, 200, "LEAD follows its edit rule");
    let other_lead = w.app.create_user("lead2", Role::Lead, &["Shop"]).await;
    assert_eq!(w.delete(&other_lead, &c).await, 403);
}

#[tokio::test]
async fn read_only_roles_write_nothing_and_api_writer_writes() {
    let w = world().await;
    let viewer = w.app.create_user("viewer", Role::Viewer, &[SW]).await;
    let reader = w.app.create_user("reader", Role::ApiReader, &[SW]).await;
    let writer = w.app.create_user("writer", Role::ApiWriter, &[SW]).await;
    let id = w.create_as_admin(SW, SW, "ACTIVE").await;
    let downtime = json!({"comment": "c", "end_time": w.app.now_secs() + 600, "entities": ["h1"]});
    for auth in [&viewer, &reader] {
        let denied = [
            w.app
                .request(Method::PUT, "/api/v1/entities", auth)
                .json(&json!({"id": "h1", "type": "host"})),
            w.app
                .request(Method::POST, "/api/v1/check-definitions", auth)
                .json(&check_body("x", SW)),
            w.app
                .request(Method::POST, "/api/v1/alert-definitions", auth)
                .json(&w.alert(SW, SW, "ACTIVE")),
            w.app.request(
                Method::DELETE,
                &format!("/api/v1/alert-definitions/{id}"),
                auth,
            ),
            w.app
                .request(Method::POST, "/api/v1/downtimes", auth)
                .json(&downtime),
        ];
        for req in denied {
            let (status, body) = send(req).await;
            assert_eq!(
                (status.as_u16(), body),
                (403, json!({"message": "Access is denied"}))
            );
        }
        let (status, _) = send(w.app.request(
            Method::GET,
            &format!("/api/v1/alert-definitions/{id}"),
            auth,
        ))
        .await;
        assert_eq!(status, 200, "reading is fine");
    }
    let (status, body) = send(
        w.app
            .request(Method::POST, "/api/v1/downtimes", &writer)
            .json(&downtime),
    )
    .await;
    assert_eq!(status, 200, "API_WRITER schedules downtimes: {body}");
    assert_eq!(
        w.update(&writer, &id, &w.alert(SW, SW, "ACTIVE")).await,
        200
    );
}

#[tokio::test]
async fn unused_checks_are_deleted_by_their_team() {
    let w = world().await;
    let team = w.app.create_user("team", Role::User, &["platform"]).await;
    let other = w.app.create_user("other", Role::User, &["shop"]).await;
    let check = create_check(&w.app, &team, check_body("mine", SW)).await;
    let path = format!("/api/v1/check-definitions/{}", check["id"]);
    assert_eq!(
        send(w.app.request(Method::DELETE, &path, &other)).await.0,
        403
    );
    let (status, _) = send(
        w.app
            .request(Method::POST, "/api/v1/check-definitions", &other)
            .json(&check_body("mine", SW)),
    )
    .await;
    assert_eq!(status, 403, "another team may not take it over");
    assert_eq!(
        send(w.app.request(Method::DELETE, &path, &team)).await.0,
        200
    );
}

#[tokio::test]
async fn dashboards_follow_their_edit_option() {
    let w = world().await;
    let owner = w.app.create_user("owner", Role::User, &[SW]).await;
    let mate = w.app.create_user("mate", Role::User, &["platform"]).await;
    let stranger = w.app.create_user("stranger", Role::User, &["Shop"]).await;
    let body = json!({"name": "team board", "edit_option": "TEAM"});
    let (status, id) = send(
        w.app
            .request(Method::POST, "/api/v1/dashboard", &owner)
            .json(&body),
    )
    .await;
    assert_eq!(status, 200);
    let (_, stored) = send(
        w.app
            .request(Method::GET, &format!("/api/v1/dashboard/{id}"), &owner),
    )
    .await;
    assert_eq!(
        stored["shared_teams"],
        json!([SW]),
        "shared with the creator's teams"
    );
    let post = |auth: &Auth, body: Value| {
        w.app
            .request(Method::POST, &format!("/api/v1/dashboard/{id}"), auth)
            .json(&body)
    };
    let renamed = json!({"name": "renamed", "edit_option": "TEAM"});
    assert_eq!(
        send(post(&mate, renamed.clone())).await.0,
        200,
        "a member of a shared team (by prefix)"
    );
    assert_eq!(send(post(&stranger, renamed)).await.0, 403);
    let (status, body) = send(post(
        &mate,
        json!({"name": "mine now", "edit_option": "PRIVATE"}),
    ))
    .await;
    assert_eq!(
        status, 403,
        "only the creator changes the edit option: {body}"
    );
    assert_eq!(
        send(post(
            &owner,
            json!({"name": "public", "edit_option": "PUBLIC"})
        ))
        .await
        .0,
        200
    );
    assert_eq!(
        send(post(
            &stranger,
            json!({"name": "anyone", "edit_option": "PUBLIC"})
        ))
        .await
        .0,
        200
    );
}
