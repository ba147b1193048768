//! On-call groups as ZMON keeps them in Redis: a group has members (a
//! member id is an e-mail address) and the members on call (`active`);
//! members have phone numbers and a name. Notifications address
//! `group:<g>` (every member) and `active:<g>` (who is on call), resolved
//! when they are sent.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validation::ValidationError;

/// `GET /api/v1/groups` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub members: Vec<String>,
    pub active: Vec<String>,
}

/// `GET /api/v1/groups/member/{m}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub id: String,
    /// ZMON: the id is the address.
    pub email: String,
    pub name: Option<String>,
    pub phones: Vec<String>,
}

/// A member in `PUT /api/v2/groups/{g}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberSpec {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phones: Vec<String>,
}

/// `PUT /api/v2/groups/{g}`: the whole group in one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub members: Vec<MemberSpec>,
    /// Member ids on call; each must be a member.
    #[serde(default)]
    pub active: Vec<String>,
}

const MAX_ID_LEN: usize = 256;

/// Group and member ids end up in Redis keys and URLs.
pub fn validate_id(field: &str, id: &str) -> Result<(), ValidationError> {
    if id.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be blank"));
    }
    if id.len() > MAX_ID_LEN || id.chars().any(|c| c.is_control() || c == '/') {
        return Err(ValidationError::new(
            field,
            "must be at most 256 characters without '/' or control characters",
        ));
    }
    Ok(())
}

impl GroupSpec {
    pub fn validate(&self) -> Result<(), ValidationError> {
        for m in &self.members {
            validate_id("members[].id", &m.id)?;
        }
        for a in &self.active {
            if !self.members.iter().any(|m| &m.id == a) {
                return Err(ValidationError::new(
                    "active",
                    format!("'{a}' is not a member of the group"),
                ));
            }
        }
        Ok(())
    }
}

/// One change of ZMON's v1 group routes; applying it answers Redis's
/// integer reply (`-1`: putting a non-member on call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChange {
    AddMember { group: String, member: String },
    RemoveMember { group: String, member: String },
    AddActive { group: String, member: String },
    RemoveActive { group: String, member: String },
    ClearActive { group: String },
    AddPhone { member: String, phone: String },
    RemovePhone { member: String, phone: String },
    SetName { member: String, name: String },
}

/// How a notification addresses people: a group's members, who is on
/// call, or one address as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient<'a> {
    Group(&'a str),
    Active(&'a str),
    Direct(&'a str),
}

pub fn recipient(target: &str) -> Recipient<'_> {
    if let Some(g) = target.strip_prefix("group:") {
        Recipient::Group(g)
    } else if let Some(g) = target.strip_prefix("active:") {
        Recipient::Active(g)
    } else {
        Recipient::Direct(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_and_recipients() {
        let spec = GroupSpec {
            name: None,
            members: vec![MemberSpec {
                id: "a@x.org".into(),
                name: None,
                phones: vec![],
            }],
            active: vec!["b@x.org".into()],
        };
        assert!(spec.validate().is_err(), "only members may be on call");
        assert_eq!(recipient("active:db"), Recipient::Active("db"));
        assert_eq!(recipient("group:db"), Recipient::Group("db"));
        assert_eq!(recipient("a@x.org"), Recipient::Direct("a@x.org"));
        assert!(validate_id("id", "a/b").is_err());
    }
}
