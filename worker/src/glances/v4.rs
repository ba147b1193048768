//! `/api/4`. Routes are registered in Glances' order: the first match wins,
//! so fixed segments (`history`, `limits`, `views`, `top`, `value`, ...)
//! shadow item and key names exactly as they do there.

use actix_web::web;
use serde_json::{Map, Value, json};
use zmon_checks::host::ClearEvents;

use super::error::{ApiError, parse_int};
use super::plugin::{self, FieldPart};
use super::reply::Json;
use super::{GLANCES_VERSION, State, auth, info};

type Data = web::Data<State>;
type Result<T = Json> = std::result::Result<T, ApiError>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/status")
            .route(web::get().to(status))
            .route(web::head().to(status)),
    )
    .route("/token", web::post().to(auth::token))
    .route("/events/clear/warning", web::post().to(clear_warning))
    .route("/events/clear/all", web::post().to(clear_all))
    .route(
        "/processes/extended/disable",
        web::post().to(extended_disable),
    )
    .route("/processes/extended/{pid}", web::post().to(extended_enable))
    .route("/processes/extended", web::get().to(extended))
    .route("/processes/{pid}", web::get().to(process));
    common(cfg);
    cfg.route("/serverslist", web::get().to(serverslist))
        .route("/{plugin}", web::get().to(plugin_stats))
        .route("/{plugin}/history", web::get().to(history_all))
        .route("/{plugin}/history/{nb}", web::get().to(history_nb))
        .route("/{plugin}/top/{nb}", web::get().to(top))
        .route("/{plugin}/limits", web::get().to(limits))
        .route("/{plugin}/views", web::get().to(views))
        .route("/{plugin}/{item}", web::get().to(item))
        .route("/{plugin}/{item}/views", web::get().to(item_views))
        .route("/{plugin}/{item}/history", web::get().to(item_history_all))
        .route(
            "/{plugin}/{item}/history/{nb}",
            web::get().to(item_history_nb),
        )
        .route("/{plugin}/{item}/description", web::get().to(description))
        .route("/{plugin}/{item}/unit", web::get().to(unit))
        .route("/{plugin}/{item}/value/{value:.*}", web::get().to(value))
        .route("/{plugin}/{item}/{key}", web::get().to(key))
        .route("/{plugin}/{item}/{key}/views", web::get().to(key_views));
}

/// The routes v2 and v3 share with v4, before any plugin route.
pub fn common(cfg: &mut web::ServiceConfig) {
    cfg.route("/config", web::get().to(config))
        .route("/config/{section}", web::get().to(config_section))
        .route("/config/{section}/{item}", web::get().to(config_item))
        .route("/args", web::get().to(args))
        .route("/args/{item}", web::get().to(arg))
        .route("/help", web::get().to(help))
        .route("/all", web::get().to(all))
        .route("/all/limits", web::get().to(all_limits))
        .route("/all/views", web::get().to(all_views))
        .route("/pluginslist", web::get().to(pluginslist));
}

async fn status() -> Json {
    Json::new(&json!({ "version": GLANCES_VERSION, "zmon": env!("CARGO_PKG_VERSION") }))
}

async fn clear_warning(state: Data) -> Json {
    state.monitor.clear_events(ClearEvents::Warning);
    Json::new(&json!({}))
}

async fn clear_all(state: Data) -> Json {
    state.monitor.clear_events(ClearEvents::All);
    Json::new(&json!({}))
}

fn find_process(state: &State, pid: u64) -> Result<Value> {
    let snapshot = state.monitor.latest();
    plugin::stats(&snapshot, "processlist")?
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p.get("pid").and_then(Value::as_u64) == Some(pid))
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("Unknown pid {pid}")))
}

async fn extended_disable(state: Data) -> Json {
    if let Ok(mut pid) = state.extended_pid.lock() {
        *pid = None;
    }
    Json::new(&true)
}

async fn extended_enable(state: Data, pid: web::Path<String>) -> Result {
    let pid = parse_int("pid", &pid)?;
    find_process(&state, pid)?;
    if let Ok(mut extended) = state.extended_pid.lock() {
        *extended = Some(pid);
    }
    Ok(Json::new(&true))
}

async fn extended(state: Data) -> Json {
    let pid = state.extended_pid.lock().ok().and_then(|pid| *pid);
    let stats = pid
        .and_then(|pid| find_process(&state, pid).ok())
        .unwrap_or_else(|| json!({}));
    Json::new(&stats)
}

async fn process(state: Data, pid: web::Path<String>) -> Result {
    let pid = parse_int("pid", &pid)?;
    Ok(Json::new(&find_process(&state, pid)?))
}

pub async fn config(state: Data) -> Json {
    let snapshot = state.monitor.latest();
    Json::new(&info::config(
        state.monitor.config(),
        &snapshot,
        &state.config,
    ))
}

fn section(state: &State, name: &str) -> Result<Map<String, Value>> {
    let snapshot = state.monitor.latest();
    match info::config(state.monitor.config(), &snapshot, &state.config).remove(name) {
        Some(Value::Object(section)) => Ok(section),
        _ => Err(ApiError::bad_request(format!(
            "Unknown configuration section {name}"
        ))),
    }
}

pub async fn config_section(state: Data, name: web::Path<String>) -> Result {
    Ok(Json::new(&section(&state, &name)?))
}

async fn config_item(state: Data, path: web::Path<(String, String)>) -> Result {
    let (name, item) = path.into_inner();
    section(&state, &name)?
        .get(&item)
        .map(Json::new)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Unknown configuration item {item} in section {name}"
            ))
        })
}

async fn args(state: Data) -> Json {
    Json::new(&info::args(state.monitor.config(), &state.config))
}

async fn arg(state: Data, item: web::Path<String>) -> Result {
    info::args(state.monitor.config(), &state.config)
        .get(item.as_str())
        .map(Json::new)
        .ok_or_else(|| ApiError::bad_request(format!("Unknown argument item {item}")))
}

async fn help() -> Json {
    Json::new(&info::help())
}

async fn all(state: Data) -> Json {
    Json::all(state.monitor.latest())
}

async fn all_limits(state: Data) -> Json {
    Json::new(&state.monitor.latest().limits)
}

async fn all_views(state: Data) -> Json {
    Json::new(state.monitor.latest().all_views())
}

async fn pluginslist(state: Data) -> Json {
    let snapshot = state.monitor.latest();
    Json::new(&snapshot.plugin_names().collect::<Vec<_>>())
}

/// We are never a central browser, so there are no servers to list.
async fn serverslist() -> Json {
    Json::new(&json!([]))
}

pub async fn plugin_stats(state: Data, name: web::Path<String>) -> Result {
    Ok(Json::new(&plugin::api_stats(
        &state.monitor.latest(),
        &name,
    )?))
}

pub async fn history_all(state: Data, name: web::Path<String>) -> Result {
    let snapshot = state.monitor.latest();
    Ok(Json::new(&plugin::history(
        &state.monitor,
        &snapshot,
        &name,
        0,
    )?))
}

pub async fn history_nb(state: Data, path: web::Path<(String, String)>) -> Result {
    let (name, nb) = path.into_inner();
    let snapshot = state.monitor.latest();
    // The plugin is checked before nb, so an unknown plugin stays a 400.
    plugin::stats(&snapshot, &name)?;
    let nb = parse_int("nb", &nb)?;
    Ok(Json::new(&plugin::history(
        &state.monitor,
        &snapshot,
        &name,
        nb,
    )?))
}

pub async fn top(state: Data, path: web::Path<(String, String)>) -> Result {
    let (name, nb) = path.into_inner();
    let snapshot = state.monitor.latest();
    plugin::stats(&snapshot, &name)?;
    let nb = parse_int("nb", &nb)?;
    Ok(Json::new(&plugin::top(&snapshot, &name, nb)?))
}

pub async fn limits(state: Data, name: web::Path<String>) -> Result {
    Ok(Json::new(&plugin::limits(&state.monitor.latest(), &name)?))
}

pub async fn views(state: Data, name: web::Path<String>) -> Result {
    Ok(Json::new(&plugin::views(&state.monitor.latest(), &name)?))
}

pub async fn item(state: Data, path: web::Path<(String, String)>) -> Result {
    let (name, item) = path.into_inner();
    Ok(Json::new(&plugin::item(
        &state.monitor.latest(),
        &name,
        &item,
    )?))
}

pub async fn item_views(state: Data, path: web::Path<(String, String)>) -> Result {
    let (name, item) = path.into_inner();
    Ok(Json::new(&plugin::item_views(
        &state.monitor.latest(),
        &name,
        &item,
    )?))
}

async fn item_history_all(state: Data, path: web::Path<(String, String)>) -> Result {
    let (name, item) = path.into_inner();
    let snapshot = state.monitor.latest();
    Ok(Json::new(&plugin::item_history(
        &state.monitor,
        &snapshot,
        &name,
        &item,
        0,
    )?))
}

async fn item_history_nb(state: Data, path: web::Path<(String, String, String)>) -> Result {
    let (name, item, nb) = path.into_inner();
    let snapshot = state.monitor.latest();
    plugin::stats(&snapshot, &name)?;
    let nb = parse_int("nb", &nb)?;
    Ok(Json::new(&plugin::item_history(
        &state.monitor,
        &snapshot,
        &name,
        &item,
        nb,
    )?))
}

async fn description(state: Data, path: web::Path<(String, String)>) -> Result {
    let (name, item) = path.into_inner();
    let snapshot = state.monitor.latest();
    Ok(Json::new(&plugin::field(
        &snapshot,
        &name,
        &item,
        FieldPart::Description,
    )?))
}

async fn unit(state: Data, path: web::Path<(String, String)>) -> Result {
    let (name, item) = path.into_inner();
    let snapshot = state.monitor.latest();
    Ok(Json::new(&plugin::field(
        &snapshot,
        &name,
        &item,
        FieldPart::Unit,
    )?))
}

pub async fn value(state: Data, path: web::Path<(String, String, String)>) -> Result {
    let (name, item, value) = path.into_inner();
    Ok(Json::new(&plugin::filter(
        &state.monitor.latest(),
        &name,
        &item,
        &value,
    )?))
}

async fn key(state: Data, path: web::Path<(String, String, String)>) -> Result {
    let (name, item, key) = path.into_inner();
    Ok(Json::new(&plugin::item_for_key(
        &state.monitor.latest(),
        &name,
        &item,
        &key,
    )?))
}

async fn key_views(state: Data, path: web::Path<(String, String, String)>) -> Result {
    let (name, item, key) = path.into_inner();
    Ok(Json::new(&plugin::key_item_views(
        &state.monitor.latest(),
        &name,
        &item,
        &key,
    )?))
}
