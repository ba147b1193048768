//! Pre-shared service tokens, read from a TOML or JSON file at start-up.
//!
//! ```toml
//! [[tokens]]
//! token = "a-long-random-secret"
//! uid = "deploy-bot"
//! role = "API_WRITER"        # default USER
//! teams = ["platform"]
//! expires_at = 1893456000    # epoch seconds; omit for no expiry
//! ```
//!
//! JSON takes the same shape (`{"tokens": [...]}`) or a bare array.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use zmon_core::Role;

use super::{Caller, tokens};
use crate::error::ApiError;

/// Shorter secrets are refused: they could be guessed.
pub const MIN_TOKEN_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum PresharedError {
    #[error("cannot read pre-shared tokens from {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot parse pre-shared tokens in {path}: {message}")]
    Parse { path: String, message: String },
    #[error("pre-shared token #{index} ({uid}): {problem}")]
    Invalid {
        index: usize,
        uid: String,
        problem: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    token: String,
    uid: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    teams: Vec<String>,
    #[serde(default)]
    expires_at: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum File {
    Wrapped { tokens: Vec<Entry> },
    List(Vec<Entry>),
}

#[derive(Debug, Clone)]
struct Grant {
    caller: Caller,
    expires_at: Option<DateTime<Utc>>,
}

/// Tokens indexed by their SHA-256, so the secrets themselves are not kept.
#[derive(Debug, Clone, Default)]
pub struct PresharedTokens {
    by_hash: HashMap<String, Grant>,
}

impl PresharedTokens {
    pub fn load(path: &Path) -> Result<Self, PresharedError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PresharedError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown)
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self, PresharedError> {
        // `[[tokens]]` (TOML) and `[{...}]` (JSON) both start with '[', so
        // try both and report the error of the format the text resembles.
        let file: File = match serde_json::from_str(text) {
            Ok(file) => file,
            Err(json_error) => toml::from_str(text).map_err(|toml_error| {
                let message = if text.trim_start().starts_with('{') {
                    json_error.to_string()
                } else {
                    toml_error.to_string()
                };
                PresharedError::Parse {
                    path: origin.to_string(),
                    message,
                }
            })?,
        };
        let entries = match file {
            File::Wrapped { tokens } | File::List(tokens) => tokens,
        };
        let mut by_hash = HashMap::new();
        for (index, e) in entries.into_iter().enumerate() {
            let invalid = |problem: String| PresharedError::Invalid {
                index: index + 1,
                uid: e.uid.clone(),
                problem,
            };
            if e.token.trim().len() < MIN_TOKEN_LEN {
                return Err(invalid(format!(
                    "token must be at least {MIN_TOKEN_LEN} characters long"
                )));
            }
            if e.uid.trim().is_empty() {
                return Err(invalid("uid must not be blank".into()));
            }
            let role = match &e.role {
                Some(r) => r.parse::<Role>().map_err(|err| invalid(err.to_string()))?,
                None => Role::User,
            };
            let expires_at = match e.expires_at {
                Some(secs) => Some(
                    DateTime::<Utc>::from_timestamp(secs, 0)
                        .ok_or_else(|| invalid(format!("expires_at {secs} is not a valid time")))?,
                ),
                None => None,
            };
            if expires_at.is_some_and(|t| t <= Utc::now()) {
                tracing::warn!(uid = %e.uid, "pre-shared token has already expired");
            }
            let grant = Grant {
                caller: Caller {
                    uid: e.uid.trim().to_string(),
                    role,
                    teams: e.teams,
                },
                expires_at,
            };
            if by_hash
                .insert(tokens::hash(e.token.trim()), grant)
                .is_some()
            {
                return Err(invalid("the same token is listed twice".into()));
            }
        }
        Ok(Self { by_hash })
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// `Ok(None)` when the token is not pre-shared; an expired one is bad
    /// credentials.
    pub fn lookup(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Caller>, ApiError> {
        match self.by_hash.get(token_hash) {
            None => Ok(None),
            Some(g) if g.expires_at.is_some_and(|t| t <= now) => Err(ApiError::BadCredentials),
            Some(g) => Ok(Some(g.caller.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_toml_and_json() {
        let toml = r#"
            [[tokens]]
            token = "0123456789abcdef-deploy"
            uid = "deploy-bot"
            role = "api-writer"
            teams = ["platform"]
            expires_at = 4102444800
        "#;
        let t = PresharedTokens::parse(toml, "t.toml").expect("toml");
        let caller = t
            .lookup(&tokens::hash("0123456789abcdef-deploy"), Utc::now())
            .expect("valid")
            .expect("known");
        assert_eq!(caller.role, Role::ApiWriter);
        assert_eq!(caller.teams, ["platform"]);

        let json = r#"[{"token": "0123456789abcdef-reader", "uid": "r", "role": "API_READER"}]"#;
        let t = PresharedTokens::parse(json, "t.json").expect("json");
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn expired_tokens_are_bad_credentials() {
        let text =
            r#"{"tokens": [{"token": "0123456789abcdef-old", "uid": "old", "expires_at": 1}]}"#;
        let t = PresharedTokens::parse(text, "t.json").expect("parses");
        assert!(matches!(
            t.lookup(&tokens::hash("0123456789abcdef-old"), Utc::now()),
            Err(ApiError::BadCredentials)
        ));
        assert!(matches!(
            t.lookup(&tokens::hash("other"), Utc::now()),
            Ok(None)
        ));
    }

    #[test]
    fn weak_or_broken_entries_are_refused_with_their_position() {
        let short = r#"[{"token": "short", "uid": "x"}]"#;
        let err = PresharedTokens::parse(short, "t.json")
            .expect_err("short")
            .to_string();
        assert_eq!(
            err,
            "pre-shared token #1 (x): token must be at least 16 characters long"
        );
        let bad_role = r#"[{"token": "0123456789abcdef", "uid": "x", "role": "root"}]"#;
        assert!(PresharedTokens::parse(bad_role, "t.json").is_err());
        let typo = r#"[{"token": "0123456789abcdef", "uid": "x", "teamz": []}]"#;
        assert!(PresharedTokens::parse(typo, "t.json").is_err());
    }
}
