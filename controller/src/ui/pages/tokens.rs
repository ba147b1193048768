//! `/tokens`: the logged-in user's own API tokens for curl and the CLI.
//! A new token is shown once; only its hash is stored.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::html;
use crate::auth::tokens;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{NewToken, TokenRecord};
use crate::ui::SignedIn;
use crate::ui::error::UiError;

const LABEL_MAX_CHARS: usize = 100;
const MAX_DAYS: i64 = 3650;

pub struct TokenRow {
    pub id: String,
    pub label: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub state: &'static str,
    pub usable: bool,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage<'a> {
    nav: super::Nav<'a>,
    tokens: Vec<TokenRow>,
    created: Option<String>,
    error: Option<String>,
    label: String,
}

fn when(t: Option<DateTime<Utc>>, none: &str) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| none.to_string())
}

fn row(t: TokenRecord, now: DateTime<Utc>) -> TokenRow {
    let state = t.state_at(now);
    TokenRow {
        id: t.id.to_string(),
        label: t.label.clone().unwrap_or_default(),
        created: when(Some(t.created_at), ""),
        expires: when(t.expires_at, "never"),
        last_used: when(t.last_used_at, "never"),
        usable: state == "active",
        state,
    }
}

async fn render(
    state: &AppState,
    user: &SignedIn,
    created: Option<String>,
    error: Option<String>,
    label: String,
) -> Result<HttpResponse, UiError> {
    let now = state.clock.now();
    let mut list = state
        .store
        .tokens(Some(&user.caller.uid))
        .await
        .map_err(ApiError::from)?;
    list.sort_by_key(|t| std::cmp::Reverse(t.created_at));
    let page = TokensPage {
        nav: super::Nav::new(user, "tokens"),
        tokens: list.into_iter().map(|t| row(t, now)).collect(),
        created,
        error,
        label,
    };
    let mut response = html(&page)?;
    if page.error.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

#[get("/tokens")]
pub async fn show(state: web::Data<AppState>, user: SignedIn) -> Result<HttpResponse, UiError> {
    render(&state, &user, None, None, String::new()).await
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    label: String,
    /// Days until it expires; empty: never.
    #[serde(default)]
    days: String,
}

#[post("/tokens")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: SignedIn,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, UiError> {
    user.check_post(&req, &form.csrf)?;
    let label = form.label.trim().to_string();
    if label.chars().count() > LABEL_MAX_CHARS {
        let error = format!("The label is longer than {LABEL_MAX_CHARS} characters.");
        return render(&state, &user, None, Some(error), label).await;
    }
    let days = form.days.trim();
    let expires_at = if days.is_empty() {
        None
    } else {
        match days.parse::<i64>() {
            Ok(d) if (1..=MAX_DAYS).contains(&d) => {
                Some(state.clock.now() + chrono::Duration::days(d))
            }
            _ => {
                let error = format!(
                    "Days until expiry must be a whole number from 1 to {MAX_DAYS}, or empty for never."
                );
                return render(&state, &user, None, Some(error), label).await;
            }
        }
    };
    let secret = tokens::generate();
    state
        .store
        .create_token(&NewToken {
            id: Uuid::new_v4(),
            user_name: user.caller.uid.clone(),
            token_hash: tokens::hash(&secret),
            label: (!label.is_empty()).then_some(label),
            expires_at,
        })
        .await
        .map_err(ApiError::from)?;
    tracing::info!(user = %user.caller.uid, "API token created in the UI");
    render(&state, &user, Some(secret), None, String::new()).await
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
}

#[post("/tokens/{id}/revoke")]
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: SignedIn,
    id: web::Path<String>,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, UiError> {
    user.check_post(&req, &form.csrf)?;
    let id = Uuid::parse_str(&id).map_err(|_| UiError::NotFound("No such token.".into()))?;
    // Only the owner's tokens are visible here, admins included: other
    // users' tokens are revoked with `zmon token revoke`.
    let owned = state
        .store
        .tokens(Some(&user.caller.uid))
        .await
        .map_err(ApiError::from)?
        .iter()
        .any(|t| t.id == id);
    if !owned {
        return Err(UiError::NotFound("No such token.".into()));
    }
    state.store.revoke_token(id).await.map_err(ApiError::from)?;
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, "/tokens"))
        .finish())
}
