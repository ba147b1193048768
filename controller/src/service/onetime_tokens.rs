//! One-time tokens: short codes a wall monitor logs in with.

use chrono::Duration;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::OnetimeToken;

/// A user gets at most one new token per this many seconds.
pub const RATE_LIMIT_SECONDS: i64 = 15;
pub const VALID_DAYS: i64 = 365;
const TOKEN_LEN: usize = 8;

#[derive(Debug, Serialize, ToSchema)]
pub struct OnetimeTokenView {
    pub token: String,
    /// Epoch milliseconds.
    pub created: i64,
    pub bound_ip: Option<String>,
    pub bound_at: Option<i64>,
    pub bound_expires: Option<i64>,
}

pub async fn create(state: &AppState, caller: &Caller) -> Result<String, ApiError> {
    let now = state.clock.now();
    let token: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(TOKEN_LEN)
        .map(char::from)
        .collect();
    let record = OnetimeToken {
        token: token.clone(),
        created_by: caller.uid.clone(),
        created: now,
        expires: now + Duration::days(VALID_DAYS),
        bound_ip: None,
        bound_at: None,
        bound_expires: None,
    };
    let not_after = now - Duration::seconds(RATE_LIMIT_SECONDS);
    if !state.store.create_onetime_token(&record, not_after).await? {
        return Err(ApiError::TooManyRequests(format!(
            "Rate limit hit: wait {RATE_LIMIT_SECONDS} seconds"
        )));
    }
    Ok(token)
}

pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<OnetimeTokenView>, ApiError> {
    Ok(state
        .store
        .onetime_tokens(&caller.uid)
        .await?
        .into_iter()
        .map(|t| OnetimeTokenView {
            token: t.token,
            created: t.created.timestamp_millis(),
            bound_ip: t.bound_ip,
            bound_at: t.bound_at.map(|b| b.timestamp_millis()),
            bound_expires: t.bound_expires.map(|b| b.timestamp_millis()),
        })
        .collect())
}
