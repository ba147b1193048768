//! `/login` (local users; OAuth providers once configured) and `/logout`.

use std::time::Duration;

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::html;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::error::UiError;
use crate::ui::session::{Origin, random_text};
use crate::ui::view::safe_next;
use crate::ui::{SignedIn, csrf};

/// How long a login form stays usable.
const LOGIN_FORM_TTL: Duration = Duration::from_secs(3600);

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    next: &'a str,
    csrf: &'a str,
    user: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    /// OAuth providers: (path, label).
    providers: Vec<(String, String)>,
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    /// Set after a logout, to say so.
    bye: Option<String>,
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, to.to_string()))
        .finish()
}

/// Renders the form with a fresh login token in a cookie beside it.
pub fn login_form(
    state: &AppState,
    status: actix_web::http::StatusCode,
    next: &str,
    user: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Result<HttpResponse, UiError> {
    let token = random_text(32);
    let page = LoginPage {
        next,
        csrf: &token,
        user,
        error,
        notice,
        providers: state.ui.providers.buttons(),
    };
    let mut response = html(&page)?;
    *response.status_mut() = status;
    let cookie = state
        .ui
        .sessions
        .build(csrf::LOGIN_COOKIE, token, LOGIN_FORM_TTL);
    response
        .add_cookie(&cookie)
        .map_err(|e| UiError::Internal(e.to_string()))?;
    Ok(response)
}

#[get("/login")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, UiError> {
    let next = safe_next(query.next.as_deref());
    let now = state.clock.now().timestamp();
    if state.ui.sessions.read(&req, now).is_ok() {
        return Ok(redirect(&next));
    }
    let notice = query.bye.as_ref().map(|_| "You are logged out.");
    login_form(
        &state,
        actix_web::http::StatusCode::OK,
        &next,
        "",
        None,
        notice,
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

#[post("/login")]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, UiError> {
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref());
    csrf::check_origin(&req, state.ui.public_url.as_deref())?;
    let expected = req
        .cookie(csrf::LOGIN_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if csrf::check_token(&expected, &form.csrf).is_err() {
        return login_form(
            &state,
            actix_web::http::StatusCode::FORBIDDEN,
            &next,
            &form.user,
            Some("The login form expired. Please try again."),
            None,
        );
    }
    let user = form.user.trim();
    if user.is_empty() || form.password.is_empty() {
        return login_form(
            &state,
            actix_web::http::StatusCode::BAD_REQUEST,
            &next,
            user,
            Some("Enter your user name and password."),
            None,
        );
    }
    let caller = match state.auth.password_login(user, form.password).await {
        Ok(caller) => caller,
        Err(e) if e.status_code() == actix_web::http::StatusCode::UNAUTHORIZED => {
            return login_form(
                &state,
                actix_web::http::StatusCode::UNAUTHORIZED,
                &next,
                user,
                Some("Wrong user name or password."),
                None,
            );
        }
        Err(e @ ApiError::LoginThrottled(wait)) => {
            let message = e.to_string();
            let mut response = login_form(
                &state,
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                &next,
                user,
                Some(&message),
                None,
            )?;
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(wait.seconds()),
            );
            return Ok(response);
        }
        Err(e) => return Err(e.into()),
    };
    let now = state.clock.now().timestamp();
    let claims = state.ui.sessions.issue(&caller, Origin::Local, now);
    let cookie = state
        .ui
        .sessions
        .cookie(&claims)
        .map_err(|e| UiError::Internal(format!("signing the session: {e}")))?;
    tracing::info!(user = %caller.uid, "UI login");
    let mut response = redirect(&next);
    response
        .add_cookie(&cookie)
        .map_err(|e| UiError::Internal(e.to_string()))?;
    response
        .add_removal_cookie(&state.ui.sessions.build(
            csrf::LOGIN_COOKIE,
            String::new(),
            Duration::ZERO,
        ))
        .map_err(|e| UiError::Internal(e.to_string()))?;
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

#[post("/logout")]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: SignedIn,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, UiError> {
    user.check_post(&req, &form.csrf)?;
    let mut response = redirect("/login?bye=1");
    response
        .add_removal_cookie(&state.ui.sessions.removal())
        .map_err(|e| UiError::Internal(e.to_string()))?;
    Ok(response)
}
