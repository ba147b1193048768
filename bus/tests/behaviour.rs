//! What every bus must do: each behaviour is one function, run against
//! Redis (each test on its own key prefix) in `on_redis` and against the
//! in-process bus in `on_memory`. Tests of what only one bus has follow.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, json};
use zmon_bus::testing::TestKeySpace;
use zmon_bus::{AlertUpdate, Bus, CheckRecord, MemoryBus, MemoryBusConfig};
use zmon_core::event::{AlertEvent, AlertEventKind};
use zmon_core::monitor::ProbeSample;
use zmon_core::status::CheckResult;
use zmon_core::task::{TaskCheck, TaskKind, TrialResult};
use zmon_core::{AlertStatus, Task};

struct TestBus {
    bus: Arc<dyn Bus>,
    /// The Redis key space, emptied when the test ends.
    _space: Option<TestKeySpace>,
}

fn redis_bus() -> TestBus {
    let space = TestKeySpace::new("bustest");
    TestBus {
        bus: Arc::new(space.bus().expect("redis url")),
        _space: Some(space),
    }
}

fn memory_bus() -> TestBus {
    TestBus {
        bus: Arc::new(MemoryBus::default()),
        _space: None,
    }
}

/// Runs each behaviour against both buses, as `on_redis::<name>` and
/// `on_memory::<name>`.
macro_rules! on_both_buses {
    ($($name:ident),* $(,)?) => {
        mod on_redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::redis_bus()).await
                }
            )*
        }
        mod on_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::memory_bus()).await
                }
            )*
        }
    };
}

on_both_buses!(
    tasks_are_claimed_acknowledged_and_recovered,
    concurrent_consumers_never_claim_the_same_task,
    a_waiting_consumer_wakes_up_for_a_new_task,
    alert_state_follows_zmon_and_keeps_the_start_time,
    an_alert_changes_as_a_whole_with_its_first_and_last_entity,
    a_result_is_recorded_with_its_acknowledgement,
    events_are_delivered_to_a_group_once,
    one_leader_at_a_time,
    trial_runs_instant_evaluations_and_heartbeats,
    host_registrations_replace_per_host_and_status_expires,
    downtimes_are_mirrored_and_read_per_alert_and_entity,
    probe_samples_reach_one_consumer_of_a_group_apart_from_events,
    notification_marks_are_kept_per_entity_and_dropped_when_the_alert_ends,
    groups_keep_zmons_rules_and_removed_members_leave_the_rota,
);

fn task(n: i64) -> Task {
    Task {
        id: format!("check-1-h{n}"),
        kind: TaskKind::CheckAndNotify,
        check: TaskCheck {
            check_id: 1,
            check_name: "c".into(),
            interval: 60,
            command: "1".into(),
            entity: json!({"id": format!("h{n}"), "type": "host"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            schedule_time: 1.0,
        },
        alerts: vec![],
        expires_at: 1e12,
        timeout: 10.0,
        trial_run: None,
    }
}

fn result(ts: f64, value: serde_json::Value) -> CheckResult {
    CheckResult {
        ts,
        td: 0.01,
        value,
        worker: "w1".into(),
        exc: None,
    }
}

fn raised(ts: f64) -> AlertStatus {
    AlertStatus {
        td: 0.01,
        downtimes: vec![],
        captures: Map::new(),
        start_time: 0.0,
        worker: "w1".into(),
        ts,
        value: json!(5),
        exc: None,
    }
}

async fn tasks_are_claimed_acknowledged_and_recovered(t: TestBus) {
    let bus = &t.bus;
    bus.enqueue("default", &[task(1), task(2), task(3)])
        .await
        .expect("enqueue");
    assert_eq!(bus.queue_length("default").await.expect("len"), 3);

    let mut alive = bus.consumer("default", "alive").await.expect("consumer");
    let first = alive
        .next(Duration::from_millis(100))
        .await
        .expect("next")
        .expect("a task");
    assert_eq!(
        first.task.as_ref().map(|t| t.id.clone()),
        Ok("check-1-h1".into())
    );
    bus.ack(&first).await.expect("ack");

    // A worker claims a task and dies without finishing it.
    let mut doomed = bus.consumer("default", "doomed").await.expect("consumer");
    let lost = doomed
        .next(Duration::from_millis(100))
        .await
        .expect("next")
        .expect("a task");
    bus.keep_consumer_alive("default", "doomed", Duration::from_millis(50))
        .await
        .expect("alive");
    drop(doomed);
    assert_eq!(
        bus.recover_abandoned("default").await.expect("recover"),
        0,
        "still alive"
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    bus.keep_consumer_alive("default", "alive", Duration::from_secs(30))
        .await
        .expect("alive");
    assert_eq!(bus.recover_abandoned("default").await.expect("recover"), 1);

    // The survivor gets it back first, then the rest.
    let again = alive
        .next(Duration::from_millis(100))
        .await
        .expect("next")
        .expect("recovered");
    assert_eq!(again.receipt, lost.receipt);
    // Handing a task back puts it at the head.
    bus.release(&again).await.expect("release");
    let same = alive
        .next(Duration::from_millis(100))
        .await
        .expect("next")
        .expect("released");
    assert_eq!(same.receipt, lost.receipt);
    bus.ack(&same).await.expect("ack");
    let last = alive
        .next(Duration::from_millis(100))
        .await
        .expect("next")
        .expect("third");
    bus.ack(&last).await.expect("ack");
    assert!(
        alive
            .next(Duration::from_millis(50))
            .await
            .expect("next")
            .is_none(),
        "queue drained"
    );
    assert_eq!(
        bus.recover_abandoned("default").await.expect("recover"),
        0,
        "nothing left claimed"
    );
}

#[tokio::test]
async fn garbage_on_a_redis_queue_is_reported_not_fatal() {
    let t = redis_bus();
    let space = t._space.as_ref().unwrap();
    let mut conn = space.connection().await.expect("conn");
    let _: () = redis::AsyncCommands::rpush(&mut conn, space.keys.queue("default"), "not json")
        .await
        .expect("push");
    let mut c = t.bus.consumer("default", "c").await.expect("consumer");
    let claimed = c
        .next(Duration::from_millis(100))
        .await
        .expect("next")
        .expect("claimed");
    assert!(claimed.task.is_err());
    t.bus.ack(&claimed).await.expect("ack");
}

#[tokio::test]
async fn unreadable_alert_state_in_redis_is_left_out_of_the_documents() {
    let t = redis_bus();
    let space = t._space.as_ref().unwrap();
    let mut conn = space.connection().await.expect("conn");
    let raised = space.keys.alert_raised_entities(5);
    for (entity, doc) in [
        (
            "good",
            r#"{"td":0.1,"start_time":1.0,"worker":"w","ts":2.0,"value":3}"#,
        ),
        ("broken", "{not json"),
        ("scalar", "42"),
    ] {
        let _: () = redis::AsyncCommands::sadd(&mut conn, &raised, entity)
            .await
            .expect("SADD");
        let _: () = redis::AsyncCommands::set(&mut conn, space.keys.alert_state(5, entity), doc)
            .await
            .expect("SET");
    }
    // Raised, but its document is not written yet.
    let _: () = redis::AsyncCommands::sadd(&mut conn, &raised, "pending")
        .await
        .expect("SADD");
    let documents = t.bus.alert_states_json(&[5]).await.expect("documents");
    assert_eq!(documents[&5].keys().collect::<Vec<_>>(), ["good"]);
    assert_eq!(documents[&5]["good"].get()[..8], *r#"{"td":0."#);

    // More entities than one MGET carries: every document stays with its
    // own entity across the chunks.
    let mut pipe = redis::pipe();
    for n in 0..1200 {
        let entity = format!("e{n:04}");
        pipe.sadd(&raised, &entity)
            .ignore()
            .set(
                space.keys.alert_state(5, &entity),
                format!(r#"{{"n":{n}}}"#),
            )
            .ignore();
    }
    let _: () = pipe.query_async(&mut conn).await.expect("pipeline");
    let documents = t.bus.alert_states_json(&[5]).await.expect("documents");
    assert_eq!(documents[&5].len(), 1201);
    for (entity, doc) in &documents[&5] {
        if let Some(n) = entity.strip_prefix('e') {
            let n: u32 = n.parse().expect("number");
            assert_eq!(doc.get(), format!(r#"{{"n":{n}}}"#));
        }
    }
}

async fn alert_state_follows_zmon_and_keeps_the_start_time(t: TestBus) {
    let bus = &t.bus;
    let record = |ts: f64, is_raised: bool| CheckRecord {
        check_id: 7,
        entity: "h1".into(),
        result: result(ts, json!(5)),
        alerts: vec![AlertUpdate {
            alert_id: 70,
            captures: json!({"limit": 3}).as_object().cloned().unwrap_or_default(),
            raised: is_raised.then(|| raised(ts)),
        }],
    };
    let first = bus
        .record(&record(100.5, true), None)
        .await
        .expect("record");
    assert!(first[0].entity_changed && first[0].alert_changed);
    assert_eq!(first[0].start_time, Some(100.5));
    let second = bus
        .record(&record(160.25, true), None)
        .await
        .expect("record");
    assert!(!second[0].entity_changed && !second[0].alert_changed);
    assert_eq!(second[0].start_time, Some(100.5), "start_time survives");

    let states = bus.alert_states(&[70]).await.expect("states");
    let state = &states[&70]["h1"];
    assert_eq!((state.start_time, state.ts), (100.5, 160.25));
    let documents = bus.alert_states_json(&[70, 71]).await.expect("documents");
    assert_eq!(
        documents.keys().collect::<Vec<_>>(),
        [&70],
        "raised alerts only"
    );
    let document: AlertStatus =
        serde_json::from_str(documents[&70]["h1"].get()).expect("a state document");
    assert_eq!(&document, state, "the same state as parsed");
    assert_eq!(
        bus.raised_alert_ids()
            .await
            .expect("ids")
            .into_iter()
            .collect::<Vec<_>>(),
        [70]
    );
    assert_eq!(
        bus.evaluated_entities(70).await.expect("evaluated")["h1"]["limit"],
        3
    );
    let results = bus.recent_results(7, "h1", 5).await.expect("results");
    assert_eq!(
        results.iter().map(|r| r.ts).collect::<Vec<_>>(),
        [160.25, 100.5],
        "newest first"
    );

    let cleared = bus
        .record(&record(220.0, false), None)
        .await
        .expect("record");
    assert!(cleared[0].entity_changed && cleared[0].alert_changed);
    assert!(bus.alert_states(&[70]).await.expect("states").is_empty());
    assert!(bus.raised_alert_ids().await.expect("ids").is_empty());
    assert!(
        bus.evaluated_entities(70)
            .await
            .expect("evaluated")
            .contains_key("h1"),
        "still evaluated"
    );

    for ts in 0..25 {
        bus.record(
            &CheckRecord {
                alerts: vec![],
                ..record(300.0 + f64::from(ts), false)
            },
            None,
        )
        .await
        .expect("record");
    }
    assert_eq!(
        bus.recent_results(7, "h1", 100)
            .await
            .expect("results")
            .len(),
        20,
        "ZMON keeps 20"
    );

    bus.forget_check_entity(7, "h1").await.expect("forget");
    bus.forget_alert_entity(70, "h1").await.expect("forget");
    assert!(
        bus.recent_results(7, "h1", 5)
            .await
            .expect("results")
            .is_empty()
    );
    assert!(
        bus.evaluated_entities(70)
            .await
            .expect("evaluated")
            .is_empty()
    );
}

async fn events_are_delivered_to_a_group_once(t: TestBus) {
    let bus = &t.bus;
    let mut consumer = bus
        .event_consumer("controller", "c1")
        .await
        .expect("consumer");
    let event = AlertEvent {
        kind: AlertEventKind::AlertEntityStarted,
        alert_id: 70,
        entity: "h1".into(),
        ts: 1.5,
        captures: Map::new(),
        value: json!(5),
        worker: "w1".into(),
        data: None,
    };
    bus.publish_events(std::slice::from_ref(&event))
        .await
        .expect("publish");
    let got = consumer
        .next(10, Duration::from_millis(200))
        .await
        .expect("read");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.as_ref().ok(), Some(&event));
    consumer.ack(&[got[0].0.clone()]).await.expect("ack");
    let mut other = bus
        .event_consumer("controller", "c2")
        .await
        .expect("consumer");
    assert!(
        other
            .next(10, Duration::from_millis(50))
            .await
            .expect("read")
            .is_empty(),
        "not twice"
    );
}

async fn one_leader_at_a_time(t: TestBus) {
    let bus = &t.bus;
    let ttl = Duration::from_millis(200);
    assert!(bus.lead("scheduler", "a", ttl).await.expect("lead"));
    assert!(!bus.lead("scheduler", "b", ttl).await.expect("lead"));
    assert!(bus.lead("scheduler", "a", ttl).await.expect("renew"));
    bus.resign("scheduler", "b")
        .await
        .expect("not b's to give up");
    assert!(!bus.lead("scheduler", "b", ttl).await.expect("lead"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        bus.lead("scheduler", "b", ttl)
            .await
            .expect("a's lease expired")
    );
    bus.resign("scheduler", "b").await.expect("resign");
    assert!(bus.lead("scheduler", "a", ttl).await.expect("free again"));
}

async fn trial_runs_instant_evaluations_and_heartbeats(t: TestBus) {
    let bus = &t.bus;
    bus.start_trial_run("tr1", &["h1".into(), "h2".into()], Duration::from_secs(60))
        .await
        .expect("start");
    let r = TrialResult {
        entity: "h1".into(),
        value: json!(3),
        captures: Map::new(),
        is_alert: true,
        in_period: true,
        exc: None,
    };
    bus.record_trial_result("tr1", &r, Duration::from_secs(60))
        .await
        .expect("record");
    let (expected, results) = bus.trial_run("tr1").await.expect("read").expect("known");
    assert_eq!((expected, results), (2, vec![r]));
    assert!(bus.trial_run("nope").await.expect("read").is_none());

    bus.request_instant_evaluation(5).await.expect("request");
    bus.request_instant_evaluation(6).await.expect("request");
    assert_eq!(bus.take_instant_evaluations().await.expect("take"), [5, 6]);
    assert!(
        bus.take_instant_evaluations()
            .await
            .expect("take")
            .is_empty()
    );

    bus.heartbeat("plocal.w1", 3, 1_000.5).await.expect("beat");
    bus.heartbeat("plocal.w1", 2, 1_001.5).await.expect("beat");
    let status = bus
        .platform_status(&["default".into()])
        .await
        .expect("status");
    assert_eq!(status.workers[0].check_invocations, 5);
    assert_eq!(status.workers[0].last_execution_time, 1_001.5);
}

async fn host_registrations_replace_per_host_and_status_expires(t: TestBus) {
    use zmon_core::host::{HostFacts, HostRegistration, HostReport, HostStatus};
    let bus = &t.bus;
    let registration = |id: &str, mem_total: u64| HostRegistration {
        id: id.into(),
        queue: format!("host-{id}"),
        worker: format!("plocal.{id}"),
        facts: HostFacts {
            hostname: id.into(),
            mem_total,
            ..HostFacts::default()
        },
    };
    bus.register_host(&registration("a", 1))
        .await
        .expect("register");
    bus.register_host(&registration("b", 2))
        .await
        .expect("register");
    bus.register_host(&registration("a", 3))
        .await
        .expect("register");
    let mut got = bus.host_registrations().await.expect("read");
    got.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(got, vec![registration("a", 3), registration("b", 2)]);

    let report = HostReport {
        id: "a".into(),
        last_active: 1_700_000_000,
        status: HostStatus {
            cpu: 12.5,
            process_count: 42,
            ..HostStatus::default()
        },
    };
    bus.report_host_status(&report, Duration::from_secs(1))
        .await
        .expect("report");
    let reports = bus
        .host_reports(&["a".into(), "b".into()])
        .await
        .expect("read");
    assert_eq!(reports.len(), 1, "b never reported");
    assert_eq!(reports.get("a"), Some(&report));

    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let reports = bus.host_reports(&["a".into()]).await.expect("read");
        if reports.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the status outlived its TTL"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn concurrent_consumers_never_claim_the_same_task(t: TestBus) {
    const TASKS: i64 = 400;
    let mut claimers = Vec::new();
    for n in 0..4 {
        let bus = Arc::clone(&t.bus);
        let mut consumer = bus.consumer("default", &format!("c{n}")).await.unwrap();
        claimers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            while let Some(claimed) = consumer.next(Duration::from_millis(300)).await.unwrap() {
                ids.push(claimed.task.as_ref().unwrap().id.clone());
                bus.ack(&claimed).await.unwrap();
            }
            ids
        }));
    }
    // In batches while the consumers already wait, so they race.
    for batch in 0..(TASKS / 20) {
        let tasks: Vec<Task> = (0..20).map(|i| task(batch * 20 + i)).collect();
        t.bus.enqueue("default", &tasks).await.unwrap();
        tokio::task::yield_now().await;
    }
    let mut claims: BTreeMap<String, usize> = BTreeMap::new();
    for claimer in claimers {
        for id in claimer.await.unwrap() {
            *claims.entry(id).or_default() += 1;
        }
    }
    assert_eq!(claims.len(), TASKS as usize, "every task claimed");
    assert!(claims.values().all(|n| *n == 1), "none claimed twice");
    assert_eq!(t.bus.queue_length("default").await.unwrap(), 0);
}

async fn a_waiting_consumer_wakes_up_for_a_new_task(t: TestBus) {
    let mut consumer = t.bus.consumer("default", "c").await.unwrap();
    let bus = Arc::clone(&t.bus);
    let producer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        bus.enqueue("default", &[task(1)]).await.unwrap();
    });
    let started = std::time::Instant::now();
    let claimed = consumer.next(Duration::from_secs(5)).await.unwrap();
    assert!(claimed.is_some(), "woken by the task");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "not at the timeout"
    );
    producer.await.unwrap();
}

async fn a_result_is_recorded_with_its_acknowledgement(t: TestBus) {
    let bus = &t.bus;
    bus.enqueue("default", &[task(1)]).await.unwrap();
    let mut consumer = bus.consumer("default", "c").await.unwrap();
    let claimed = consumer
        .next(Duration::from_millis(100))
        .await
        .unwrap()
        .unwrap();
    let record = CheckRecord {
        check_id: 1,
        entity: "h1".into(),
        result: result(10.0, json!(1)),
        alerts: vec![],
    };
    bus.record(&record, Some(&claimed)).await.unwrap();
    // Acknowledged: handing back the consumer's tasks finds nothing.
    assert_eq!(bus.hand_back("default", "c").await.unwrap(), 0);
    let latest = bus
        .latest_results(1, &["h1".into(), "h2".into()])
        .await
        .unwrap();
    assert_eq!(latest.keys().collect::<Vec<_>>(), ["h1"]);
    assert_eq!(latest["h1"].ts, 10.0);
    let (downtimes, history) = bus.task_context(1, "h1", &[5, 6], 3).await.unwrap();
    assert_eq!(downtimes, vec![vec![], vec![]]);
    assert_eq!(history, vec![result(10.0, json!(1))]);
}

async fn downtimes_are_mirrored_and_read_per_alert_and_entity(t: TestBus) {
    use zmon_core::downtime::Downtime;
    let bus = &t.bus;
    let group = uuid::Uuid::new_v4();
    let downtime = |alert_id: i64, entity: &str| Downtime {
        id: uuid::Uuid::new_v4(),
        alert_id,
        entity: entity.into(),
        group_id: group,
        comment: "maintenance".into(),
        start_time: 100,
        end_time: 200,
        created_by: "me".into(),
    };
    assert_eq!(bus.downtime_mirror_version().await.unwrap(), None);
    let (a, b, c) = (downtime(1, "h1"), downtime(1, "h2"), downtime(2, "h1"));
    bus.mirror_downtimes(&[a.clone(), b.clone(), c.clone()])
        .await
        .unwrap();
    bus.set_downtime_mirror_version(7).await.unwrap();
    assert_eq!(bus.downtime_mirror_version().await.unwrap(), Some(7));
    let (per_alert, _) = bus.task_context(9, "h1", &[1, 2, 3], 0).await.unwrap();
    assert_eq!(per_alert, vec![vec![a.clone()], vec![c.clone()], vec![]]);

    bus.unmirror_downtimes(std::slice::from_ref(&a))
        .await
        .unwrap();
    let mut all = bus.mirrored_downtimes().await.unwrap();
    all.sort_by_key(|d| (d.alert_id, d.entity.clone()));
    assert_eq!(all, vec![b, c]);
}

async fn an_alert_changes_as_a_whole_with_its_first_and_last_entity(t: TestBus) {
    let bus = &t.bus;
    let record = |entity: &str, ts: f64, is_raised: bool| CheckRecord {
        check_id: 8,
        entity: entity.into(),
        result: result(ts, json!(ts)),
        alerts: vec![AlertUpdate {
            alert_id: 80,
            captures: Map::new(),
            raised: is_raised.then(|| raised(ts)),
        }],
    };
    let changes = |t: &[zmon_bus::AlertTransition]| (t[0].entity_changed, t[0].alert_changed);
    let a = bus.record(&record("a", 10.0, true), None).await.unwrap();
    assert_eq!(changes(&a), (true, true));
    let b = bus.record(&record("b", 11.0, true), None).await.unwrap();
    assert_eq!(changes(&b), (true, false), "the alert was already up");
    assert_eq!(b[0].start_time, Some(11.0));
    assert_eq!(
        bus.raised_entities(80)
            .await
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    let a = bus.record(&record("a", 12.0, false), None).await.unwrap();
    assert_eq!(changes(&a), (true, false), "b keeps the alert up");
    assert_eq!(a[0].start_time, None);
    let a = bus.record(&record("a", 13.0, false), None).await.unwrap();
    assert_eq!(changes(&a), (false, false), "was not raised");
    let states = bus.alert_states(&[80, 81]).await.unwrap();
    assert_eq!(states.keys().collect::<Vec<_>>(), [&80]);
    assert_eq!(states[&80].keys().collect::<Vec<_>>(), ["b"]);
    assert_eq!(bus.platform_status(&[]).await.unwrap().alerts_active, 1);

    let per_entity = bus.evaluated_entity_results(80, 8, 5).await.unwrap();
    let summary: Vec<(String, Vec<f64>)> = per_entity
        .into_iter()
        .map(|(e, r)| (e, r.iter().map(|r| r.ts).collect()))
        .collect();
    assert_eq!(
        summary,
        [
            ("a".to_string(), vec![13.0, 12.0, 10.0]),
            ("b".to_string(), vec![11.0])
        ]
    );

    bus.forget_alert_entity(80, "b").await.unwrap();
    assert!(bus.raised_alert_ids().await.unwrap().is_empty());
    let b = bus.record(&record("b", 14.0, true), None).await.unwrap();
    assert_eq!(changes(&b), (true, true), "raised afresh after forgetting");
    assert_eq!(b[0].start_time, Some(14.0));
}

// What only the in-process bus has.

fn memory_bus_with(config: MemoryBusConfig) -> Arc<dyn Bus> {
    Arc::new(MemoryBus::new(config))
}

fn event(n: i64) -> AlertEvent {
    AlertEvent {
        kind: AlertEventKind::AlertEntityStarted,
        alert_id: n,
        entity: "h1".into(),
        ts: 1.5,
        captures: Map::new(),
        value: json!(5),
        worker: "w1".into(),
        data: None,
    }
}

#[tokio::test]
async fn memory_queue_is_bounded_and_drops_its_oldest_tasks() {
    let bus = memory_bus_with(MemoryBusConfig {
        max_queue_length: 5,
        ..MemoryBusConfig::default()
    });
    let tasks: Vec<Task> = (1..=8).map(task).collect();
    bus.enqueue("default", &tasks).await.unwrap();
    assert_eq!(bus.queue_length("default").await.unwrap(), 5);
    let mut consumer = bus.consumer("default", "c").await.unwrap();
    let mut ids = Vec::new();
    while let Some(claimed) = consumer.next(Duration::from_millis(20)).await.unwrap() {
        ids.push(claimed.task.unwrap().id);
    }
    assert_eq!(
        ids,
        (4..=8).map(|n| format!("check-1-h{n}")).collect::<Vec<_>>()
    );
    // Claimed tasks do not count against the bound.
    bus.enqueue("default", &tasks[..5]).await.unwrap();
    assert_eq!(bus.queue_length("default").await.unwrap(), 5);
    assert_eq!(bus.hand_back("default", "c").await.unwrap(), 5);
    assert_eq!(bus.queue_length("default").await.unwrap(), 10);
}

#[tokio::test]
async fn memory_tasks_of_a_consumer_whose_liveness_expired_wake_a_waiting_one() {
    let bus = memory_bus_with(MemoryBusConfig::default());
    bus.enqueue("default", &[task(1), task(2)]).await.unwrap();
    let mut doomed = bus.consumer("default", "doomed").await.unwrap();
    let first = doomed.next(Duration::ZERO).await.unwrap().unwrap();
    let second = doomed.next(Duration::ZERO).await.unwrap().unwrap();
    bus.keep_consumer_alive("default", "doomed", Duration::from_millis(50))
        .await
        .unwrap();
    drop(doomed);

    let mut survivor = bus.consumer("default", "survivor").await.unwrap();
    let waiting = tokio::spawn(async move {
        let a = survivor.next(Duration::from_secs(5)).await.unwrap();
        let b = survivor.next(Duration::from_secs(5)).await.unwrap();
        (a, b)
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(bus.recover_abandoned("default").await.unwrap(), 2);
    let (a, b) = waiting.await.unwrap();
    // In the order they were claimed, ahead of anything else.
    assert_eq!(a.unwrap().receipt, first.receipt);
    assert_eq!(b.unwrap().receipt, second.receipt);
    // The dead consumer is forgotten: nothing to recover twice.
    assert_eq!(bus.recover_abandoned("default").await.unwrap(), 0);
    // Its late acknowledgement and release change nothing.
    bus.ack(&first).await.unwrap();
    bus.release(&second).await.unwrap();
    assert_eq!(bus.queue_length("default").await.unwrap(), 0);
}

#[tokio::test]
async fn memory_unacknowledged_events_are_delivered_again_after_the_timeout() {
    let bus = memory_bus_with(MemoryBusConfig {
        event_claim_after: Duration::from_millis(150),
        ..MemoryBusConfig::default()
    });
    let mut first = bus.event_consumer("controller", "c1").await.unwrap();
    let mut second = bus.event_consumer("controller", "c2").await.unwrap();
    bus.publish_events(&[event(1), event(2)]).await.unwrap();
    let taken = first.next(10, Duration::from_millis(100)).await.unwrap();
    assert_eq!(taken.len(), 2);
    // c1 acknowledges one and dies before the other.
    first.ack(&[taken[0].0.clone()]).await.unwrap();
    assert!(
        second
            .next(10, Duration::from_millis(20))
            .await
            .unwrap()
            .is_empty(),
        "not yet due"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let again = second.next(10, Duration::from_millis(20)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].0, taken[1].0);
    assert_eq!(again[0].1.as_ref().ok(), Some(&event(2)));
    second.ack(&[again[0].0.clone()]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        first
            .next(10, Duration::from_millis(20))
            .await
            .unwrap()
            .is_empty(),
        "acknowledged for good"
    );
}

#[tokio::test]
async fn memory_events_are_bounded_and_each_group_sees_them() {
    let bus = memory_bus_with(MemoryBusConfig {
        max_events: 3,
        ..MemoryBusConfig::default()
    });
    // Published before any group exists: the newest three are kept.
    let events: Vec<AlertEvent> = (1..=5).map(event).collect();
    bus.publish_events(&events).await.unwrap();
    let mut controller = bus.event_consumer("controller", "c").await.unwrap();
    let mut audit = bus.event_consumer("audit", "a").await.unwrap();
    let got = controller
        .next(10, Duration::from_millis(50))
        .await
        .unwrap();
    let alerts: Vec<i64> = got
        .iter()
        .map(|(_, e)| e.as_ref().map(|e| e.alert_id).unwrap_or(0))
        .collect();
    assert_eq!(alerts, [3, 4, 5]);
    let ids: Vec<String> = got.into_iter().map(|(id, _)| id).collect();
    controller.ack(&ids).await.unwrap();
    // Another group still gets them, at most `max` at a time.
    assert_eq!(
        audit
            .next(2, Duration::from_millis(50))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        audit
            .next(2, Duration::from_millis(50))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn memory_acknowledged_alerts_and_queue_status() {
    let bus = MemoryBus::default();
    bus.set_alert_acknowledged(70, true);
    bus.set_alert_acknowledged(71, true);
    bus.set_alert_acknowledged(71, false);
    assert_eq!(
        bus.acknowledged_alert_ids()
            .await
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        [70]
    );
    bus.enqueue("default", &[task(1)]).await.unwrap();
    bus.ping().await.unwrap();
    let status = bus.platform_status(&["default".into()]).await.unwrap();
    assert_eq!(status.queues[0].name, "zmon:queue:default");
    assert_eq!(status.queues[0].size, 1);
    assert_eq!(status.alerts_active, 0);
}

async fn probe_samples_reach_one_consumer_of_a_group_apart_from_events(t: TestBus) {
    let bus = &t.bus;
    let sample = |n: i64| ProbeSample {
        check_id: n,
        entity: format!("h{n}"),
        at: 1_700_000_000.5,
        delay_ms: (n % 2 == 1).then_some(12.5),
        error: (n % 2 == 0).then(|| "connection refused".to_string()),
    };
    let mut first = bus.probe_consumer("controller", "c1").await.unwrap();
    let mut second = bus.probe_consumer("controller", "c2").await.unwrap();
    let mut events = bus.event_consumer("controller", "c1").await.unwrap();
    bus.publish_probe_samples(&[sample(1), sample(2)])
        .await
        .unwrap();
    let got = first.next(10, Duration::from_secs(2)).await.unwrap();
    let samples: Vec<ProbeSample> = got.iter().map(|(_, s)| s.clone().unwrap()).collect();
    assert_eq!(samples, [sample(1), sample(2)], "the samples round-trip");
    assert!(
        second
            .next(10, Duration::from_millis(50))
            .await
            .unwrap()
            .is_empty(),
        "one consumer of the group takes them"
    );
    assert!(
        events
            .next(10, Duration::from_millis(50))
            .await
            .unwrap()
            .is_empty(),
        "samples are not alert events"
    );
    let ids: Vec<String> = got.into_iter().map(|(id, _)| id).collect();
    first.ack(&ids).await.unwrap();
}

async fn notification_marks_are_kept_per_entity_and_dropped_when_the_alert_ends(t: TestBus) {
    let bus = &t.bus;
    let entry = "send_mail('a@b.c', repeat=60)".to_string();
    let record = |ts: f64, up: bool| CheckRecord {
        check_id: 1,
        entity: "h1".into(),
        result: result(ts, json!(5)),
        alerts: vec![AlertUpdate {
            alert_id: 9,
            captures: Map::new(),
            raised: up.then(|| raised(ts)),
        }],
    };
    bus.record(&record(10.0, true), None).await.unwrap();
    bus.update_notification_marks(9, "h1", &[(entry.clone(), 70.0)], &[])
        .await
        .unwrap();
    bus.update_notification_marks(9, "", &[("notify_pagerduty()".into(), 0.0)], &[])
        .await
        .unwrap();
    let marks = bus.notification_marks(9, "h1").await.unwrap();
    assert_eq!(marks, BTreeMap::from([(entry.clone(), 70.0)]));
    assert!(bus.notification_marks(9, "h2").await.unwrap().is_empty());
    bus.record(&record(20.0, false), None).await.unwrap();
    assert!(
        bus.notification_marks(9, "h1").await.unwrap().is_empty(),
        "the end of the alert on h1 drops its marks"
    );
    assert_eq!(
        bus.notification_marks(9, "").await.unwrap().len(),
        1,
        "the alert's own marks are the worker's to clear"
    );
    bus.update_notification_marks(9, "", &[], &["notify_pagerduty()".into()])
        .await
        .unwrap();
    assert!(bus.notification_marks(9, "").await.unwrap().is_empty());
}

async fn groups_keep_zmons_rules_and_removed_members_leave_the_rota(t: TestBus) {
    use zmon_core::group::{GroupChange as C, GroupSpec, MemberSpec};
    let bus = &t.bus;
    let (g, a, b) = (
        "db".to_string(),
        "a@x.org".to_string(),
        "b@x.org".to_string(),
    );
    let add = |m: &str| C::AddMember {
        group: g.clone(),
        member: m.into(),
    };
    assert_eq!(bus.change_group(&add(&a)).await.unwrap(), 1);
    assert_eq!(
        bus.change_group(&add(&a)).await.unwrap(),
        0,
        "already a member"
    );
    assert_eq!(bus.change_group(&add(&b)).await.unwrap(), 1);
    let on_call = |m: &str| C::AddActive {
        group: g.clone(),
        member: m.into(),
    };
    assert_eq!(
        bus.change_group(&on_call("c@x.org")).await.unwrap(),
        -1,
        "members only"
    );
    assert_eq!(bus.change_group(&on_call(&a)).await.unwrap(), 1);
    bus.change_group(&C::AddPhone {
        member: a.clone(),
        phone: "+491".into(),
    })
    .await
    .unwrap();
    bus.change_group(&C::SetName {
        member: a.clone(),
        name: "Ann".into(),
    })
    .await
    .unwrap();
    let groups = bus.groups().await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(
        (groups[0].id.as_str(), groups[0].name.as_str()),
        ("db", "db")
    );
    assert_eq!(groups[0].members, [a.clone(), b.clone()]);
    assert_eq!(groups[0].active, std::slice::from_ref(&a));
    let member = bus.group_member(&a).await.unwrap();
    assert_eq!(
        (member.email.as_str(), member.name.as_deref()),
        ("a@x.org", Some("Ann"))
    );
    assert_eq!(member.phones, ["+491"]);
    assert_eq!(
        bus.change_group(&C::RemoveMember {
            group: g.clone(),
            member: a.clone()
        })
        .await
        .unwrap(),
        1
    );
    let groups = bus.groups().await.unwrap();
    assert!(
        groups[0].active.is_empty(),
        "a removed member is no longer on call"
    );

    bus.put_group(
        "web",
        &GroupSpec {
            name: Some("Web team".into()),
            members: vec![MemberSpec {
                id: b.clone(),
                name: None,
                phones: vec!["+492".into()],
            }],
            active: vec![b.clone()],
        },
    )
    .await
    .unwrap();
    let web = bus
        .groups()
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.id == "web")
        .unwrap();
    assert_eq!(
        (web.name.as_str(), web.active.clone()),
        ("Web team", vec![b.clone()])
    );
    assert_eq!(bus.group_member(&b).await.unwrap().phones, ["+492"]);
    assert!(bus.delete_group("web").await.unwrap());
    assert!(!bus.delete_group("web").await.unwrap());
    assert_eq!(bus.groups().await.unwrap().len(), 1);
}
