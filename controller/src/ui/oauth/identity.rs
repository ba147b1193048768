//! From a provider's identity to a ZMON user: a local user of the same
//! name or e-mail keeps its own role and teams; anyone else gets the
//! role the configuration maps their groups to, or is refused.

use zmon_core::Role;

use crate::config::OAuthConfig;
use crate::store::{NewUser, Store, StoreError, UserRecord};

/// What a provider says about who logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Stable id at the provider (`sub`, GitHub's numeric id).
    pub subject: String,
    /// Login name at the provider.
    pub username: Option<String>,
    /// Whether a local user of the same name may be assumed to be this
    /// person (GitHub names are first come, first served, so only within
    /// a configured organisation).
    pub username_trusted: bool,
    /// A verified e-mail address.
    pub email: Option<String>,
    /// Groups or organisations; they become teams.
    pub groups: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error(
        "{who} has no access to ZMON: no local user matches, and no group maps to a role. Ask an administrator to add you or to set ZMON_OAUTH_DEFAULT_ROLE."
    )]
    Unmapped { who: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// User names allow letters, digits and `._@+-`; anything else from a
/// provider becomes `-`.
fn user_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._@+-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(128)
        .collect()
}

/// The role groups map to, if any (admin groups compare case-insensitively).
pub fn mapped_role(config: &OAuthConfig, groups: &[String]) -> Option<Role> {
    let admin = groups.iter().any(|g| {
        config
            .admin_groups
            .iter()
            .any(|a| a.eq_ignore_ascii_case(g))
    });
    if admin {
        Some(Role::Admin)
    } else {
        config.default_role
    }
}

/// Finds or records the user for `identity`.
pub async fn resolve(
    store: &dyn Store,
    config: &OAuthConfig,
    identity: &Identity,
) -> Result<UserRecord, MappingError> {
    let name_candidate = identity
        .username
        .as_deref()
        .filter(|_| identity.username_trusted);
    for candidate in [identity.email.as_deref(), name_candidate]
        .into_iter()
        .flatten()
    {
        if let Some(user) = store.user(&user_name(candidate)).await?
            && user.password_hash.is_some()
        {
            return Ok(user);
        }
    }
    let name = identity
        .email
        .as_deref()
        .or(identity.username.as_deref())
        .map(user_name)
        .unwrap_or_else(|| user_name(&identity.subject));
    let Some(role) = mapped_role(config, &identity.groups) else {
        return Err(MappingError::Unmapped { who: name });
    };
    let user = store
        .upsert_external_user(&NewUser {
            name,
            password_hash: None,
            role,
            teams: identity.groups.clone(),
        })
        .await?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_become_valid_user_names() {
        assert_eq!(user_name("ana@example.org"), "ana@example.org");
        assert_eq!(user_name("Ana Lopez/ops"), "Ana-Lopez-ops");
        assert_eq!(user_name(&"x".repeat(200)).len(), 128);
    }

    #[test]
    fn admin_groups_win_then_the_default_role() {
        let mut config = OAuthConfig {
            admin_groups: vec!["ZMON-Admins".into()],
            ..OAuthConfig::default()
        };
        assert_eq!(
            mapped_role(&config, &["zmon-admins".into()]),
            Some(Role::Admin)
        );
        assert_eq!(
            mapped_role(&config, &["db".into()]),
            None,
            "refused without a default"
        );
        config.default_role = Some(Role::Viewer);
        assert_eq!(mapped_role(&config, &["db".into()]), Some(Role::Viewer));
        assert_eq!(mapped_role(&config, &[]), Some(Role::Viewer));
    }
}
