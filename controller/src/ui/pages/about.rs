//! `/about`: version and the health of what the controller depends on.

use actix_web::{HttpResponse, get, web};
use askama::Template;

use super::html;
use crate::state::AppState;
use crate::ui::SignedIn;
use crate::ui::error::UiError;

pub struct Dependency {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "about.html")]
struct AboutPage<'a> {
    nav: super::Nav<'a>,
    version: &'static str,
    dependencies: Vec<Dependency>,
    workers_active: Option<i64>,
    queue_size: Option<i64>,
}

#[get("/about")]
pub async fn show(state: web::Data<AppState>, user: SignedIn) -> Result<HttpResponse, UiError> {
    let (db, bus) = tokio::join!(state.store.ping(), state.bus.ping());
    let describe = |name, r: Result<(), String>| Dependency {
        name,
        ok: r.is_ok(),
        detail: r.err().unwrap_or_else(|| "reachable".into()),
    };
    let platform = crate::service::status::platform(&state).await.ok();
    let page = AboutPage {
        nav: super::Nav::new(&user, "about"),
        version: env!("CARGO_PKG_VERSION"),
        dependencies: vec![
            describe("Database", db.map_err(|e| e.to_string())),
            describe("Bus (Redis or in-process)", bus.map_err(|e| e.to_string())),
        ],
        workers_active: platform.as_ref().map(|p| p.workers_active),
        queue_size: platform.as_ref().map(|p| p.queue_size),
    };
    html(&page)
}
