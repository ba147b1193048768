//! Alert-definition inheritance.
//!
//! A child stores only the fields it overrides. Its effective definition
//! takes every other field from its parent's effective definition,
//! recursively, except `team`, `responsible_team` and `status`, which drive
//! authorisation and are always the node's own. Parameters merge per key,
//! and the child's value wins.
//!
//! Templates may be incomplete. A non-template must be complete after the
//! merge; [`missing_field`] names the first field that is not.

use std::collections::{BTreeMap, HashMap, HashSet};

use thiserror::Error;

use crate::alert::AlertDefinition;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InheritanceError {
    #[error("parent_id: alert definition {0} does not exist")]
    MissingParent(i64),
    #[error("alert definition {0} is part of an inheritance cycle")]
    Cycle(i64),
}

/// Fields a non-template must have after merging, in the order they are
/// reported.
const MANDATORY: &[&str] = &[
    "check_definition_id",
    "name",
    "description",
    "condition",
    "priority",
];

/// Merges `child` over its parent's *effective* definition.
pub fn merge_over(parent: &AlertDefinition, child: &AlertDefinition) -> AlertDefinition {
    let mut merged = child.clone();
    macro_rules! inherit {
        ($($field:ident),*) => {$(
            if merged.$field.is_none() {
                merged.$field = parent.$field.clone();
            }
        )*};
    }
    inherit!(
        name,
        description,
        entities,
        entities_exclude,
        condition,
        notifications,
        check_definition_id,
        priority,
        period,
        tags
    );
    merged.parameters = match (&parent.parameters, &child.parameters) {
        (None, None) => None,
        (p, c) => {
            let mut params: BTreeMap<_, _> = p.clone().unwrap_or_default();
            params.extend(c.clone().unwrap_or_default());
            Some(params)
        }
    };
    merged
}

/// Fills the optional collections of a complete, non-template definition
/// with their neutral values, so consumers never see `null` there.
pub fn with_defaults(mut def: AlertDefinition) -> AlertDefinition {
    if !def.template {
        def.entities.get_or_insert_with(Vec::new);
        def.entities_exclude.get_or_insert_with(Vec::new);
        def.notifications.get_or_insert_with(Vec::new);
        def.tags.get_or_insert_with(Vec::new);
        def.parameters.get_or_insert_with(BTreeMap::new);
        def.period.get_or_insert_with(String::new);
    }
    def
}

/// The first mandatory field a non-template lacks after merging.
pub fn missing_field(effective: &AlertDefinition) -> Option<&'static str> {
    if effective.template {
        return None;
    }
    MANDATORY.iter().copied().find(|field| match *field {
        "check_definition_id" => effective.check_definition_id.is_none(),
        "name" => effective.name.is_none(),
        "description" => effective.description.is_none(),
        "condition" => effective.condition.is_none(),
        _ => effective.priority.is_none(),
    })
}

/// All stored nodes, indexed by id, able to resolve effective definitions.
#[derive(Debug, Default, Clone)]
pub struct AlertTree {
    nodes: HashMap<i64, AlertDefinition>,
}

impl AlertTree {
    pub fn new(nodes: impl IntoIterator<Item = AlertDefinition>) -> Self {
        Self {
            nodes: nodes.into_iter().map(|n| (n.id, n)).collect(),
        }
    }

    pub fn node(&self, id: i64) -> Option<&AlertDefinition> {
        self.nodes.get(&id)
    }

    pub fn insert(&mut self, node: AlertDefinition) {
        self.nodes.insert(node.id, node);
    }

    /// The effective definition of `node` (which need not be in the tree
    /// yet, as when validating a request).
    pub fn effective(&self, node: &AlertDefinition) -> Result<AlertDefinition, InheritanceError> {
        let mut chain = vec![node];
        let mut seen = HashSet::from([node.id]);
        let mut cursor = node.parent_id;
        while let Some(parent_id) = cursor {
            if !seen.insert(parent_id) {
                return Err(InheritanceError::Cycle(node.id));
            }
            let parent = self
                .nodes
                .get(&parent_id)
                .ok_or(InheritanceError::MissingParent(parent_id))?;
            chain.push(parent);
            cursor = parent.parent_id;
        }
        let mut effective = chain
            .pop()
            .cloned()
            .ok_or(InheritanceError::Cycle(node.id))?;
        while let Some(child) = chain.pop() {
            effective = merge_over(&effective, child);
        }
        Ok(with_defaults(effective))
    }

    pub fn effective_by_id(&self, id: i64) -> Option<Result<AlertDefinition, InheritanceError>> {
        self.nodes.get(&id).map(|n| self.effective(n))
    }

    /// Direct children of `id`, ordered by id.
    pub fn children(&self, id: i64) -> Vec<&AlertDefinition> {
        let mut children: Vec<_> = self
            .nodes
            .values()
            .filter(|n| n.parent_id == Some(id))
            .collect();
        children.sort_by_key(|n| n.id);
        children
    }

    /// Every descendant of `id`, breadth first.
    pub fn descendants(&self, id: i64) -> Vec<&AlertDefinition> {
        let mut out = Vec::new();
        let mut frontier = vec![id];
        let mut seen = HashSet::from([id]);
        while let Some(current) = frontier.pop() {
            for child in self.children(current) {
                if seen.insert(child.id) {
                    out.push(child);
                    frontier.push(child.id);
                }
            }
        }
        out
    }

    /// Effective definitions of every node that resolves, ordered by id.
    pub fn all_effective(&self) -> Vec<AlertDefinition> {
        let mut ids: Vec<_> = self.nodes.keys().copied().collect();
        ids.sort_unstable();
        ids.into_iter()
            .filter_map(|id| self.effective_by_id(id).and_then(Result::ok))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Parameter;
    use crate::check::DefinitionStatus;
    use serde_json::json;

    fn node(id: i64, parent: Option<i64>) -> AlertDefinition {
        AlertDefinition {
            id,
            name: None,
            description: None,
            team: format!("team-{id}"),
            responsible_team: format!("resp-{id}"),
            entities: None,
            entities_exclude: None,
            condition: None,
            notifications: None,
            check_definition_id: None,
            status: DefinitionStatus::Active,
            priority: None,
            last_modified: id,
            last_modified_by: "u".into(),
            period: None,
            template: false,
            parent_id: parent,
            parameters: None,
            tags: None,
        }
    }

    fn param(v: serde_json::Value) -> Parameter {
        Parameter {
            value: v,
            comment: None,
            param_type: None,
        }
    }

    #[test]
    fn parameters_merge_per_key_child_wins() {
        let mut parent = node(1, None);
        parent.template = true;
        parent.parameters = Some(BTreeMap::from([
            ("p0".into(), param(json!(0))),
            ("p1".into(), param(json!(1))),
        ]));
        parent.condition = Some("value > p1".into());
        let mut child = node(2, Some(1));
        child.parameters = Some(BTreeMap::from([
            ("p1".into(), param(json!("one'"))),
            ("p2".into(), param(json!(2))),
        ]));
        let tree = AlertTree::new([parent, child.clone()]);
        let eff = tree.effective(&child).expect("resolves");
        let params = eff.parameters.expect("merged");
        assert_eq!(params.keys().collect::<Vec<_>>(), ["p0", "p1", "p2"]);
        assert_eq!(params["p0"].value, json!(0));
        assert_eq!(params["p1"].value, json!("one'"));
        assert_eq!(params["p2"].value, json!(2));
        assert_eq!(eff.condition.as_deref(), Some("value > p1"));
    }

    #[test]
    fn team_responsible_team_and_status_are_not_inherited() {
        let mut parent = node(1, None);
        parent.status = DefinitionStatus::Inactive;
        parent.name = Some("parent".into());
        let mut child = node(2, Some(1));
        child.status = DefinitionStatus::Active;
        let tree = AlertTree::new([parent]);
        let eff = tree.effective(&child).expect("resolves");
        assert_eq!(eff.team, "team-2");
        assert_eq!(eff.responsible_team, "resp-2");
        assert_eq!(eff.status, DefinitionStatus::Active);
        assert_eq!(eff.name.as_deref(), Some("parent"));
        assert_eq!(eff.parent_id, Some(1));
        assert_eq!(eff.id, 2);
    }

    #[test]
    fn inheritance_is_recursive() {
        let mut root = node(1, None);
        root.template = true;
        root.check_definition_id = Some(7);
        root.priority = Some(1);
        let mut middle = node(2, Some(1));
        middle.template = true;
        middle.priority = Some(2);
        middle.description = Some("d".into());
        let mut leaf = node(3, Some(2));
        leaf.name = Some("leaf".into());
        leaf.condition = Some(">1".into());
        let tree = AlertTree::new([root, middle, leaf]);
        let eff = tree.effective_by_id(3).expect("exists").expect("resolves");
        assert_eq!(eff.check_definition_id, Some(7));
        assert_eq!(eff.priority, Some(2));
        assert_eq!(missing_field(&eff), None);
        assert_eq!(eff.entities, Some(vec![]));
        assert_eq!(
            tree.descendants(1).iter().map(|n| n.id).collect::<Vec<_>>(),
            [2, 3]
        );
    }

    #[test]
    fn completeness_applies_to_non_templates_only() {
        let mut t = node(1, None);
        t.template = true;
        assert_eq!(missing_field(&t), None);
        let mut n = node(2, None);
        n.check_definition_id = Some(1);
        n.name = Some("x".into());
        assert_eq!(missing_field(&n), Some("description"));
    }

    #[test]
    fn reports_missing_parents_and_cycles() {
        let tree = AlertTree::new([node(1, Some(2)), node(2, Some(1))]);
        assert_eq!(
            tree.effective_by_id(1).expect("exists"),
            Err(InheritanceError::Cycle(1))
        );
        let orphan = node(5, Some(99));
        assert_eq!(
            AlertTree::default().effective(&orphan),
            Err(InheritanceError::MissingParent(99))
        );
    }
}
