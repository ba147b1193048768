//! Roles, as ZMON names them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Admin,
    Lead,
    User,
    Viewer,
    ApiReader,
    ApiWriter,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Lead,
        Role::User,
        Role::Viewer,
        Role::ApiReader,
        Role::ApiWriter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Lead => "LEAD",
            Role::User => "USER",
            Role::Viewer => "VIEWER",
            Role::ApiReader => "API_READER",
            Role::ApiWriter => "API_WRITER",
        }
    }

    /// VIEWER and API_READER only read; every other role may write, within
    /// its team rights.
    pub fn can_write(self) -> bool {
        !matches!(self, Role::Viewer | Role::ApiReader)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role '{0}'; expected one of ADMIN, LEAD, USER, VIEWER, API_READER, API_WRITER")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    /// Accepts `API_WRITER`, `api-writer`, `zmon_api_writer` and the like.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let normalized = s.trim().to_ascii_uppercase().replace('-', "_");
        let bare = normalized.strip_prefix("ZMON_").unwrap_or(&normalized);
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == bare)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zmon_and_docs_spellings() {
        assert_eq!("api-writer".parse(), Ok(Role::ApiWriter));
        assert_eq!("ZMON_ADMIN".parse(), Ok(Role::Admin));
        assert_eq!(" lead ".parse(), Ok(Role::Lead));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn readers_cannot_write() {
        assert!(!Role::Viewer.can_write());
        assert!(!Role::ApiReader.can_write());
        assert!(Role::ApiWriter.can_write());
        assert!(Role::User.can_write());
    }
}
