//! The UI's stylesheet and script, compiled into the binary: the UI works
//! without network access and without a JavaScript build step.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, get, web};

const CSS: &str = include_str!("../../assets/app.css");
const JS: &str = include_str!("../../assets/app.js");

#[get("/static/{name}")]
pub async fn file(name: web::Path<String>) -> HttpResponse {
    let (body, kind) = match name.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        _ => {
            return HttpResponse::NotFound()
                .insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"))
                .body("not found");
        }
    };
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, kind))
        // Short: a new release's assets show up within minutes.
        .insert_header((CACHE_CONTROL, "public, max-age=300"))
        .body(body)
}
