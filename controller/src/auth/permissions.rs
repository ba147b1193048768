//! Who may change what: ZMON's permission matrix.
//!
//! ADMIN may do everything. VIEWER and API_READER may write nothing.
//! USER and API_WRITER share USER's rules (ZMON gave API_WRITER no write
//! rights at all, although its documentation says it should have them).
//! LEAD differs from USER only for alert definitions.

use zmon_core::alert::AlertDefinition;
use zmon_core::check::{CheckDefinition, DefinitionStatus};
use zmon_core::dashboard::{Dashboard, EditOption};
use zmon_core::{Entity, Role};

use super::Caller;
use crate::error::ApiError;
use crate::store::StoredEntity;

fn deny(reason: impl Into<String>) -> ApiError {
    ApiError::Forbidden(format!("Access is denied: {}", reason.into()))
}

/// The facts of an alert definition that permissions look at.
#[derive(Debug, Clone, Copy)]
pub struct AlertOwnership<'a> {
    pub team: &'a str,
    pub responsible_team: &'a str,
    pub status: DefinitionStatus,
}

impl<'a> From<&'a AlertDefinition> for AlertOwnership<'a> {
    fn from(a: &'a AlertDefinition) -> Self {
        Self {
            team: &a.team,
            responsible_team: &a.responsible_team,
            status: a.status,
        }
    }
}

impl Caller {
    /// Entities: the `zmon_config` type is for admins; otherwise an entity
    /// may be changed when it names no team, names one of the caller's, or
    /// was created by the caller.
    pub fn may_write_entity(
        &self,
        existing: Option<&StoredEntity>,
        new: Option<&Entity>,
    ) -> Result<(), ApiError> {
        self.require_write()?;
        if self.is_admin() {
            return Ok(());
        }
        let touches_config =
            new.is_some_and(Entity::is_config) || existing.is_some_and(|e| e.entity.is_config());
        if touches_config {
            return Err(deny("only admins may change entities of type zmon_config"));
        }
        if let Some(existing) = existing {
            let owned = match existing.entity.team() {
                None => true,
                Some(team) => self.is_member(team),
            } || existing.created_by == self.uid;
            if !owned {
                return Err(deny(format!(
                    "entity '{}' belongs to team '{}'",
                    existing.entity.id(),
                    existing.entity.team().unwrap_or_default()
                )));
            }
        }
        Ok(())
    }

    /// Creating a check needs membership of its owning team; updating one
    /// also needs membership of (or authorship of) the stored one.
    pub fn may_write_check(
        &self,
        existing: Option<(&CheckDefinition, &str)>,
        new_owning_team: &str,
    ) -> Result<(), ApiError> {
        self.require_write()?;
        if self.is_admin() {
            return Ok(());
        }
        if let Some((current, created_by)) = existing
            && !(self.is_member(&current.owning_team) || created_by == self.uid)
        {
            return Err(deny(format!(
                "check definition {} belongs to team '{}'",
                current.id, current.owning_team
            )));
        }
        if !self.is_member(new_owning_team) {
            return Err(deny(format!(
                "you are not a member of team '{new_owning_team}'"
            )));
        }
        Ok(())
    }

    pub fn may_delete_check(&self, check: &CheckDefinition) -> Result<(), ApiError> {
        self.require_write()?;
        if self.is_admin() || self.is_member(&check.owning_team) {
            return Ok(());
        }
        Err(deny(format!(
            "check definition {} belongs to team '{}'",
            check.id, check.owning_team
        )))
    }

    /// Dashboards: PUBLIC ones anyone may edit, TEAM ones members of a
    /// shared team, PRIVATE ones their creator; only the creator changes
    /// who may edit.
    pub fn may_edit_dashboard(
        &self,
        current: &Dashboard,
        new_edit_option: EditOption,
    ) -> Result<(), ApiError> {
        self.require_write()?;
        if self.is_admin() {
            return Ok(());
        }
        let is_creator = current.created_by == self.uid;
        let may_edit = match current.edit_option {
            EditOption::Public => true,
            EditOption::Private => is_creator,
            EditOption::Team => {
                is_creator || current.shared_teams.iter().any(|t| self.is_member(t))
            }
        };
        if !may_edit {
            return Err(deny(format!(
                "dashboard {} is not editable by you",
                current.id
            )));
        }
        if new_edit_option != current.edit_option && !is_creator {
            return Err(deny(format!(
                "only the creator of dashboard {} may change who can edit it",
                current.id
            )));
        }
        Ok(())
    }

    /// Create: member of `team`, or of `responsible_team` while INACTIVE.
    pub fn can_create_alert(&self, new: AlertOwnership<'_>) -> bool {
        match self.role {
            Role::Admin => true,
            r if !r.can_write() => false,
            _ => {
                self.is_member(new.team)
                    || (self.is_member(new.responsible_team)
                        && new.status == DefinitionStatus::Inactive)
            }
        }
    }

    /// Edit: USER needs `team`, or `responsible_team` while INACTIVE or
    /// REJECTED; LEAD needs either team. DELETED is never editable.
    pub fn can_edit_alert(&self, current: AlertOwnership<'_>) -> bool {
        if current.status == DefinitionStatus::Deleted {
            return false;
        }
        match self.role {
            Role::Admin => true,
            Role::Lead => self.is_member(current.team) || self.is_member(current.responsible_team),
            r if !r.can_write() => false,
            _ => {
                self.is_member(current.team)
                    || (self.is_member(current.responsible_team)
                        && matches!(
                            current.status,
                            DefinitionStatus::Inactive | DefinitionStatus::Rejected
                        ))
            }
        }
    }

    /// Update `current` into `new`: the caller may edit `current`, and the
    /// result stays in reach: a member of the new `team`; or of the new
    /// `responsible_team` if, being in the current team, the result is
    /// INACTIVE, or, not being in it, the status does not change (or goes
    /// from REJECTED to INACTIVE).
    pub fn can_update_alert(&self, current: AlertOwnership<'_>, new: AlertOwnership<'_>) -> bool {
        if self.is_admin() {
            return current.status != DefinitionStatus::Deleted;
        }
        if !self.can_edit_alert(current) {
            return false;
        }
        let in_current_team = self.is_member(current.team);
        self.is_member(new.team)
            || (self.is_member(new.responsible_team)
                && ((in_current_team && new.status == DefinitionStatus::Inactive)
                    || (!in_current_team
                        && (current.status == new.status
                            || (current.status == DefinitionStatus::Rejected
                                && new.status == DefinitionStatus::Inactive)))))
    }

    /// Delete: USER needs `team`; LEAD follows its edit rule.
    pub fn can_delete_alert(&self, current: AlertOwnership<'_>) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Lead => self.can_edit_alert(current),
            r if !r.can_write() => false,
            _ => self.is_member(current.team),
        }
    }

    pub fn may_create_alert(&self, new: AlertOwnership<'_>) -> Result<(), ApiError> {
        self.require_write()?;
        if self.can_create_alert(new) {
            return Ok(());
        }
        Err(deny(format!(
            "to create an alert definition for team '{}' you must be a member of it (or of the \
             responsible team '{}' with status INACTIVE)",
            new.team, new.responsible_team
        )))
    }

    pub fn may_update_alert(
        &self,
        id: i64,
        current: AlertOwnership<'_>,
        new: AlertOwnership<'_>,
    ) -> Result<(), ApiError> {
        self.require_write()?;
        if !self.can_edit_alert(current) {
            return Err(deny(format!(
                "you may not edit alert definition {id} of team '{}'",
                current.team
            )));
        }
        if !self.can_update_alert(current, new) {
            return Err(deny(format!(
                "the change would move alert definition {id} to team '{}' / responsible team '{}' \
                 with status {}, out of your reach",
                new.team,
                new.responsible_team,
                new.status.as_str()
            )));
        }
        Ok(())
    }

    pub fn may_delete_alert(&self, id: i64, current: AlertOwnership<'_>) -> Result<(), ApiError> {
        self.require_write()?;
        if self.can_delete_alert(current) {
            return Ok(());
        }
        Err(deny(format!(
            "you may not delete alert definition {id} of team '{}'",
            current.team
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DefinitionStatus::*;

    fn caller(role: Role, teams: &[&str]) -> Caller {
        Caller {
            uid: "u".into(),
            role,
            teams: teams.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn own<'a>(
        team: &'a str,
        responsible: &'a str,
        status: DefinitionStatus,
    ) -> AlertOwnership<'a> {
        AlertOwnership {
            team,
            responsible_team: responsible,
            status,
        }
    }

    const SW: &str = "Platform/Software";
    const SYS: &str = "Platform/System";

    #[test]
    fn create_row() {
        let user = caller(Role::User, &["Platform/Software"]);
        assert!(user.can_create_alert(own("platform/software", SYS, Active)));
        assert!(!user.can_create_alert(own("Other", "Other", Active)));
        let responsible = caller(Role::User, &[SYS]);
        assert!(responsible.can_create_alert(own(SW, SYS, Inactive)));
        assert!(!responsible.can_create_alert(own(SW, SYS, Active)));
        assert!(!caller(Role::Viewer, &[SW]).can_create_alert(own(SW, SW, Active)));
        assert!(!caller(Role::ApiReader, &[SW]).can_create_alert(own(SW, SW, Active)));
        assert!(caller(Role::ApiWriter, &[SW]).can_create_alert(own(SW, SW, Active)));
        assert!(caller(Role::Admin, &[]).can_create_alert(own(SW, SW, Active)));
    }

    #[test]
    fn edit_row() {
        let team = caller(Role::User, &["Platform"]);
        assert!(
            team.can_edit_alert(own(SW, SYS, Active)),
            "prefix membership"
        );
        let responsible = caller(Role::User, &[SYS]);
        assert!(responsible.can_edit_alert(own(SW, SYS, Inactive)));
        assert!(responsible.can_edit_alert(own(SW, SYS, Rejected)));
        assert!(!responsible.can_edit_alert(own(SW, SYS, Active)));
        let lead = caller(Role::Lead, &[SYS]);
        assert!(lead.can_edit_alert(own(SW, SYS, Active)));
        assert!(!lead.can_edit_alert(own(SW, "Other", Active)));
        assert!(!caller(Role::Admin, &[]).can_edit_alert(own(SW, SW, Deleted)));
    }

    #[test]
    fn update_row() {
        let team = caller(Role::User, &[SW]);
        assert!(team.can_update_alert(own(SW, SYS, Active), own(SW, SYS, Active)));
        // Moving the alert to the responsible team is allowed only as INACTIVE.
        let mine = caller(Role::User, &[SW, SYS]);
        assert!(
            caller(Role::User, &[SW]).can_update_alert(own(SW, SW, Active), own(SW, SW, Inactive))
        );
        assert!(!team.can_update_alert(own(SW, SYS, Active), own("Other", "Other", Active)));
        assert!(mine.can_update_alert(own(SW, SYS, Active), own(SYS, SYS, Active)));
        let only_sys_team_member = caller(Role::User, &[SW, SYS]);
        assert!(
            only_sys_team_member
                .can_update_alert(own(SW, SYS, Active), own("Other", SYS, Inactive))
        );
        assert!(
            !caller(Role::User, &[SW])
                .can_update_alert(own(SW, SW, Active), own("Other", SW, Active))
        );
        // Not in the current team: the responsible team may keep the status,
        // or move REJECTED to INACTIVE, but not activate.
        let responsible = caller(Role::User, &[SYS]);
        assert!(responsible.can_update_alert(own(SW, SYS, Inactive), own(SW, SYS, Inactive)));
        assert!(responsible.can_update_alert(own(SW, SYS, Rejected), own(SW, SYS, Inactive)));
        assert!(!responsible.can_update_alert(own(SW, SYS, Inactive), own(SW, SYS, Active)));
        assert!(
            !caller(Role::Viewer, &[SW]).can_update_alert(own(SW, SW, Active), own(SW, SW, Active))
        );
    }

    #[test]
    fn delete_row() {
        assert!(caller(Role::User, &[SW]).can_delete_alert(own(SW, SYS, Active)));
        assert!(!caller(Role::User, &[SYS]).can_delete_alert(own(SW, SYS, Inactive)));
        assert!(caller(Role::Lead, &[SYS]).can_delete_alert(own(SW, SYS, Active)));
        assert!(!caller(Role::Lead, &["Other"]).can_delete_alert(own(SW, SYS, Active)));
        assert!(!caller(Role::ApiReader, &[SW]).can_delete_alert(own(SW, SW, Active)));
        assert!(caller(Role::Admin, &[]).can_delete_alert(own(SW, SW, Active)));
    }

    #[test]
    fn read_only_roles_get_zmons_exact_403() {
        let viewer = caller(Role::Viewer, &[SW]);
        let err = viewer
            .may_create_alert(own(SW, SW, Active))
            .expect_err("viewer");
        assert!(matches!(err, ApiError::AccessDenied));
        let err = viewer.may_write_check(None, SW).expect_err("viewer");
        assert!(matches!(err, ApiError::AccessDenied));
    }

    #[test]
    fn check_rows() {
        let user = caller(Role::User, &["platform"]);
        assert!(user.may_write_check(None, "Platform/Software").is_ok());
        assert!(user.may_write_check(None, "Other").is_err());
    }
}
