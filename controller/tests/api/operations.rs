//! Probes, metrics and the OpenAPI document.

use reqwest::Method;
use serde_json::Value;
use zmon_core::Role;

use crate::helpers::{Auth, TestApp, send, send_text};

/// Every route the controller serves, as (method, OpenAPI path).
const ROUTES: &[(&str, &str)] = &[
    ("put", "/api/v1/entities"),
    ("post", "/api/v1/entities"),
    ("get", "/api/v1/entities"),
    ("get", "/api/v1/entities/{id}"),
    ("delete", "/api/v1/entities/{id}"),
    ("post", "/api/v1/check-definitions"),
    ("post", "/api/v1/check-definitions/{id}"),
    ("get", "/api/v1/check-definitions"),
    ("head", "/api/v1/check-definitions"),
    ("get", "/api/v1/check-definitions/{id}"),
    ("get", "/api/v2/events"),
    ("get", "/api/v2/alert-definitions/{id}/events"),
    ("get", "/api/v1/groups"),
    ("get", "/api/v1/groups/member/{member}"),
    ("put", "/api/v1/groups/{group}/member/{member}"),
    ("delete", "/api/v1/groups/{group}/member/{member}"),
    ("put", "/api/v1/groups/{group}/active/{member}"),
    ("delete", "/api/v1/groups/{group}/active/{member}"),
    ("delete", "/api/v1/groups/{group}/active"),
    ("put", "/api/v1/groups/{member}/phone/{phone}"),
    ("delete", "/api/v1/groups/{member}/phone/{phone}"),
    ("put", "/api/v1/groups/{member}/name/{name}"),
    ("put", "/api/v2/groups/{group}"),
    ("delete", "/api/v2/groups/{group}"),
    ("get", "/api/v1/monitors"),
    ("post", "/api/v1/monitors"),
    ("get", "/api/v1/monitors/{id}"),
    ("put", "/api/v1/monitors/{id}"),
    ("delete", "/api/v1/monitors/{id}"),
    ("delete", "/api/v1/check-definitions/{id}"),
    ("get", "/api/v1/checks/all-active-check-definitions"),
    ("head", "/api/v1/checks/all-active-check-definitions"),
    ("get", "/api/v1/checks/all-check-definitions"),
    ("head", "/api/v1/checks/all-check-definitions"),
    ("get", "/api/v1/checks/all-active-alert-definitions"),
    ("head", "/api/v1/checks/all-active-alert-definitions"),
    ("post", "/api/v1/alert-definitions"),
    ("get", "/api/v1/alert-definitions"),
    ("head", "/api/v1/alert-definitions"),
    ("get", "/api/v1/alert-definitions/{id}"),
    ("put", "/api/v1/alert-definitions/{id}"),
    ("delete", "/api/v1/alert-definitions/{id}"),
    ("get", "/api/v1/alert-definitions/{id}/children"),
    ("post", "/api/v1/downtimes"),
    ("get", "/api/v1/downtimes"),
    ("delete", "/api/v1/downtimes/{id}"),
    ("get", "/api/v1/status"),
    ("get", "/api/v1/status/alert/{ids}/"),
    ("get", "/api/v1/status/alert/{id}/all-entities"),
    ("get", "/api/v1/status/active-alerts"),
    ("get", "/api/v1/teams"),
    ("get", "/api/v1/dashboard/{id}"),
    ("post", "/api/v1/dashboard"),
    ("post", "/api/v1/dashboard/{id}"),
    ("get", "/api/v1/quick-search"),
    ("get", "/api/v1/onetime-tokens"),
    ("post", "/api/v1/onetime-tokens"),
    ("post", "/api/v1/trial-runs"),
    ("get", "/api/v1/trial-runs/{id}"),
    ("post", "/api/v1/check-definitions/{id}/instant-eval"),
    ("post", "/api/v1/alert-definitions/{id}/instant-eval"),
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/metrics"),
];

#[tokio::test]
async fn probes_metrics_and_docs_need_no_credentials() {
    let app = TestApp::spawn().await;
    let (status, body) = send(app.request(Method::GET, "/health", &Auth::None)).await;
    assert_eq!(
        (status.as_u16(), body["status"].as_str()),
        (200, Some("ok"))
    );
    let (status, body) = send(app.request(Method::GET, "/ready", &Auth::None)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["database"].as_str(), body["redis"].as_str()),
        (Some("ok"), Some("ok"))
    );
    let (status, html) = send_text(app.request(Method::GET, "/docs/", &Auth::None)).await;
    assert_eq!(status, 200);
    assert!(html.to_lowercase().contains("swagger"), "{html}");

    let user = app.create_user("alice", Role::User, &[]).await;
    send(app.request(Method::GET, "/api/v1/entities", &user)).await;
    let (status, metrics) = send_text(app.request(Method::GET, "/metrics", &Auth::None)).await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains(
            r#"zmon_http_requests_total{method="GET",route="/api/v1/entities",status="200"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains("zmon_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = TestApp::spawn().await;
    let (status, doc) = send(app.request(Method::GET, "/openapi.json", &Auth::None)).await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().expect("paths");
    for (method, path) in ROUTES {
        let op = paths.get(*path).and_then(|p| p.get(*method));
        assert!(
            op.is_some(),
            "{method} {path} is missing from /openapi.json"
        );
    }
    assert_eq!(
        paths
            .values()
            .map(|p| p.as_object().map_or(0, |o| o.len()))
            .sum::<usize>(),
        ROUTES.len(),
        "and nothing undocumented is listed twice"
    );
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["basic"]["scheme"], "basic");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(
        doc["paths"]["/health"]["get"]["security"],
        Value::Array(vec![])
    );
}

#[tokio::test]
async fn every_documented_api_route_answers() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for (method, path) in ROUTES {
        let concrete = path.replace("{id}", "1").replace("{ids}", "1");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let resp = app
            .request(method.clone(), &concrete, &admin)
            .send()
            .await
            .expect("request");
        let status = resp.status();
        assert!(
            status != 404 || concrete.contains("/1"),
            "{method} {concrete} is not routed"
        );
        assert!(
            status != 405 && status.as_u16() < 500,
            "{method} {concrete}: {status}"
        );
    }
}
