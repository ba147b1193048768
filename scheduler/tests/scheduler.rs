//! The scheduler against real PostgreSQL and Redis.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use zmon_bus::testing::TestKeySpace;
use zmon_bus::{AlertUpdate, Bus, CheckRecord, RedisBus};
use zmon_core::alert::AlertDefinitionInput;
use zmon_core::check::CheckDefinitionInput;
use zmon_core::status::CheckResult;
use zmon_core::time::SystemClock;
use zmon_core::{Entity, Task};
use zmon_scheduler::{RunningScheduler, SchedulerConfig, start};
use zmon_store::testing::TestDatabase;
use zmon_store::{AuditAction, AuditEntry, AuditKind, PostgresStore, Store};

struct World {
    store: Arc<PostgresStore>,
    bus: Arc<RedisBus>,
    space: TestKeySpace,
    _db: TestDatabase,
}

fn audit(kind: AuditKind, id: impl ToString) -> AuditEntry {
    AuditEntry {
        at: Utc::now(),
        actor: "test".into(),
        kind,
        object_id: id.to_string(),
        action: AuditAction::Create,
        before: None,
        after: None,
    }
}

impl World {
    async fn new() -> Self {
        let db = TestDatabase::create().await.expect("database");
        let store = Arc::new(db.store().await.expect("store"));
        let space = TestKeySpace::new("schedtest");
        let bus = Arc::new(space.bus().expect("bus"));
        Self {
            store,
            bus,
            space,
            _db: db,
        }
    }

    async fn entity(&self, doc: Value) {
        let entity = Entity::from_document(doc).expect("entity");
        let mut tx = self.store.begin().await.expect("tx");
        tx.put_entity(&entity, "test", Utc::now())
            .await
            .expect("put");
        tx.append_audit(&audit(AuditKind::Entity, entity.id()))
            .await
            .expect("audit");
        tx.commit().await.expect("commit");
    }

    async fn delete_entity(&self, id: &str) {
        let mut tx = self.store.begin().await.expect("tx");
        tx.delete_entity(id).await.expect("delete");
        tx.append_audit(&audit(AuditKind::Entity, id))
            .await
            .expect("audit");
        tx.commit().await.expect("commit");
    }

    async fn check(&self, interval: i64) -> i64 {
        let input: CheckDefinitionInput = serde_json::from_value(json!({"name": format!("c{interval}"),
            "owning_team": "t", "command": "entity.load", "interval": interval, "entities": [{"type": "host"}]}))
        .expect("check");
        let mut tx = self.store.begin().await.expect("tx");
        let check = tx
            .insert_check(&input.validate().expect("valid"), "test", Utc::now())
            .await
            .expect("insert");
        tx.append_audit(&audit(AuditKind::CheckDefinition, check.id))
            .await
            .expect("audit");
        tx.commit().await.expect("commit");
        check.id
    }

    async fn alert(&self, check_id: i64, extra: Value) -> i64 {
        let mut body = json!({"name": "a", "description": "d", "team": "t", "condition": ">1",
            "priority": 1, "check_definition_id": check_id});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let input: AlertDefinitionInput = serde_json::from_value(body).expect("alert");
        let mut tx = self.store.begin().await.expect("tx");
        let alert = tx
            .insert_alert(&input.validate().expect("valid"), "test", Utc::now())
            .await
            .expect("insert");
        tx.append_audit(&audit(AuditKind::AlertDefinition, alert.id))
            .await
            .expect("audit");
        tx.commit().await.expect("commit");
        alert.id
    }

    fn scheduler(&self, name: &str) -> RunningScheduler {
        let config = SchedulerConfig {
            name: name.into(),
            leader_ttl: Duration::from_millis(600),
            cleanup_delay: Duration::from_millis(200),
            heartbeat_interval: Duration::from_millis(200),
            ..SchedulerConfig::default()
        };
        start(
            config,
            self.store.clone(),
            self.bus.clone(),
            Arc::new(SystemClock),
        )
    }

    async fn queued(&self) -> Vec<Task> {
        let mut conn = self.space.connection().await.expect("conn");
        let raw: Vec<String> =
            redis::AsyncCommands::lrange(&mut conn, self.space.keys.queue("default"), 0, -1)
                .await
                .expect("LRANGE");
        raw.iter()
            .map(|r| serde_json::from_str(r).expect("task JSON"))
            .collect()
    }

    async fn wait_for_task(&self, entity: &str) -> Task {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(t) = self
                .queued()
                .await
                .into_iter()
                .find(|t| t.entity_id() == entity)
            {
                return t;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no task for {entity}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn schedules_matching_entities_with_their_alerts() {
    let w = World::new().await;
    w.entity(json!({"id": "h1", "type": "host", "load": 3}))
        .await;
    w.entity(json!({"id": "h2", "type": "host", "env": "test"}))
        .await;
    let check = w.check(1).await;
    let alert = w
        .alert(check, json!({"entities_exclude": [{"env": "test"}]}))
        .await;
    let scheduler = w.scheduler("s1");
    let task = w.wait_for_task("h1").await;
    assert_eq!(task.check.check_id, check);
    assert_eq!(task.check.command, "entity.load");
    assert_eq!(task.check.entity["load"], 3);
    assert_eq!(
        task.alerts.iter().map(|a| a.id).collect::<Vec<_>>(),
        [alert]
    );
    assert!(
        task.expires_at > task.check.schedule_time
            && task.expires_at <= task.check.schedule_time + 1.0
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let queued = w.queued().await;
    assert!(
        queued.iter().filter(|t| t.entity_id() == "h1").count() >= 2,
        "runs every second"
    );
    assert!(
        queued.iter().all(|t| t.entity_id() != "h2"),
        "excluded by every alert"
    );
    scheduler.stopper().stop();
    scheduler.run().await;
}

#[tokio::test]
async fn changes_are_picked_up_without_waiting_for_the_reload() {
    let w = World::new().await;
    w.entity(json!({"id": "h1", "type": "host"})).await;
    let check = w.check(1).await;
    w.alert(check, json!({})).await;
    let scheduler = w.scheduler("s1");
    w.wait_for_task("h1").await;
    w.entity(json!({"id": "h3", "type": "host"})).await;
    w.wait_for_task("h3").await;
    scheduler.stopper().stop();
    scheduler.run().await;
}

#[tokio::test]
async fn a_check_saved_while_running_runs_at_once() {
    let w = World::new().await;
    w.entity(json!({"id": "h1", "type": "host"})).await;
    let scheduler = w.scheduler("s1");
    // Once the first plan (without checks) is loaded, a daily check added
    // must not wait for a random point in its day.
    let metrics = scheduler.metrics();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while metrics.reloads.get() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no plan loaded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let check = w.check(86_400).await;
    w.alert(check, json!({})).await;
    let task = w.wait_for_task("h1").await;
    assert_eq!(task.check.check_id, check);
    scheduler.stopper().stop();
    scheduler.run().await;
}

#[tokio::test]
async fn an_alert_added_to_a_running_check_is_evaluated_at_once() {
    let w = World::new().await;
    w.entity(json!({"id": "h1", "type": "host"})).await;
    let check = w.check(86_400).await;
    let first = w.alert(check, json!({})).await;
    let scheduler = w.scheduler("s1");
    // The first plan may run the daily check at once (its offset is
    // random), so wait for the plan, then for the tasks it queued, if any.
    let metrics = scheduler.metrics();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while metrics.reloads.get() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no plan loaded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = w.alert(check, json!({"name": "second"})).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let with_both = w.queued().await.into_iter().any(|t| {
            let ids: Vec<i64> = t.alerts.iter().map(|a| a.id).collect();
            ids.contains(&first) && ids.contains(&second)
        });
        if with_both {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new alert waited for the check's next interval"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    scheduler.stopper().stop();
    scheduler.run().await;
}

#[tokio::test]
async fn instant_evaluation_runs_a_check_now() {
    let w = World::new().await;
    w.entity(json!({"id": "h1", "type": "host"})).await;
    let check = w.check(86_400).await;
    w.alert(check, json!({})).await;
    let scheduler = w.scheduler("s1");
    // Let it lead and load; the daily check is almost surely not due.
    tokio::time::sleep(Duration::from_millis(500)).await;
    w.bus
        .request_instant_evaluation(check)
        .await
        .expect("request");
    let task = w.wait_for_task("h1").await;
    assert_eq!(task.check.check_id, check);
    scheduler.stopper().stop();
    scheduler.run().await;
}

#[tokio::test]
async fn a_second_replica_takes_over_when_the_leader_dies() {
    let w = World::new().await;
    w.entity(json!({"id": "h1", "type": "host"})).await;
    let check = w.check(1).await;
    w.alert(check, json!({})).await;
    let a = w.scheduler("a");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = w.scheduler("b");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let leading = |s: &RunningScheduler| {
        s.metrics()
            .render()
            .lines()
            .any(|l| l == "zmon_scheduler_leader 1")
    };
    assert!(
        leading(&a) && !leading(&b),
        "exactly one leads:\n{}\n{}",
        a.metrics().render(),
        b.metrics().render()
    );
    a.kill();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !leading(&b) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "b did not take over"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut conn = w.space.connection().await.expect("conn");
    let _: () = redis::AsyncCommands::del(&mut conn, w.space.keys.queue("default"))
        .await
        .expect("DEL");
    w.wait_for_task("h1").await;
    b.stopper().stop();
    b.run().await;
}

/// A run of `check` on `entity` that left `alert` raised or not.
fn check_record(
    check: i64,
    entity: &str,
    alert: i64,
    raised: Option<zmon_core::AlertStatus>,
) -> CheckRecord {
    CheckRecord {
        check_id: check,
        entity: entity.into(),
        result: CheckResult {
            ts: 1.0,
            td: 0.1,
            value: json!(5),
            worker: "w".into(),
            exc: None,
        },
        alerts: vec![AlertUpdate {
            alert_id: alert,
            captures: Default::default(),
            raised,
        }],
    }
}

#[tokio::test]
async fn state_of_removed_entities_is_cleaned_up() {
    let w = World::new().await;
    w.entity(json!({"id": "h1", "type": "host"})).await;
    w.entity(json!({"id": "h2", "type": "host"})).await;
    let check = w.check(3600).await;
    let alert = w.alert(check, json!({})).await;
    for entity in ["h1", "h2"] {
        let record = check_record(check, entity, alert, None);
        w.bus.record(&record, None).await.expect("record");
    }
    let scheduler = w.scheduler("s1");
    tokio::time::sleep(Duration::from_millis(500)).await;
    w.delete_entity("h1").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let gone = w
            .bus
            .recent_results(check, "h1", 1)
            .await
            .expect("results")
            .is_empty()
            && !w
                .bus
                .evaluated_entities(alert)
                .await
                .expect("evaluated")
                .contains_key("h1");
        if gone {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "h1 was not cleaned up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        w.bus
            .recent_results(check, "h2", 1)
            .await
            .expect("results")
            .len(),
        1,
        "h2 stays"
    );
    scheduler.stopper().stop();
    scheduler.run().await;
}

#[tokio::test]
async fn removing_an_entity_in_alert_closes_its_incidents() {
    use zmon_core::AlertStatus;
    use zmon_core::notification::NotifyEvent;
    let w = World::new().await;
    w.entity(json!({"id": "h1", "type": "host"})).await;
    w.entity(json!({"id": "h2", "type": "host"})).await;
    let check = w.check(3600).await;
    let alert = w
        .alert(
            check,
            json!({"notifications": ["notify_pagerduty(per_entity=True)", "send_mail('a@b.org')"]}),
        )
        .await;
    let raised = AlertStatus {
        td: 0.1,
        downtimes: vec![],
        captures: Default::default(),
        start_time: 1.0,
        worker: "w".into(),
        ts: 1.0,
        value: json!(5),
        exc: None,
    };
    for entity in ["h1", "h2"] {
        let record = check_record(check, entity, alert, Some(raised.clone()));
        w.bus.record(&record, None).await.expect("record");
        // As a worker marks what it announced.
        w.bus
            .update_notification_marks(
                alert,
                entity,
                &[
                    ("notify_pagerduty(per_entity=True)".into(), 0.0),
                    ("send_mail('a@b.org')".into(), 0.0),
                ],
                &[],
            )
            .await
            .expect("marks");
    }
    let mut requests = w
        .bus
        .notification_consumer("test", "t")
        .await
        .expect("consumer");
    let _scheduler = w.scheduler("s1");
    tokio::time::sleep(Duration::from_millis(500)).await;
    w.delete_entity("h1").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let ended = loop {
        let got = requests
            .next(10, Duration::from_millis(100))
            .await
            .expect("read");
        let got: Vec<_> = got.into_iter().filter_map(|(_, r)| r.ok()).collect();
        if !got.is_empty() {
            break got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no ENDED for the removed entity"
        );
    };
    assert_eq!(ended.len(), 1, "only the incident tracker: {ended:?}");
    assert_eq!(ended[0].event, NotifyEvent::Ended);
    assert_eq!(ended[0].entity_id, "h1");
    assert_eq!(ended[0].expr, "notify_pagerduty(per_entity=True)");
    assert_eq!(ended[0].reason.as_deref(), Some("entity_removed"));
    assert!(
        w.bus
            .raised_entities(alert)
            .await
            .expect("raised")
            .contains("h2"),
        "h2 is untouched"
    );
}
