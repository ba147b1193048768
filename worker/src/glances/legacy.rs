//! `/api/3` and `/api/2`: the paths Glances 3 and 2 served, for clients
//! that still try them (Home Assistant falls back 4 → 3 → 2). Data is the
//! v4 data; only the shapes that differed are reproduced: v3's text
//! status, the `{item: [...]}` item history, and the bare
//! `/{plugin}/{item}/{value}` filter.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::State;
use super::error::{ApiError, parse_int};
use super::plugin;
use super::reply::Json;
use super::v4;

type Data = web::Data<State>;

pub fn v3_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/status")
            .route(web::get().to(status))
            .route(web::head().to(status)),
    );
    v4::common(cfg);
    cfg.route("/{plugin}", web::get().to(v4::plugin_stats))
        .route("/{plugin}/history", web::get().to(v4::history_all))
        .route("/{plugin}/history/{nb}", web::get().to(v4::history_nb))
        .route("/{plugin}/top/{nb}", web::get().to(v4::top))
        .route("/{plugin}/limits", web::get().to(v4::limits))
        .route("/{plugin}/views", web::get().to(v4::views))
        .route("/{plugin}/{item}", web::get().to(v4::item))
        .route("/{plugin}/{item}/history", web::get().to(item_history_all))
        .route(
            "/{plugin}/{item}/history/{nb}",
            web::get().to(item_history_nb),
        )
        .route("/{plugin}/{item}/views", web::get().to(v4::item_views))
        // v3 takes a path here, so `/fs/mnt_point//` finds "/".
        .route("/{plugin}/{item}/{value:.*}", web::get().to(v4::value));
}

pub fn v2_routes(cfg: &mut web::ServiceConfig) {
    v4::common(cfg);
    cfg.route("/{plugin}", web::get().to(v4::plugin_stats))
        .route("/{plugin}/history", web::get().to(v4::history_all))
        .route("/{plugin}/history/{nb}", web::get().to(v4::history_nb))
        .route("/{plugin}/limits", web::get().to(v4::limits))
        .route("/{plugin}/views", web::get().to(v4::views))
        .route("/{plugin}/{item}", web::get().to(v4::item))
        .route("/{plugin}/{item}/history", web::get().to(item_history_all))
        .route(
            "/{plugin}/{item}/history/{nb}",
            web::get().to(item_history_nb),
        )
        .route("/{plugin}/{item}/{value}", web::get().to(v4::value));
}

/// Glances 3 answered its status check with a bare `Active`.
async fn status() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("Active")
}

fn item_history(state: &State, name: &str, item: &str, nb: u64) -> Result<Json, ApiError> {
    let snapshot = state.monitor.latest();
    let points = plugin::item_history(&state.monitor, &snapshot, name, item, nb)?;
    Ok(Json::new(&json!({ item: points })))
}

async fn item_history_all(
    state: Data,
    path: web::Path<(String, String)>,
) -> Result<Json, ApiError> {
    let (name, item) = path.into_inner();
    item_history(&state, &name, &item, 0)
}

async fn item_history_nb(
    state: Data,
    path: web::Path<(String, String, String)>,
) -> Result<Json, ApiError> {
    let (name, item, nb) = path.into_inner();
    plugin::stats(&state.monitor.latest(), &name)?;
    let nb = parse_int("nb", &nb)?;
    item_history(&state, &name, &item, nb)
}
