//! HTTP routes, the OpenAPI document and the Swagger UI.

pub mod alerts;
pub mod checks;
pub mod dashboards;
pub mod downtimes;
pub mod entities;
pub mod events;
pub mod groups;
pub mod health;
pub mod monitors;
pub mod nezha;
pub mod search;
pub mod status;
pub mod trials;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::Uri;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue, LAST_MODIFIED};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{Error, HttpRequest, HttpResponse, web};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::store::AuditKind;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ZMON-compatible controller",
        description = "Entities, check and alert definitions, downtimes and alert status. \
            Compatible with ZMON's REST API v1. Every `/api/v1` path also accepts a trailing slash. \
            Errors are `{\"message\": \"...\"}`."
    ),
    paths(
        entities::upsert, entities::list, entities::get_one, entities::delete_one,
        checks::upsert, checks::upsert_by_id, checks::list, checks::get_one, checks::delete_one,
        checks::all_active_checks, checks::all_checks, checks::all_active_alerts,
        alerts::create, alerts::list, alerts::get_one, alerts::update, alerts::delete_one, alerts::children,
        downtimes::create, downtimes::list, downtimes::delete_one,
        events::list, events::for_alert,
        groups::list, groups::get_member, groups::add_member, groups::remove_member, groups::add_active,
        groups::remove_active, groups::clear_active, groups::add_phone, groups::remove_phone, groups::set_name,
        groups::put_group, groups::delete_group,
        monitors::list, monitors::create, monitors::get_one, monitors::update, monitors::delete_one,
        status::platform, status::alerts, status::all_entities, status::active_alerts, status::teams,
        dashboards::get_one, dashboards::upsert, dashboards::upsert_by_id,
        search::quick_search, search::list_onetime_tokens, search::create_onetime_token,
        trials::start, trials::results, trials::evaluate_check, trials::evaluate_alert,
        health::health, health::ready, health::metrics,
    ),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes),
    security(("basic" = []), ("bearer" = [])),
    tags(
        (name = "entities"), (name = "check-definitions"), (name = "checks", description = "Lists the scheduler loads"),
        (name = "alert-definitions"), (name = "downtimes"),
        (name = "events", description = "The event history: alert changes and notifications"),
        (name = "groups", description = "On-call groups that notifications address as group:<g> and active:<g>"),
        (name = "monitors", description = "ICMP ping and TCP-connect monitors run from each covered host"), (name = "status"), (name = "teams"),
        (name = "dashboards"), (name = "search"),
        (name = "trial-runs", description = "Try checks and conditions; run checks now"),
        (name = "onetime-tokens", description = "Login codes for wall monitors"),
        (name = "operations", description = "Unauthenticated probes and metrics"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        // Probes and metrics need no credentials.
        for path in ["/health", "/ready", "/metrics"] {
            if let Some(item) = openapi.paths.paths.get_mut(path)
                && let Some(get) = item.get.as_mut()
            {
                get.security = Some(Vec::new());
            }
        }
    }
}

/// Registers every route. Order matters only where patterns overlap.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::health)
        .service(health::ready)
        .service(health::metrics)
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi()))
        .service(entities::upsert)
        .service(entities::list)
        .service(entities::get_one)
        .service(entities::delete_one)
        .service(checks::upsert)
        .service(checks::upsert_by_id)
        .service(checks::list)
        .service(checks::get_one)
        .service(checks::delete_one)
        .service(checks::all_active_checks)
        .service(checks::all_checks)
        .service(checks::all_active_alerts)
        .service(alerts::create)
        .service(alerts::list)
        .service(alerts::children)
        .service(alerts::get_one)
        .service(alerts::update)
        .service(alerts::delete_one)
        .service(downtimes::create)
        .service(downtimes::list)
        .service(downtimes::delete_one)
        .service(events::list)
        .service(events::for_alert)
        .service(groups::list)
        .service(groups::get_member)
        .service(groups::add_member)
        .service(groups::remove_member)
        .service(groups::add_active)
        .service(groups::remove_active)
        .service(groups::clear_active)
        .service(groups::add_phone)
        .service(groups::remove_phone)
        .service(groups::set_name)
        .service(groups::put_group)
        .service(groups::delete_group)
        .service(monitors::list)
        .service(monitors::create)
        .service(monitors::get_one)
        .service(monitors::update)
        .service(monitors::delete_one)
        .service(nezha::server_list)
        .service(nezha::server_details)
        .service(nezha::monitor)
        .service(status::platform)
        .service(status::active_alerts)
        .service(status::all_entities)
        .service(status::alerts)
        .service(status::teams)
        .service(dashboards::get_one)
        .service(dashboards::upsert)
        .service(dashboards::upsert_by_id)
        .service(search::quick_search)
        .service(search::list_onetime_tokens)
        .service(search::create_onetime_token)
        .service(trials::start)
        .service(trials::results)
        .service(trials::evaluate_check)
        .service(trials::evaluate_alert);
}

/// Answers a list with `Last-Modified` in ZMON's format
/// (`yyyy-MM-dd'T'HH:mm:ss.SSSXXX`): the time of the latest change of the
/// kind, deletions included, so a poller can skip unchanged lists. `HEAD`
/// gets the header alone and never builds the list.
pub(crate) async fn listing<T, F>(
    req: &HttpRequest,
    state: &AppState,
    kind: AuditKind,
    body: impl FnOnce() -> F,
) -> Result<HttpResponse, ApiError>
where
    T: serde::Serialize,
    F: std::future::Future<Output = Result<T, ApiError>>,
{
    let mut resp = HttpResponse::Ok();
    if let Some(at) = state.store.last_change(kind).await? {
        let text = at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        if let Ok(value) = HeaderValue::from_str(&text) {
            resp.insert_header((LAST_MODIFIED, value));
        }
    }
    if req.method() == Method::HEAD {
        return Ok(resp.finish());
    }
    Ok(resp.json(body().await?))
}

/// Answers unknown routes with a JSON 404.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    HttpResponse::NotFound().json(ErrorBody {
        message: format!("no such resource: {} {}", req.method(), req.path()),
    })
}

/// ZMON answered `/x/{id}` and `/x/{id}/` alike, and the official CLI uses
/// both. API paths lose their trailing slash before routing. Other paths
/// (the Swagger UI lives under `/docs/`) are left alone.
pub async fn trim_trailing_slash(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let path = req.path();
    if path.starts_with("/api/") && path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let rebuilt = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_string(),
        };
        if let Ok(uri) = rebuilt.parse::<Uri>() {
            req.match_info_mut().get_mut().update(&uri);
            req.head_mut().uri = uri;
        }
    }
    next.call(req).await
}

/// Gives error responses that actix produces itself (405, malformed
/// requests) the same JSON body as ours. UI pages keep their HTML.
pub fn json_error_body<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let message = status.canonical_reason().unwrap_or("error").to_string();
    let (req, _) = res.into_parts();
    let body = HttpResponse::build(status).json(ErrorBody { message });
    let res = ServiceResponse::new(req, body.map_into_boxed_body()).map_into_right_body::<B>();
    Ok(ErrorHandlerResponse::Response(res))
}
