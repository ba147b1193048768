//! The worker against real Redis: tasks in, alert state out.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use zmon_bus::testing::TestKeySpace;
use zmon_bus::{Bus, RedisBus};
use zmon_core::alert::Parameter;
use zmon_core::downtime::Downtime;
use zmon_core::task::{TaskAlert, TaskCheck, TaskKind};
use zmon_core::time::{Clock, SystemClock};
use zmon_core::{KeySpace, Task};
use zmon_worker::{RunningWorker, WorkerConfig, start};

struct Setup {
    bus: Arc<RedisBus>,
    space: TestKeySpace,
}

impl Setup {
    fn new() -> Self {
        let space = TestKeySpace::new("workertest");
        Self {
            bus: Arc::new(space.bus().expect("url")),
            space,
        }
    }

    fn keys(&self) -> &KeySpace {
        &self.space.keys
    }

    async fn worker(&self, name: &str) -> RunningWorker {
        let config = WorkerConfig {
            name: name.into(),
            concurrency: 4,
            heartbeat_interval: Duration::from_millis(100),
            claim_ttl: Duration::from_millis(400),
            recovery_interval: Duration::from_millis(100),
            shutdown_timeout: Duration::from_millis(300),
            ..WorkerConfig::default()
        };
        start(config, self.bus.clone(), Arc::new(SystemClock))
            .await
            .expect("worker starts")
    }

    async fn get(&self, key: &str) -> Option<String> {
        let mut conn = self.space.connection().await.expect("conn");
        redis::AsyncCommands::get(&mut conn, key)
            .await
            .expect("GET")
    }

    async fn llen(&self, key: &str) -> i64 {
        let mut conn = self.space.connection().await.expect("conn");
        redis::AsyncCommands::llen(&mut conn, key)
            .await
            .expect("LLEN")
    }
}

fn now() -> f64 {
    SystemClock.now().timestamp_micros() as f64 / 1e6
}

fn alert(id: i64, condition: &str, params: Value) -> TaskAlert {
    TaskAlert {
        id,
        check_id: 1,
        name: format!("alert {id}"),
        condition: condition.into(),
        period: String::new(),
        notifications: vec![],
        parameters: serde_json::from_value::<std::collections::BTreeMap<String, Parameter>>(params)
            .expect("params"),
        entities_map: vec![],
        team: "t".into(),
        responsible_team: "t".into(),
        priority: 1,
        tags: vec![],
    }
}

fn task(command: &str, alerts: Vec<TaskAlert>) -> Task {
    Task {
        id: format!("check-1-h1-{}", uuid::Uuid::new_v4()),
        kind: TaskKind::CheckAndNotify,
        check: TaskCheck {
            check_id: 1,
            check_name: "c".into(),
            interval: 60,
            command: command.into(),
            entity: json!({"id": "h1", "type": "host", "load": 12})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            schedule_time: now(),
        },
        alerts,
        expires_at: now() + 60.0,
        timeout: 5.0,
        trial_run: None,
    }
}

/// A downtime of `alert_id` on h1, in force from 10 s before `now` for ten minutes.
fn active_downtime(alert_id: i64, now: i64) -> Downtime {
    Downtime {
        id: uuid::Uuid::new_v4(),
        alert_id,
        entity: "h1".into(),
        group_id: uuid::Uuid::new_v4(),
        comment: "maintenance".into(),
        start_time: now - 10,
        end_time: now + 600,
        created_by: "alice".into(),
    }
}

async fn poll<T, F, Fut>(mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met in time"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn state(s: &Setup, alert: i64) -> Option<Value> {
    s.get(&s.keys().alert_state(alert, "h1"))
        .await
        .and_then(|raw| serde_json::from_str(&raw).ok())
}

#[tokio::test]
async fn a_task_becomes_alert_state_and_events() {
    let s = Setup::new();
    let worker = s.worker("w1").await;
    let stop = worker.stopper();
    let running = tokio::spawn(worker.run());
    let seed = alert(
        20,
        "capture(longitude=float(value)) > longitude_param",
        json!({"longitude_param": {"value": 0, "type": "float"}}),
    );
    s.bus
        .enqueue(
            "default",
            &[task(
                "entity.load * 1.5",
                vec![seed, alert(21, "value > 100", json!({}))],
            )],
        )
        .await
        .expect("enqueue");

    let raised = poll(|| state(&s, 20)).await;
    assert_eq!(raised["value"], 18.0);
    assert_eq!(
        raised["captures"],
        json!({"longitude_param": 0.0, "longitude": 18.0})
    );
    assert_eq!(raised["worker"], "w1");
    assert_eq!(raised["downtimes"], json!([]));
    for field in ["td", "ts", "start_time"] {
        assert!(raised[field].is_f64(), "{field}");
    }
    assert!(state(&s, 21).await.is_none(), "value > 100 is false");
    let evaluated = s.bus.evaluated_entities(21).await.expect("evaluated");
    assert!(
        evaluated.contains_key("h1"),
        "evaluated entities are kept either way"
    );

    let mut events = s.bus.event_consumer("test", "t").await.expect("events");
    let got = events
        .next(10, Duration::from_millis(500))
        .await
        .expect("events");
    let kinds: Vec<String> = got
        .iter()
        .filter_map(|(_, e)| e.as_ref().ok())
        .map(|e| e.kind.as_str().to_string())
        .collect();
    assert_eq!(kinds, ["ALERT_STARTED", "ALERT_ENTITY_STARTED"]);

    // A second run keeps start_time; a false condition clears the state.
    let first_start = raised["start_time"].clone();
    s.bus
        .enqueue(
            "default",
            &[task(
                "entity.load * 2",
                vec![alert(20, "value > 10", json!({}))],
            )],
        )
        .await
        .expect("enqueue");
    let again = poll(|| async { state(&s, 20).await.filter(|v| v["value"] == 24) }).await;
    assert_eq!(again["start_time"], first_start);
    s.bus
        .enqueue(
            "default",
            &[task("0", vec![alert(20, "value > 10", json!({}))])],
        )
        .await
        .expect("enqueue");
    poll(|| async { state(&s, 20).await.is_none().then_some(()) }).await;
    assert!(s.bus.raised_alert_ids().await.expect("ids").is_empty());

    stop.stop();
    running.await.expect("worker stops");
}

#[tokio::test]
async fn downtimes_show_in_the_state_and_failures_raise_the_alert() {
    let s = Setup::new();
    let worker = s.worker("w1").await;
    let stop = worker.stopper();
    let running = tokio::spawn(worker.run());
    let t = now() as i64;
    let downtime = active_downtime(30, t);
    s.bus
        .mirror_downtimes(std::slice::from_ref(&downtime))
        .await
        .expect("mirror");
    s.bus
        .enqueue(
            "default",
            &[
                task("1", vec![alert(30, ">0", json!({}))]),
                task(
                    "loop { }",
                    vec![alert(31, ">0", json!({"p": {"value": 7}}))],
                ),
            ],
        )
        .await
        .expect("enqueue");
    let silenced = poll(|| state(&s, 30)).await;
    assert_eq!(silenced["downtimes"][0]["id"], downtime.id.to_string());
    assert_eq!(silenced["downtimes"][0]["comment"], "maintenance");

    let failed = poll(|| state(&s, 31)).await;
    assert_eq!(failed["exc"], 1);
    assert!(
        failed["value"]
            .as_str()
            .unwrap_or_default()
            .contains("too many operations"),
        "{failed}"
    );
    assert_eq!(failed["captures"]["p"], 7);
    assert!(failed["captures"]["exception"].is_string());

    stop.stop();
    running.await.expect("worker stops");
}

#[tokio::test]
async fn expired_tasks_are_dropped_and_counted() {
    let s = Setup::new();
    let worker = s.worker("w1").await;
    let metrics = worker.metrics();
    let stop = worker.stopper();
    let running = tokio::spawn(worker.run());
    let mut stale = task("1", vec![alert(40, ">0", json!({}))]);
    stale.expires_at = now() - 1.0;
    s.bus
        .enqueue(
            "default",
            &[stale, task("2", vec![alert(41, ">0", json!({}))])],
        )
        .await
        .expect("enqueue");
    poll(|| state(&s, 41)).await;
    assert!(state(&s, 40).await.is_none(), "the stale task never ran");
    assert!(
        metrics
            .render()
            .contains(r#"zmon_worker_tasks_total{outcome="expired"} 1"#),
        "{}",
        metrics.render()
    );
    stop.stop();
    running.await.expect("worker stops");
}

#[tokio::test]
async fn a_task_claimed_by_a_dead_worker_runs_elsewhere() {
    let s = Setup::new();
    s.bus
        .enqueue("default", &[task("5", vec![alert(50, ">0", json!({}))])])
        .await
        .expect("enqueue");
    // A worker claims the task and dies before finishing it.
    let mut doomed = s.bus.consumer("default", "doomed").await.expect("consumer");
    let claimed = doomed.next(Duration::from_millis(200)).await.expect("next");
    assert!(claimed.is_some());
    s.bus
        .keep_consumer_alive("default", "doomed", Duration::from_millis(100))
        .await
        .expect("alive");
    drop(doomed);
    assert_eq!(s.llen(&s.keys().queue("default")).await, 0);

    let survivor = s.worker("survivor").await;
    let stop = survivor.stopper();
    let metrics = survivor.metrics();
    let running = tokio::spawn(survivor.run());
    let recovered = poll(|| state(&s, 50)).await;
    assert_eq!(recovered["worker"], "survivor");
    let text = metrics.render();
    assert!(
        text.contains("zmon_worker_tasks_redelivered_total 1"),
        "{text}"
    );
    assert!(
        text.contains(r#"zmon_worker_alert_transitions_total{kind="ALERT_STARTED"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"zmon_worker_queue_depth{queue="default"}"#),
        "{text}"
    );
    stop.stop();
    running.await.expect("worker stops");
}

#[tokio::test]
async fn shutdown_hands_back_unfinished_tasks() {
    let s = Setup::new();
    // A server that accepts and never answers keeps the check busy.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let _hold = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let worker = s.worker("w1").await;
    let stop = worker.stopper();
    let running = tokio::spawn(worker.run());
    let slow = task(
        &format!("http('http://127.0.0.1:{port}/', timeout=30).code()"),
        vec![],
    );
    s.bus.enqueue("default", &[slow]).await.expect("enqueue");
    poll(|| async {
        (s.llen(&s.keys().queue_processing("default", "w1")).await == 1).then_some(())
    })
    .await;
    stop.stop();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("stops within the shutdown timeout")
        .expect("join");
    assert_eq!(
        s.llen(&s.keys().queue("default")).await,
        1,
        "handed back for another worker"
    );
    assert_eq!(s.llen(&s.keys().queue_processing("default", "w1")).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_probes_are_published_as_samples_and_failures_raise_alerts() {
    let s = Setup::new();
    let _worker = s.worker("w-probe").await;
    let mut samples = s.bus.probe_consumer("test", "t").await.expect("samples");
    let listener = TcpListener::bind("127.0.0.1:0").expect("listener");
    let open = listener.local_addr().expect("address");
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("address");
    // One after the other, so the closed port's run is the alert's last.
    let mut got = Vec::new();
    for target in [open, closed] {
        s.bus
            .enqueue(
                "default",
                &[task(
                    &format!(r#"monitor_probe("tcp", "{target}")"#),
                    vec![alert(30, "value.avg_delay > 200", json!({}))],
                )],
            )
            .await
            .expect("enqueue");
        let wanted = got.len() + 1;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while got.len() < wanted && tokio::time::Instant::now() < deadline {
            for (_, sample) in samples
                .next(10, Duration::from_millis(200))
                .await
                .expect("read")
            {
                got.push(sample.expect("a readable sample"));
            }
        }
    }
    assert_eq!(got.len(), 2, "one sample per probe: {got:?}");
    assert!(got.iter().all(|g| g.check_id == 1 && g.entity == "h1"));
    let up = got
        .iter()
        .find(|g| g.delay_ms.is_some())
        .expect("the open port's sample");
    assert!(up.error.is_none());
    let down = got
        .iter()
        .find(|g| g.delay_ms.is_none())
        .expect("the closed port's sample");
    assert!(
        down.error.as_deref().is_some_and(|e| e.contains("refused")),
        "{down:?}"
    );
    // The failed probe is a check error, which raises the alert.
    let raised = poll(|| state(&s, 30)).await;
    assert_eq!(raised["exc"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_go_out_on_new_repeat_and_ended() {
    use zmon_core::notification::{NotificationRequest, NotifyEvent};
    let s = Setup::new();
    let _worker = s.worker("w-notify").await;
    let mut requests = s
        .bus
        .notification_consumer("test", "t")
        .await
        .expect("consumer");
    let notifying = |condition: &str| {
        let mut a = alert(40, condition, json!({}));
        a.notifications = vec![
            "send_mail('a@b.c', repeat=1)".into(),
            "notify_pagerduty(routing_key='k')".into(),
        ];
        task("1", vec![a])
    };
    let mut run = async |condition: &str, expect: usize| -> Vec<NotificationRequest> {
        s.bus
            .enqueue("default", &[notifying(condition)])
            .await
            .expect("enqueue");
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while got.len() < expect && tokio::time::Instant::now() < deadline {
            for (id, r) in requests
                .next(10, Duration::from_millis(100))
                .await
                .expect("read")
            {
                got.push(r.expect("readable"));
                requests.ack(&[id]).await.expect("ack");
            }
        }
        // Nothing more comes for this run.
        let extra = requests
            .next(10, Duration::from_millis(300))
            .await
            .expect("read");
        assert!(extra.is_empty(), "unexpected: {extra:?}");
        got
    };
    let events = |got: &[NotificationRequest]| -> Vec<(NotifyEvent, String)> {
        let mut e: Vec<_> = got.iter().map(|r| (r.event, r.expr.clone())).collect();
        e.sort_by(|a, b| a.1.cmp(&b.1));
        e
    };
    let new = run("True", 2).await;
    assert_eq!(
        events(&new),
        [
            (
                NotifyEvent::New,
                "notify_pagerduty(routing_key='k')".to_string()
            ),
            (NotifyEvent::New, "send_mail('a@b.c', repeat=1)".to_string()),
        ]
    );
    assert_eq!(new[0].alert.id, 40);
    assert_eq!(new[0].entity_id, "h1");
    assert!(
        run("True", 0).await.is_empty(),
        "no repeat before it is due"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let ongoing = run("True", 1).await;
    assert_eq!(
        events(&ongoing),
        [(
            NotifyEvent::Ongoing,
            "send_mail('a@b.c', repeat=1)".to_string()
        )]
    );
    assert!(ongoing[0].duration_secs >= 1.0);
    let ended = run("False", 2).await;
    assert!(
        ended.iter().all(|r| r.event == NotifyEvent::Ended),
        "{ended:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_downtime_holds_new_back_and_it_goes_out_after() {
    use zmon_core::event::AlertEventKind;
    use zmon_core::notification::NotifyEvent;
    let s = Setup::new();
    let _worker = s.worker("w-downtime").await;
    let mut requests = s
        .bus
        .notification_consumer("test", "t")
        .await
        .expect("requests");
    let mut events = s.bus.event_consumer("test", "t").await.expect("events");
    let t = now() as i64;
    let downtime = active_downtime(42, t);
    s.bus
        .mirror_downtimes(std::slice::from_ref(&downtime))
        .await
        .expect("mirror");
    let notifying = || {
        let mut a = alert(42, "True", json!({}));
        a.notifications = vec!["send_slack()".into()];
        task("1", vec![a])
    };
    s.bus
        .enqueue("default", &[notifying()])
        .await
        .expect("enqueue");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let held = loop {
        let got = events
            .next(10, Duration::from_millis(100))
            .await
            .expect("events");
        if let Some(e) = got
            .into_iter()
            .filter_map(|(_, e)| e.ok())
            .find(|e| e.kind == AlertEventKind::NotificationSuppressed)
        {
            break e;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no suppression recorded"
        );
    };
    assert_eq!(held.data.unwrap_or_default()["reason"], "downtime");
    assert!(
        requests
            .next(10, Duration::from_millis(300))
            .await
            .expect("read")
            .is_empty(),
        "nothing is sent during the downtime"
    );
    s.bus
        .unmirror_downtimes(std::slice::from_ref(&downtime))
        .await
        .expect("unmirror");
    s.bus
        .enqueue("default", &[notifying()])
        .await
        .expect("enqueue");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let replay = loop {
        let got = requests
            .next(10, Duration::from_millis(100))
            .await
            .expect("read");
        if let Some(r) = got.into_iter().filter_map(|(_, r)| r.ok()).next() {
            break r;
        }
        assert!(tokio::time::Instant::now() < deadline, "no replay");
    };
    assert_eq!(
        replay.event,
        NotifyEvent::New,
        "the NEW held back goes out now"
    );
}
