//! One repository suite, run against both backends: every test below is
//! an async function taking a store, and `both!` instantiates it once with
//! a PostgreSQL database and once with an SQLite file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Value, json};
use uuid::Uuid;
use zmon_core::alert::AlertNodeDraft;
use zmon_core::check::{DefinitionStatus, NewCheckDefinition};
use zmon_core::dashboard::{DashboardDraft, EditOption, ViewMode};
use zmon_core::downtime::{Downtime, DowntimeGroup, DowntimeSpec};
use zmon_core::event::{AlertEvent, AlertEventKind};
use zmon_core::monitor::{MonitorInput, MonitorMinute};
use zmon_core::{Entity, EntityFilter, Role};
use zmon_store::testing::{TestDatabase, TestSqlite};
use zmon_store::{
    AuditAction, AuditEntry, AuditKind, EntityQuery, EventQuery, NewToken, NewUser, OAuthLogin,
    OnetimeToken, Store, StoreError,
};

/// Keeps the database alive for the test.
#[allow(dead_code)]
enum Database {
    Postgres(TestDatabase),
    Sqlite(TestSqlite),
}

async fn postgres() -> (Arc<dyn Store>, Database) {
    let db = TestDatabase::create().await.expect("test database");
    let store = db.store().await.expect("postgres store");
    (Arc::new(store), Database::Postgres(db))
}

async fn sqlite() -> (Arc<dyn Store>, Database) {
    let db = TestSqlite::create();
    let store = db.store().await.expect("sqlite store");
    (Arc::new(store), Database::Sqlite(db))
}

macro_rules! both {
    ($($test:ident),* $(,)?) => {
        mod postgres_backend {
            $(
                #[tokio::test]
                async fn $test() {
                    let (store, _db) = super::postgres().await;
                    super::$test(store).await;
                }
            )*
        }
        mod sqlite_backend {
            $(
                #[tokio::test]
                async fn $test() {
                    let (store, _db) = super::sqlite().await;
                    super::$test(store).await;
                }
            )*
        }
    };
}

both!(
    entities_crud_and_queries,
    check_definitions_upsert_list_and_ids,
    check_definition_uniqueness_conflicts,
    check_constraint_violations,
    alert_definitions_tree,
    downtimes_and_change_counter,
    users_and_tokens,
    audit_log_entries,
    dashboards_and_onetime_tokens,
    alert_events_append_and_list,
    change_listener_fires_after_commit,
    fleet_server_ids_are_stable_and_never_reused,
    monitors_and_their_minutes,
    notification_events_keep_their_details,
    event_history_pages_by_keyset_and_filters,
    instance_secrets_are_created_once,
    oauth_logins_work_once_and_expire,
    external_users_follow_their_provider_but_local_ones_do_not,
);

/// Now, at the precision both backends keep.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn entity(doc: Value) -> Entity {
    Entity::from_document(doc).unwrap()
}

fn filter(doc: Value) -> EntityFilter {
    serde_json::from_value(doc).unwrap()
}

fn check(name: &str, team: &str) -> NewCheckDefinition {
    NewCheckDefinition {
        id: None,
        name: name.into(),
        description: "a check".into(),
        technical_details: Some("details".into()),
        potential_analysis: None,
        potential_impact: None,
        potential_solution: None,
        owning_team: team.into(),
        entities: vec![filter(json!({"type": "host"}))],
        entities_exclude: Vec::new(),
        interval: 60,
        command: "http(\"http://x\").code()".into(),
        status: DefinitionStatus::Active,
        source_url: None,
    }
}

fn alert(team: &str, check_id: Option<i64>, parent_id: Option<i64>) -> AlertNodeDraft {
    AlertNodeDraft {
        name: Some(format!("{team} alert")),
        description: None,
        team: team.into(),
        responsible_team: team.into(),
        entities: Some(vec![filter(json!({"type": "host", "dc": "eu"}))]),
        entities_exclude: None,
        condition: Some("value > 100".into()),
        notifications: Some(vec!["send_mail('a@b.c')".into()]),
        check_definition_id: check_id,
        status: DefinitionStatus::Active,
        priority: Some(2),
        period: None,
        template: parent_id.is_none(),
        parent_id,
        parameters: None,
        tags: Some(vec!["tag".into()]),
    }
}

fn audit(kind: AuditKind, id: &str, action: AuditAction, after: Option<Value>) -> AuditEntry {
    AuditEntry {
        at: now(),
        actor: "alice".into(),
        kind,
        object_id: id.into(),
        action,
        before: None,
        after,
    }
}

async fn entities_crud_and_queries(store: Arc<dyn Store>) {
    let t0 = now();
    let mut tx = store.begin().await.unwrap();
    assert!(tx.lock_entity("host-b").await.unwrap().is_none());
    for doc in [
        json!({"id": "host-b", "type": "host", "dc": "eu", "tags": {"x": [1, 2.5, null]}}),
        json!({"id": "host-a", "type": "host", "dc": "us"}),
        json!({"id": "app-c", "type": "app", "dc": "eu", "team": "core"}),
    ] {
        tx.put_entity(&entity(doc), "alice", t0).await.unwrap();
    }
    tx.commit().await.unwrap();

    let b = store.entity("host-b").await.unwrap().unwrap();
    assert_eq!(b.entity.document()["tags"], json!({"x": [1, 2.5, null]}));
    assert_eq!((b.created, b.created_by.as_str()), (t0, "alice"));

    // A replace keeps `created*` and moves `last_modified*`.
    let t1 = t0 + chrono::Duration::seconds(5);
    let mut tx = store.begin().await.unwrap();
    let locked = tx.lock_entity("host-b").await.unwrap().unwrap();
    assert_eq!(locked, b);
    let doc = json!({"id": "host-b", "type": "host", "dc": "us"});
    tx.put_entity(&entity(doc), "bob", t1).await.unwrap();
    tx.commit().await.unwrap();
    let b = store.entity("host-b").await.unwrap().unwrap();
    assert_eq!((b.created, b.created_by.as_str()), (t0, "alice"));
    assert_eq!((b.last_modified, b.last_modified_by.as_str()), (t1, "bob"));
    assert_eq!(b.entity.document().get("tags"), None);

    let ids = |v: Vec<zmon_store::StoredEntity>| -> Vec<String> {
        v.into_iter().map(|e| e.entity.id().to_string()).collect()
    };
    let all = store.entities(&EntityQuery::default()).await.unwrap();
    assert_eq!(ids(all), ["app-c", "host-a", "host-b"]);
    let hosts = EntityQuery {
        filters: Some(vec![filter(json!({"type": "host"}))]),
        exclude_key: None,
    };
    assert_eq!(
        ids(store.entities(&hosts).await.unwrap()),
        ["host-a", "host-b"]
    );
    let us_or_team = EntityQuery {
        filters: Some(vec![
            filter(json!({"dc": "us"})),
            filter(json!({"team": "core"})),
        ]),
        exclude_key: None,
    };
    let found = ids(store.entities(&us_or_team).await.unwrap());
    assert_eq!(found, ["app-c", "host-a", "host-b"]);
    let by_id = EntityQuery {
        filters: Some(vec![filter(json!({"id": "host-a"}))]),
        exclude_key: None,
    };
    assert_eq!(ids(store.entities(&by_id).await.unwrap()), ["host-a"]);
    let without_team = EntityQuery {
        filters: None,
        exclude_key: Some("team".into()),
    };
    let found = ids(store.entities(&without_team).await.unwrap());
    assert_eq!(found, ["host-a", "host-b"]);
    let none = EntityQuery {
        filters: Some(vec![]),
        exclude_key: None,
    };
    assert!(store.entities(&none).await.unwrap().is_empty());
    let wanted = ["host-b".to_string(), "app-c".into(), "missing".into()];
    let found = ids(store.entities_by_ids(&wanted).await.unwrap());
    assert_eq!(found, ["app-c", "host-b"]);

    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_entity("host-a").await.unwrap());
    assert!(!tx.delete_entity("host-a").await.unwrap());
    tx.commit().await.unwrap();
    assert!(store.entity("host-a").await.unwrap().is_none());
}

async fn check_definitions_upsert_list_and_ids(store: Arc<dyn Store>) {
    let at = now();
    let mut tx = store.begin().await.unwrap();
    let mut first = check("Disk Usage", "Team-A");
    first.source_url = Some("https://Git/checks/disk.yaml".into());
    let first = tx.insert_check(&first, "alice", at).await.unwrap();
    let second = tx
        .insert_check(&check("cpu", "team-b"), "alice", at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(second.id > first.id);
    assert_eq!(first.last_modified, at.timestamp_millis());
    assert_eq!(first.entities, vec![filter(json!({"type": "host"}))]);

    // Upsert lookups ignore case, by source URL first.
    let mut tx = store.begin().await.unwrap();
    let by_url = tx
        .lock_check_by_natural_key(Some("https://git/checks/DISK.yaml"), "x", "y")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_url.check.id, first.id);
    assert_eq!(by_url.created_by, "alice");
    let by_name = tx
        .lock_check_by_natural_key(None, "disk usage", "team-a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_name.check.id, first.id);
    assert!(
        tx.lock_check_by_natural_key(None, "disk usage", "team-b")
            .await
            .unwrap()
            .is_none()
    );
    let mut changed = check("Disk Usage", "Team-A");
    changed.status = DefinitionStatus::Inactive;
    changed.interval = 300;
    let updated = tx
        .update_check(first.id, &changed, "bob", at)
        .await
        .unwrap();
    assert_eq!(
        (updated.interval, updated.status),
        (300, DefinitionStatus::Inactive)
    );
    assert_eq!(updated.last_modified_by, "bob");
    assert_eq!(
        tx.lock_check(first.id).await.unwrap().unwrap().created_by,
        "alice"
    );
    tx.commit().await.unwrap();

    let all: Vec<i64> = store
        .checks(None)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(all, [first.id, second.id]);
    let active = store.checks(Some(DefinitionStatus::Active)).await.unwrap();
    assert_eq!(active.iter().map(|c| c.id).collect::<Vec<_>>(), [second.id]);
    assert_eq!(store.check(first.id).await.unwrap().unwrap(), updated);

    // An imported id moves the sequence past it; a deleted id is never
    // handed out again.
    let mut tx = store.begin().await.unwrap();
    let mut imported = check("imported", "team-a");
    imported.id = Some(1000);
    assert_eq!(
        tx.insert_check(&imported, "alice", at).await.unwrap().id,
        1000
    );
    assert!(tx.delete_check(1000).await.unwrap());
    assert!(!tx.delete_check(1000).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let next = tx
        .insert_check(&check("next", "team-a"), "alice", at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(next.id > 1000, "id {} was reused", next.id);
}

async fn check_definition_uniqueness_conflicts(store: Arc<dyn Store>) {
    let at = now();
    let mut tx = store.begin().await.unwrap();
    let mut first = check("Disk", "Team-A");
    first.source_url = Some("https://git/disk.yaml".into());
    tx.insert_check(&first, "alice", at).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let err = tx
        .insert_check(&check("DISK", "team-a"), "alice", at)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m)
            if m == "a check definition with this name already exists for this owning_team"),
        "{err:?}"
    );
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    let mut same_url = check("other", "team-a");
    same_url.source_url = Some("HTTPS://GIT/disk.yaml".into());
    let err = tx.insert_check(&same_url, "alice", at).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m)
            if m == "a check definition with this source_url already exists"),
        "{err:?}"
    );
    drop(tx);

    // The failed transactions left nothing behind.
    assert_eq!(store.checks(None).await.unwrap().len(), 1);
}

async fn check_constraint_violations(store: Arc<dyn Store>) {
    let at = now();
    let mut tx = store.begin().await.unwrap();
    let mut bad = check("bad", "team");
    bad.interval = 0;
    let err = tx.insert_check(&bad, "alice", at).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m)
            if m == "check constraint violated (check_definitions_interval_check)"),
        "{err:?}"
    );
    drop(tx);

    // Stored documents bypass validation, so the database's rule shows.
    let mut doc = serde_json::Map::new();
    doc.insert("id".into(), json!("Bad Id"));
    doc.insert("type".into(), json!("host"));
    let mut tx = store.begin().await.unwrap();
    let err = tx
        .put_entity(&Entity::from_stored(doc), "alice", at)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m == "check constraint violated (entities_id_check)"),
        "{err:?}"
    );
    drop(tx);

    let err = store
        .create_user(&NewUser {
            name: "no spaces allowed".into(),
            password_hash: None,
            role: Role::User,
            teams: vec![],
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m == "check constraint violated (users_name_check)"),
        "{err:?}"
    );
}

async fn alert_definitions_tree(store: Arc<dyn Store>) {
    let at = now();
    let mut tx = store.begin().await.unwrap();
    let check_id = tx
        .insert_check(&check("c", "team"), "alice", at)
        .await
        .unwrap()
        .id;
    assert!(tx.lock_alert_tree().await.unwrap().is_empty());
    let parent = tx
        .insert_alert(&alert("team", Some(check_id), None), "alice", at)
        .await
        .unwrap();
    let mut child_draft = alert("team", None, Some(parent.id));
    child_draft.condition = None;
    child_draft.priority = None;
    let child = tx.insert_alert(&child_draft, "alice", at).await.unwrap();
    tx.commit().await.unwrap();
    assert!(parent.template && !child.template);
    assert_eq!(parent.priority, Some(2));
    assert_eq!(parent.last_modified, at.timestamp_millis());
    assert_eq!(child.parent_id, Some(parent.id));

    let nodes = store.alert_nodes().await.unwrap();
    assert_eq!(nodes, vec![parent.clone(), child.clone()]);
    let lineage: Vec<i64> = store
        .alert_lineage(child.id)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(lineage, [child.id, parent.id]);

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.lock_alert_tree().await.unwrap().len(), 2);
    assert_eq!(tx.alerts_using_check(check_id).await.unwrap(), [parent.id]);
    let mut renamed = child.clone();
    renamed.name = Some("renamed".into());
    renamed.last_modified_by = "bob".into();
    tx.update_alert(&renamed).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.alert_lineage(child.id).await.unwrap()[0], renamed);

    // A check an alert names cannot go; neither can a parent.
    let mut tx = store.begin().await.unwrap();
    let err = tx.delete_check(check_id).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let err = tx.delete_alert(parent.id).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_alert(child.id).await.unwrap());
    assert!(tx.delete_alert(parent.id).await.unwrap());
    tx.commit().await.unwrap();
    assert!(store.alert_nodes().await.unwrap().is_empty());
}

async fn downtimes_and_change_counter(store: Arc<dyn Store>) {
    let kinds = [AuditKind::Downtime];
    let before = store.change_counter(&kinds).await.unwrap();
    let now_s = Utc::now().timestamp();
    let group_id = Uuid::new_v4();
    let spec = DowntimeSpec {
        comment: "maintenance".into(),
        start_time: now_s - 10,
        end_time: now_s + 3600,
        entities: vec!["host-a".into(), "host-b".into()],
        alert_definitions: Some(vec![7]),
    };
    let downtime = |entity: &str| Downtime {
        id: Uuid::new_v4(),
        alert_id: 7,
        entity: entity.into(),
        group_id,
        comment: spec.comment.clone(),
        start_time: spec.start_time,
        end_time: spec.end_time,
        created_by: "alice".into(),
    };
    let downtimes = vec![downtime("host-b"), downtime("host-a")];
    let group = DowntimeGroup {
        id: group_id,
        comment: Some(spec.comment.clone()),
        start_time: Some(spec.start_time),
        end_time: Some(spec.end_time),
        created_by: Some("alice".into()),
        entities: vec!["host-a".into(), "host-b".into()],
        alert_definitions: vec![7],
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_downtime_group(&group, &spec, &downtimes)
        .await
        .unwrap();
    let entry = audit(
        AuditKind::Downtime,
        &group_id.to_string(),
        AuditAction::Create,
        None,
    );
    tx.append_audit(&entry).await.unwrap();
    tx.commit().await.unwrap();

    let after_create = store.change_counter(&kinds).await.unwrap();
    assert!(after_create > before);
    // Other kinds do not move the downtime counter.
    assert_eq!(store.change_counter(&[AuditKind::Entity]).await.unwrap(), 0);
    assert_eq!(
        store.live_downtime_groups(now_s).await.unwrap(),
        vec![group.clone()]
    );
    let live = store.live_downtimes(now_s).await.unwrap();
    let entities: Vec<&str> = live.iter().map(|d| d.entity.as_str()).collect();
    assert_eq!(entities, ["host-a", "host-b"]);
    assert_eq!(live[0].group_id, group_id);
    // Over by then.
    assert!(store.live_downtimes(now_s + 7200).await.unwrap().is_empty());

    let mut tx = store.begin().await.unwrap();
    let (locked, covered) = tx.lock_downtime_group(group_id).await.unwrap().unwrap();
    assert_eq!((locked, covered.len()), (group, 2));
    tx.mark_downtime_group_deleted(group_id, "bob", now())
        .await
        .unwrap();
    let entry = audit(
        AuditKind::Downtime,
        &group_id.to_string(),
        AuditAction::Delete,
        None,
    );
    tx.append_audit(&entry).await.unwrap();
    tx.commit().await.unwrap();

    assert!(store.change_counter(&kinds).await.unwrap() > after_create);
    assert!(store.live_downtime_groups(now_s).await.unwrap().is_empty());
    assert!(store.live_downtimes(now_s).await.unwrap().is_empty());
    let mut tx = store.begin().await.unwrap();
    assert!(tx.lock_downtime_group(group_id).await.unwrap().is_none());
}

async fn users_and_tokens(store: Arc<dyn Store>) {
    let user = |name: &str, teams: &[&str]| NewUser {
        name: name.into(),
        password_hash: Some("$argon2id$hash".into()),
        role: Role::Lead,
        teams: teams.iter().map(|t| t.to_string()).collect(),
    };
    store.create_user(&user("zoe", &["Team-Z"])).await.unwrap();
    store
        .create_user(&user("alice", &["team-a", " "]))
        .await
        .unwrap();
    let err = store.create_user(&user("alice", &[])).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m == "a user with this name already exists"),
        "{err:?}"
    );
    let names: Vec<String> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["alice", "zoe"]);
    let alice = store.user("alice").await.unwrap().unwrap();
    assert_eq!(
        (alice.role, alice.teams.as_slice()),
        (Role::Lead, &["team-a".to_string(), " ".into()][..])
    );
    assert!(store.user("nobody").await.unwrap().is_none());

    let mut tx = store.begin().await.unwrap();
    tx.insert_check(&check("c", "team-c"), "alice", now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.teams().await.unwrap(), ["Team-Z", "team-a", "team-c"]);

    let expires = now() + chrono::Duration::days(1);
    let token = NewToken {
        id: Uuid::new_v4(),
        user_name: "alice".into(),
        token_hash: "sha256-of-token".into(),
        label: Some("ci".into()),
        expires_at: Some(expires),
    };
    store.create_token(&token).await.unwrap();
    let dup = NewToken {
        id: Uuid::new_v4(),
        ..token.clone()
    };
    assert!(matches!(
        store.create_token(&dup).await,
        Err(StoreError::Conflict(_))
    ));
    let unknown_user = NewToken {
        id: Uuid::new_v4(),
        user_name: "nobody".into(),
        token_hash: "other".into(),
        ..token.clone()
    };
    assert!(matches!(
        store.create_token(&unknown_user).await,
        Err(StoreError::Conflict(_))
    ));

    let (found, owner) = store
        .token_by_hash("sha256-of-token")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, found.label.as_deref()), (token.id, Some("ci")));
    assert_eq!(found.expires_at, Some(expires));
    assert_eq!(owner, alice);
    assert!(found.is_usable_at(now()));
    assert!(store.token_by_hash("nope").await.unwrap().is_none());

    let used = now();
    store.touch_token(token.id, used).await.unwrap();
    assert!(store.revoke_token(token.id).await.unwrap());
    assert!(!store.revoke_token(token.id).await.unwrap());
    assert!(!store.revoke_token(Uuid::new_v4()).await.unwrap());
    let listed = store.tokens(Some("alice")).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(used));
    assert!(listed[0].revoked_at.is_some() && !listed[0].is_usable_at(now()));
    assert_eq!(store.tokens(None).await.unwrap(), listed);
    assert!(store.tokens(Some("zoe")).await.unwrap().is_empty());

    // Deleting a user takes their tokens with them.
    assert!(store.delete_user("alice").await.unwrap());
    assert!(!store.delete_user("alice").await.unwrap());
    assert!(store.user("alice").await.unwrap().is_none());
    assert!(store.tokens(Some("alice")).await.unwrap().is_empty());
    assert!(
        store
            .token_by_hash("sha256-of-token")
            .await
            .unwrap()
            .is_none()
    );
}

async fn audit_log_entries(store: Arc<dyn Store>) {
    assert!(
        store
            .last_change(AuditKind::Entity)
            .await
            .unwrap()
            .is_none()
    );
    let mut tx = store.begin().await.unwrap();
    let created = audit(
        AuditKind::Entity,
        "host-a",
        AuditAction::Create,
        Some(json!({"id": "host-a", "n": 1.5})),
    );
    tx.append_audit(&created).await.unwrap();
    let mut updated = audit(
        AuditKind::Entity,
        "host-a",
        AuditAction::Update,
        Some(json!({"id": "host-a"})),
    );
    updated.before = created.after.clone();
    updated.at = created.at + chrono::Duration::seconds(1);
    tx.append_audit(&updated).await.unwrap();
    tx.append_audit(&audit(
        AuditKind::Entity,
        "host-b",
        AuditAction::Delete,
        None,
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // A rolled back entry never shows.
    let mut tx = store.begin().await.unwrap();
    tx.append_audit(&audit(
        AuditKind::Entity,
        "host-a",
        AuditAction::Delete,
        None,
    ))
    .await
    .unwrap();
    drop(tx);

    let trail = store
        .audit_trail(AuditKind::Entity, "host-a")
        .await
        .unwrap();
    assert_eq!(trail.len(), 2);
    assert!(trail[0].id < trail[1].id);
    assert_eq!(
        (trail[0].action.as_str(), trail[1].action.as_str()),
        ("create", "update")
    );
    assert_eq!(trail[0].kind, "entity");
    assert_eq!(trail[0].before, None);
    assert_eq!(trail[0].after, Some(json!({"id": "host-a", "n": 1.5})));
    assert_eq!(trail[1].before, trail[0].after);
    assert_eq!(trail[0].at, created.at);
    let latest = store.last_change(AuditKind::Entity).await.unwrap();
    assert_eq!(latest, Some(updated.at));
    assert!(
        store
            .audit_trail(AuditKind::CheckDefinition, "host-a")
            .await
            .unwrap()
            .is_empty()
    );
}

async fn dashboards_and_onetime_tokens(store: Arc<dyn Store>) {
    let at = now();
    let draft = DashboardDraft {
        id: None,
        name: "ops".into(),
        view_mode: ViewMode::Compact,
        edit_option: EditOption::Team,
        alert_teams: vec!["team-a".into()],
        tags: vec!["prod".into()],
        shared_teams: vec![],
        widget_configuration: json!([{"type": "chart", "options": {"a": 1}}]),
    };
    let mut tx = store.begin().await.unwrap();
    let first = tx.insert_dashboard(&draft, "alice", at).await.unwrap();
    let second = tx.insert_dashboard(&draft, "bob", at).await.unwrap();
    tx.commit().await.unwrap();
    assert!(second.id > first.id);
    assert_eq!(first.widget_configuration, draft.widget_configuration);
    assert_eq!(
        (first.view_mode, first.edit_option),
        (ViewMode::Compact, EditOption::Team)
    );

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.lock_dashboard(first.id).await.unwrap().unwrap(), first);
    let renamed = DashboardDraft {
        name: "ops 2".into(),
        ..draft.clone()
    };
    let updated = tx
        .update_dashboard(first.id, &renamed, "bob", at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (updated.name.as_str(), updated.created_by.as_str()),
        ("ops 2", "alice")
    );
    assert_eq!(store.dashboard(first.id).await.unwrap().unwrap(), updated);
    assert_eq!(store.dashboards().await.unwrap(), vec![updated, second]);
    assert!(store.dashboard(9999).await.unwrap().is_none());

    let token = |value: &str, created: DateTime<Utc>| OnetimeToken {
        token: value.into(),
        created_by: "alice".into(),
        created,
        expires: created + chrono::Duration::minutes(5),
        bound_ip: None,
        bound_at: None,
        bound_expires: None,
    };
    let t0 = now();
    let first = token("tok1", t0);
    let not_after = t0 - chrono::Duration::minutes(1);
    assert!(store.create_onetime_token(&first, not_after).await.unwrap());
    // Rate limited: alice made one after `not_after`.
    assert!(
        !store
            .create_onetime_token(&token("tok2", t0), not_after)
            .await
            .unwrap()
    );
    let later = token("tok3", t0 + chrono::Duration::minutes(2));
    assert!(store.create_onetime_token(&later, t0).await.unwrap());
    assert_eq!(
        store.onetime_tokens("alice").await.unwrap(),
        vec![first, later]
    );
    assert!(store.onetime_tokens("bob").await.unwrap().is_empty());
}

async fn alert_events_append_and_list(store: Arc<dyn Store>) {
    let event = |kind, entity: &str, ts: f64| {
        let mut captures = serde_json::Map::new();
        captures.insert("load".into(), json!(1.25));
        AlertEvent {
            kind,
            alert_id: 42,
            entity: entity.into(),
            ts,
            captures,
            value: json!({"v": [1, "x"]}),
            worker: "worker-1".into(),
            data: None,
        }
    };
    let batch = vec![
        (
            "1-0".to_string(),
            event(AlertEventKind::AlertStarted, "host-a", 1_700_000_000.5),
        ),
        (
            "2-0".to_string(),
            event(
                AlertEventKind::AlertEntityStarted,
                "host-a",
                1_700_000_001.25,
            ),
        ),
        (
            "3-0".to_string(),
            event(AlertEventKind::AlertEntityEnded, "host-a", 1_700_000_002.0),
        ),
    ];
    assert_eq!(store.append_alert_events(&batch).await.unwrap(), 3);
    // Redelivered events are skipped.
    let again = vec![
        batch[2].clone(),
        (
            "4-0".into(),
            event(AlertEventKind::AlertEnded, "host-a", 1_700_000_003.0),
        ),
    ];
    assert_eq!(store.append_alert_events(&again).await.unwrap(), 1);
    assert_eq!(store.append_alert_events(&[]).await.unwrap(), 0);

    let listed = store.alert_events(42, 3).await.unwrap();
    let kinds: Vec<AlertEventKind> = listed.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            AlertEventKind::AlertEnded,
            AlertEventKind::AlertEntityEnded,
            AlertEventKind::AlertEntityStarted
        ]
    );
    assert_eq!(listed[2], batch[1].1);
    assert!(store.alert_events(43, 10).await.unwrap().is_empty());
}

async fn change_listener_fires_after_commit(store: Arc<dyn Store>) {
    let mut listener = store.listen_changes().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let doc = json!({"id": "host-a", "type": "host"});
    tx.put_entity(&entity(doc), "alice", now()).await.unwrap();
    // Nothing is announced before the commit.
    let early = tokio::time::timeout(Duration::from_millis(200), listener.changed()).await;
    assert!(early.is_err(), "a change was announced before the commit");
    tx.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), listener.changed())
        .await
        .expect("no change announced after the commit")
        .unwrap();

    // A rolled-back transaction announces nothing.
    let mut tx = store.begin().await.unwrap();
    tx.put_entity(
        &entity(json!({"id": "host-b", "type": "host"})),
        "alice",
        now(),
    )
    .await
    .unwrap();
    drop(tx);
    let quiet = tokio::time::timeout(Duration::from_millis(200), listener.changed()).await;
    assert!(quiet.is_err(), "a rollback was announced");
}

async fn fleet_server_ids_are_stable_and_never_reused(store: Arc<dyn Store>) {
    let ids = |pairs: Vec<(String, i64)>| -> Vec<(String, i64)> { pairs };
    assert!(store.fleet_server_ids(&[]).await.expect("empty").is_empty());
    let first = ids(store
        .fleet_server_ids(&["web-2".into(), "web-1".into()])
        .await
        .expect("assign"));
    assert_eq!(
        first,
        [("web-2".to_string(), 1), ("web-1".to_string(), 2)],
        "assigned in the order given"
    );
    let again = store
        .fleet_server_ids(&["web-1".into(), "db-1".into(), "web-2".into()])
        .await
        .expect("assign more");
    assert_eq!(
        again,
        [
            ("web-2".to_string(), 1),
            ("web-1".to_string(), 2),
            ("db-1".to_string(), 3)
        ],
        "known hosts keep their ids; results come in id order"
    );
}

async fn monitors_and_their_minutes(store: Arc<dyn Store>) {
    let draft = serde_json::from_value::<MonitorInput>(json!({
        "name": "web", "type": "tcp", "target": "example.org:443",
        "cover": "except", "servers": [1, "node-b"]}))
    .unwrap()
    .validate()
    .unwrap();
    let at = now();
    let mut tx = store.begin().await.unwrap();
    let monitor = tx.insert_monitor(&draft, "ops", "alice", at).await.unwrap();
    let check = tx
        .insert_check(
            &draft.check_definition(monitor.id, "ops", &["node-a".into()]),
            "alice",
            at,
        )
        .await
        .unwrap();
    let monitor = tx
        .update_monitor(monitor.id, &draft, "ops", check.id, "alice", at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(monitor.check_definition_id, check.id);
    assert_eq!(store.monitors().await.unwrap(), vec![monitor.clone()]);
    assert_eq!(
        store.monitor(monitor.id).await.unwrap(),
        Some(monitor.clone())
    );
    assert_eq!(store.monitor(monitor.id + 1).await.unwrap(), None);
    let stored = store.check(check.id).await.unwrap().unwrap();
    assert_eq!(stored.monitor_id(), Some(monitor.id));
    assert_eq!(
        serde_json::to_value(&stored.entities_exclude).unwrap(),
        json!([{"type": "host", "id": "node-a"}]),
        "entities_exclude round-trips"
    );

    let minute = |server_id, minute, successes, failures, delay_sum_ms| MonitorMinute {
        monitor_id: monitor.id,
        server_id,
        minute,
        successes,
        failures,
        delay_sum_ms,
    };
    // Duplicates within a batch and across batches add up; counts of an
    // unknown monitor are dropped, not an error.
    store
        .add_monitor_minutes(&[
            minute(1, 60, 1, 0, 10.0),
            minute(1, 60, 1, 1, 30.0),
            minute(1, 120, 0, 2, 0.0),
            minute(2, 60, 1, 0, 5.0),
            MonitorMinute {
                monitor_id: monitor.id + 100,
                ..minute(1, 60, 1, 0, 1.0)
            },
        ])
        .await
        .unwrap();
    store
        .add_monitor_minutes(&[minute(1, 60, 1, 0, 20.0)])
        .await
        .unwrap();
    let history = store.monitor_history(1, 0).await.unwrap();
    assert_eq!(
        history,
        vec![minute(1, 60, 3, 1, 60.0), minute(1, 120, 0, 2, 0.0)]
    );
    assert_eq!(history[0].avg_delay_ms(), Some(20.0));
    assert_eq!(
        store.monitor_history(1, 61).await.unwrap().len(),
        1,
        "since is honoured"
    );

    assert_eq!(
        store.prune_monitor_minutes(120).await.unwrap(),
        2,
        "both servers' minute 60"
    );
    assert_eq!(
        store.monitor_history(1, 0).await.unwrap(),
        vec![minute(1, 120, 0, 2, 0.0)]
    );
    assert_eq!(store.prune_monitor_minutes(120).await.unwrap(), 0);

    let ids = store
        .fleet_server_ids(&["node-a".to_string(), "node-b".to_string()])
        .await
        .unwrap();
    let by_id = store.fleet_entities(&[ids[1].1, 999]).await.unwrap();
    assert_eq!(by_id, vec![(ids[1].1, "node-b".to_string())]);

    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_monitor(monitor.id).await.unwrap());
    assert!(tx.delete_check(check.id).await.unwrap());
    tx.commit().await.unwrap();
    assert!(store.monitors().await.unwrap().is_empty());
    assert!(
        store.monitor_history(1, 0).await.unwrap().is_empty(),
        "history goes with it"
    );
}

async fn notification_events_keep_their_details(store: Arc<dyn Store>) {
    let event = AlertEvent {
        kind: AlertEventKind::NotificationFailed,
        alert_id: 4,
        entity: "h1".into(),
        ts: 1_700_000_000.25,
        captures: serde_json::Map::new(),
        value: Value::Null,
        worker: "notifier-1".into(),
        data: Some(json!({"expr": "send_slack()", "attempt": 2, "error": "HTTP 503"})),
    };
    assert_eq!(
        store
            .append_alert_events(&[("n-1".into(), event.clone())])
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.alert_events(4, 10).await.unwrap(), vec![event]);
}

async fn event_history_pages_by_keyset_and_filters(store: Arc<dyn Store>) {
    let event = |n: i64, ts: f64, kind: AlertEventKind, entity: &str| {
        (
            format!("s-{n}"),
            AlertEvent {
                kind,
                alert_id: 7,
                entity: entity.into(),
                ts,
                captures: serde_json::Map::new(),
                value: Value::Null,
                worker: "w".into(),
                data: None,
            },
        )
    };
    use AlertEventKind::{AlertEntityEnded as Ended, AlertEntityStarted as Started};
    store
        .append_alert_events(&[
            event(1, 100.0, Started, "a"),
            event(2, 200.0, Ended, "a"),
            event(3, 200.0, Started, "b"),
            event(4, 300.0, Started, "b"),
        ])
        .await
        .unwrap();
    let page = |before: Option<(i64, i64)>| EventQuery {
        alert_id: Some(7),
        before,
        limit: 2,
        ..EventQuery::default()
    };
    let first = store.events(&page(None)).await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].event.ts, 300.0, "newest first");
    // A newer event arriving between pages does not shift the next page.
    store
        .append_alert_events(&[event(5, 400.0, Started, "c")])
        .await
        .unwrap();
    let last = &first[1];
    let cursor = Some(((last.event.ts * 1e6) as i64, last.id));
    let second = store.events(&page(cursor)).await.unwrap();
    let seen: Vec<f64> = first.iter().chain(&second).map(|e| e.event.ts).collect();
    assert_eq!(
        seen,
        [300.0, 200.0, 200.0, 100.0],
        "no gaps, no repeats, ties by id"
    );
    let ids: std::collections::BTreeSet<i64> = first.iter().chain(&second).map(|e| e.id).collect();
    assert_eq!(ids.len(), 4);

    let filtered = store
        .events(&EventQuery {
            entity: Some("b".into()),
            kinds: vec!["ALERT_ENTITY_STARTED".into()],
            since: Some(250_000_000),
            limit: 10,
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        filtered.iter().map(|e| e.event.ts).collect::<Vec<_>>(),
        [300.0]
    );
    let until = store
        .events(&EventQuery {
            until: Some(200_000_000),
            limit: 10,
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(until.len(), 1, "until is exclusive");
    assert_eq!(store.prune_events(250_000_000).await.unwrap(), 3);
    assert_eq!(store.events(&page(None)).await.unwrap().len(), 2);
}

async fn instance_secrets_are_created_once(store: Arc<dyn Store>) {
    let first = store
        .instance_secret("session", "candidate-a")
        .await
        .expect("create");
    assert_eq!(first, "candidate-a");
    // Replicas racing with their own candidates all get the stored one.
    let racing: Vec<_> = ["b", "c", "d", "e"]
        .into_iter()
        .map(|candidate| {
            let store = store.clone();
            tokio::spawn(async move { store.instance_secret("session", candidate).await })
        })
        .collect();
    for task in racing {
        let got = task.await.expect("joined").expect("read");
        assert_eq!(got, "candidate-a");
    }
    assert_eq!(
        store
            .instance_secret("other", "x")
            .await
            .expect("another name"),
        "x"
    );
}

fn oauth_login(state: &str, at: DateTime<Utc>) -> OAuthLogin {
    OAuthLogin {
        state: state.into(),
        provider: "oidc".into(),
        pkce_verifier: format!("verifier-{state}"),
        nonce: format!("nonce-{state}"),
        next_path: "/alerts/3".into(),
        created_at: at,
    }
}

async fn oauth_logins_work_once_and_expire(store: Arc<dyn Store>) {
    let t0 = now();
    store
        .put_oauth_login(&oauth_login("old", t0), t0 - chrono::Duration::minutes(10))
        .await
        .unwrap();
    let later = t0 + chrono::Duration::minutes(20);
    store
        .put_oauth_login(
            &oauth_login("new", later),
            later - chrono::Duration::minutes(10),
        )
        .await
        .unwrap();
    assert!(
        store.take_oauth_login("old").await.unwrap().is_none(),
        "expired logins are dropped"
    );
    let taken = store.take_oauth_login("new").await.unwrap().expect("kept");
    assert_eq!(taken, oauth_login("new", later));
    assert!(
        store.take_oauth_login("new").await.unwrap().is_none(),
        "a state works once"
    );
    assert!(
        store
            .put_oauth_login(&oauth_login("dup", later), t0)
            .await
            .is_ok()
    );
    assert!(matches!(
        store.put_oauth_login(&oauth_login("dup", later), t0).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn external_users_follow_their_provider_but_local_ones_do_not(store: Arc<dyn Store>) {
    let external = |role: Role, teams: &[&str]| NewUser {
        name: "ana@example.org".into(),
        password_hash: None,
        role,
        teams: teams.iter().map(|t| t.to_string()).collect(),
    };
    let first = store
        .upsert_external_user(&external(Role::Viewer, &["db"]))
        .await
        .unwrap();
    assert_eq!(
        (first.role, first.teams.clone()),
        (Role::Viewer, vec!["db".to_string()])
    );
    let again = store
        .upsert_external_user(&external(Role::User, &["db", "web"]))
        .await
        .unwrap();
    assert_eq!(again.role, Role::User, "the provider's mapping is followed");
    assert_eq!(again.teams, ["db", "web"]);
    assert_eq!(again.created_at, first.created_at);

    store
        .create_user(&NewUser {
            name: "bob".into(),
            password_hash: Some("hash".into()),
            role: Role::Admin,
            teams: vec!["ops".into()],
        })
        .await
        .unwrap();
    let local = store
        .upsert_external_user(&NewUser {
            name: "bob".into(),
            password_hash: None,
            role: Role::Viewer,
            teams: vec![],
        })
        .await
        .unwrap();
    assert_eq!(
        (local.role, local.teams),
        (Role::Admin, vec!["ops".to_string()])
    );
    assert_eq!(local.password_hash.as_deref(), Some("hash"), "untouched");
}
