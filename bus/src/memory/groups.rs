//! On-call groups in process, with the Redis bus's answers.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use zmon_core::group::{Group, GroupChange, GroupSpec, Member};

#[derive(Default)]
pub(super) struct Groups {
    names: BTreeMap<String, String>,
    members: HashMap<String, BTreeSet<String>>,
    active: HashMap<String, BTreeSet<String>>,
    phones: HashMap<String, BTreeSet<String>>,
    member_names: HashMap<String, String>,
}

fn set_count(changed: bool) -> i64 {
    i64::from(changed)
}

impl Groups {
    pub(super) fn all(&self) -> Vec<Group> {
        self.names
            .iter()
            .map(|(id, name)| Group {
                id: id.clone(),
                name: name.clone(),
                members: self
                    .members
                    .get(id)
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect(),
                active: self.active.get(id).into_iter().flatten().cloned().collect(),
            })
            .collect()
    }

    pub(super) fn member(&self, member: &str) -> Member {
        Member {
            id: member.to_string(),
            email: member.to_string(),
            name: self.member_names.get(member).cloned(),
            phones: self
                .phones
                .get(member)
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
        }
    }

    pub(super) fn change(&mut self, change: &GroupChange) -> i64 {
        match change {
            GroupChange::AddMember { group, member } => {
                self.names
                    .entry(group.clone())
                    .or_insert_with(|| group.clone());
                set_count(
                    self.members
                        .entry(group.clone())
                        .or_default()
                        .insert(member.clone()),
                )
            }
            GroupChange::RemoveMember { group, member } => {
                if let Some(active) = self.active.get_mut(group) {
                    active.remove(member);
                }
                set_count(
                    self.members
                        .get_mut(group)
                        .is_some_and(|m| m.remove(member)),
                )
            }
            GroupChange::AddActive { group, member } => {
                if !self.members.get(group).is_some_and(|m| m.contains(member)) {
                    return -1;
                }
                set_count(
                    self.active
                        .entry(group.clone())
                        .or_default()
                        .insert(member.clone()),
                )
            }
            GroupChange::RemoveActive { group, member } => {
                set_count(self.active.get_mut(group).is_some_and(|a| a.remove(member)))
            }
            GroupChange::ClearActive { group } => {
                set_count(self.active.remove(group).is_some_and(|a| !a.is_empty()))
            }
            GroupChange::AddPhone { member, phone } => set_count(
                self.phones
                    .entry(member.clone())
                    .or_default()
                    .insert(phone.clone()),
            ),
            GroupChange::RemovePhone { member, phone } => {
                set_count(self.phones.get_mut(member).is_some_and(|p| p.remove(phone)))
            }
            GroupChange::SetName { member, name } => {
                self.member_names.insert(member.clone(), name.clone());
                1
            }
        }
    }

    pub(super) fn put(&mut self, id: &str, spec: &GroupSpec) {
        self.names.insert(
            id.to_string(),
            spec.name.clone().unwrap_or_else(|| id.to_string()),
        );
        self.members.insert(
            id.to_string(),
            spec.members.iter().map(|m| m.id.clone()).collect(),
        );
        self.active
            .insert(id.to_string(), spec.active.iter().cloned().collect());
        for m in &spec.members {
            self.phones
                .insert(m.id.clone(), m.phones.iter().cloned().collect());
            if let Some(name) = &m.name {
                self.member_names.insert(m.id.clone(), name.clone());
            }
        }
    }

    pub(super) fn delete(&mut self, id: &str) -> bool {
        self.members.remove(id);
        self.active.remove(id);
        self.names.remove(id).is_some()
    }
}
