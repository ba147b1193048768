//! What every bus must do, run here against Redis (each test on its own
//! key prefix). The in-process bus will run the same functions.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, json};
use zmon_bus::testing::TestKeySpace;
use zmon_bus::{AlertUpdate, Bus, CheckRecord};
use zmon_core::event::{AlertEvent, AlertEventKind};
use zmon_core::status::CheckResult;
use zmon_core::task::{TaskCheck, TaskKind, TrialResult};
use zmon_core::{AlertStatus, Task};

struct TestBus {
    bus: Arc<dyn Bus>,
    space: TestKeySpace,
}

fn redis_bus() -> TestBus {
    let space = TestKeySpace::new("bustest");
    TestBus {
        bus: Arc::new(space.bus().expect("redis url")),
        space,
    }
}

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

#[tokio::test]
async fn tasks_are_claimed_acknowledged_and_recovered() {
    let t = redis_bus();
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
async fn garbage_on_a_queue_is_reported_not_fatal() {
    let t = redis_bus();
    let mut conn = t.space.connection().await.expect("conn");
    let _: () = redis::AsyncCommands::rpush(&mut conn, t.space.keys.queue("default"), "not json")
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
async fn alert_state_follows_zmon_and_keeps_the_start_time() {
    let t = redis_bus();
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

#[tokio::test]
async fn events_are_delivered_to_a_group_once() {
    let t = redis_bus();
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

#[tokio::test]
async fn one_leader_at_a_time() {
    let t = redis_bus();
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

#[tokio::test]
async fn trial_runs_instant_evaluations_and_heartbeats() {
    let t = redis_bus();
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

#[tokio::test]
async fn host_registrations_replace_per_host_and_status_expires() {
    use zmon_core::host::{HostFacts, HostRegistration, HostReport, HostStatus};
    let t = redis_bus();
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
