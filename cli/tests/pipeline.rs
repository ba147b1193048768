//! The whole pipeline in one process: controller, scheduler and worker on
//! a real PostgreSQL and Redis. A definition POSTed to the controller
//! turns into live alert status within one check interval.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use zmon_bus::RedisBus;
use zmon_bus::testing::TestKeySpace;
use zmon_controller::ControllerConfig;
use zmon_core::time::SystemClock;
use zmon_scheduler::SchedulerConfig;
use zmon_store::Store;
use zmon_store::testing::TestDatabase;
use zmon_worker::WorkerConfig;

const SEED_ALERT: &str = r#"{"name": "City Longitude >0", "description": "Test whether a city lies east or west", "team": "Platform/Software", "responsible_team": "Platform/Software", "entities": [{"type": "city"}], "entities_exclude": [], "condition": "capture(longitude=float(value)) > longitude_param", "notifications": [], "check_definition_id": 20, "status": "ACTIVE", "priority": 2, "period": "", "template": false, "parameters": {"longitude_param": {"comment": "Longitude parameter","type": "float", "value": 0}}, "tags": ["CITY"]}"#;

struct Platform {
    base: String,
    http: reqwest::Client,
    store: Arc<dyn Store>,
    bus: Arc<RedisBus>,
    controller: actix_web::dev::ServerHandle,
    scheduler: zmon_scheduler::Stopper,
    workers: Vec<zmon_worker::Stopper>,
    _space: TestKeySpace,
    _db: TestDatabase,
}

impl Platform {
    async fn start() -> Self {
        Self::start_with_workers(vec![WorkerConfig {
            name: "plocal.test".into(),
            heartbeat_interval: Duration::from_millis(200),
            ..WorkerConfig::default()
        }])
        .await
    }

    async fn start_with_workers(workers: Vec<WorkerConfig>) -> Self {
        zmon_checks::install_crypto_provider();
        let db = TestDatabase::create().await.expect("database");
        let space = TestKeySpace::new("pipeline");
        let config = ControllerConfig {
            database_url: db.url.clone(),
            redis_url: space.url.clone(),
            redis_prefix: space.keys.prefix().to_string(),
            bind: "127.0.0.1:0".into(),
            admin_user: Some("admin".into()),
            admin_password: Some("admin-password".into()),
            http_workers: Some(1),
            shutdown_timeout: Duration::from_secs(1),
            mirror_check_interval: Duration::from_millis(200),
            host_sync_interval: Duration::from_millis(200),
            ..ControllerConfig::default()
        };
        let store = zmon_controller::connect_store(&config)
            .await
            .expect("store");
        let bus: Arc<RedisBus> = Arc::new(space.bus().expect("bus"));
        let running = zmon_controller::start(&config, store.clone(), bus.clone())
            .await
            .expect("controller");
        let base = format!("http://{}", running.addr);
        let controller = running.handle();
        tokio::spawn(running.run());
        let scheduler = zmon_scheduler::start(
            SchedulerConfig {
                name: "scheduler-test".into(),
                leader_ttl: Duration::from_millis(900),
                ..SchedulerConfig::default()
            },
            store.clone(),
            bus.clone(),
            Arc::new(SystemClock),
        );
        let scheduler_stop = scheduler.stopper();
        tokio::spawn(scheduler.run());
        let mut worker_stops = Vec::new();
        for worker_config in workers {
            let worker = zmon_worker::start(worker_config, bus.clone(), Arc::new(SystemClock))
                .await
                .expect("worker");
            worker_stops.push(worker.stopper());
            tokio::spawn(worker.run());
        }
        Self {
            base,
            http: reqwest::Client::new(),
            store,
            bus,
            controller,
            scheduler: scheduler_stop,
            workers: worker_stops,
            _space: space,
            _db: db,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth("admin", Some("admin-password"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn stop(self) {
        for worker in &self.workers {
            worker.stop();
        }
        self.scheduler.stop();
        self.controller.stop(false).await;
    }
}

async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen in time"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posted_definition_becomes_live_alert_status() {
    let p = Platform::start().await;
    let (status, _) = p
        .call(
            Method::PUT,
            "/api/v1/entities",
            Some(json!({"id": "cd-kinshasa", "type": "city", "longitude": 15.3})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, check) = p.call(Method::POST, "/api/v1/check-definitions", Some(json!({"id": 20, "name": "City longitude",
        "owning_team": "Platform/Software", "command": "entity.longitude", "interval": 2, "entities": [{"type": "city"}]}))).await;
    assert_eq!(status, 200, "{check}");
    let (status, alert) = p
        .call(
            Method::POST,
            "/api/v1/alert-definitions",
            Some(serde_json::from_str(SEED_ALERT).expect("seed")),
        )
        .await;
    assert_eq!(status, 200, "{alert}");
    let alert_id = alert["id"].as_i64().expect("id");
    let path = format!("/api/v1/status/alert/{alert_id}/");

    // Within one interval (plus scheduling jitter), the status is live.
    let entry = eventually("live alert status", || async {
        let (_, body) = p.call(Method::GET, &path, None).await;
        body.get(alert_id.to_string())
            .and_then(|a| a.get("cd-kinshasa"))
            .cloned()
    })
    .await;
    assert_eq!(entry["value"], 15.3);
    assert_eq!(
        entry["captures"],
        json!({"longitude": 15.3, "longitude_param": 0.0})
    );
    assert_eq!(entry["worker"], "plocal.test");
    assert_eq!(entry["downtimes"], json!([]));
    for field in ["td", "ts", "start_time"] {
        assert!(entry[field].is_f64(), "{field}: {entry}");
    }

    // A downtime shows in the state at the next run.
    let now = chrono::Utc::now().timestamp();
    let (status, group) = p
        .call(
            Method::POST,
            "/api/v1/downtimes",
            Some(json!({"comment": "maintenance",
        "end_time": now + 3600, "entities": ["cd-kinshasa"]})),
        )
        .await;
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["alert_definitions"], json!([alert_id]));
    eventually("the downtime in the state", || async {
        let (_, body) = p.call(Method::GET, &path, None).await;
        let downtimes = body[alert_id.to_string()]["cd-kinshasa"]["downtimes"].clone();
        (downtimes[0]["id"].is_string() && downtimes[0]["group_id"] == group["id"]).then_some(())
    })
    .await;

    // When the condition turns false, the entry goes.
    let (status, _) = p
        .call(
            Method::PUT,
            "/api/v1/entities",
            Some(json!({"id": "cd-kinshasa", "type": "city", "longitude": -4.3})),
        )
        .await;
    assert_eq!(status, 200);
    eventually("the alert to end", || async {
        let (_, body) = p.call(Method::GET, &path, None).await;
        (body == json!({})).then_some(())
    })
    .await;

    // The controller kept the history the worker published.
    let kinds = eventually("alert events in the store", || async {
        let events = p.store.alert_events(alert_id, 10).await.ok()?;
        // The alert's own changes; the downtime's are recorded beside them.
        let kinds: Vec<String> = events
            .iter()
            .rev()
            .map(|e| e.kind.as_str().to_string())
            .filter(|k| k.starts_with("ALERT_"))
            .collect();
        (kinds.len() >= 4).then_some(kinds)
    })
    .await;
    assert_eq!(
        kinds,
        [
            "ALERT_STARTED",
            "ALERT_ENTITY_STARTED",
            "ALERT_ENTITY_ENDED",
            "ALERT_ENDED"
        ]
    );

    // all-entities shows the latest value (what `zmon data` prints).
    let (_, data) = p
        .call(
            Method::GET,
            &format!("/api/v1/status/alert/{alert_id}/all-entities"),
            None,
        )
        .await;
    assert_eq!(data[0]["entity"], "cd-kinshasa");
    assert_eq!(data[0]["results"][0]["value"], -4.3);

    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trial_runs_and_instant_evaluation() {
    let p = Platform::start().await;
    for (id, lon) in [
        ("cd-kinshasa", 15.3),
        ("cn-peking", 116.4),
        ("us-la", -118.2),
    ] {
        p.call(
            Method::PUT,
            "/api/v1/entities",
            Some(json!({"id": id, "type": "city", "longitude": lon})),
        )
        .await;
    }
    let (status, started) = p
        .call(
            Method::POST,
            "/api/v1/trial-runs",
            Some(json!({
        "check_command": "entity['longitude']", "alert_condition": "capture(lon=value) > limit",
        "entities": [{"type": "city"}], "entities_exclude": [{"id": "cn-peking"}],
        "parameters": {"limit": {"value": 0, "type": "int"}}})),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let id = started["id"].as_str().expect("id").to_string();
    let run = eventually("trial results", || async {
        let (_, body) = p
            .call(Method::GET, &format!("/api/v1/trial-runs/{id}"), None)
            .await;
        (body["percentage"] == 100.0).then_some(body)
    })
    .await;
    let mut results: Vec<(String, bool)> = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["entity"].as_str().unwrap_or_default().to_string(),
                r["is_alert"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    results.sort();
    assert_eq!(
        results,
        [
            ("cd-kinshasa".to_string(), true),
            ("us-la".to_string(), false)
        ]
    );
    assert!(
        p.call(Method::GET, "/api/v1/status/alert/0/", None).await.1 == json!({}),
        "no state written"
    );
    let (status, body) = p
        .call(
            Method::POST,
            "/api/v1/trial-runs",
            Some(json!({"check_command": "1",
        "alert_condition": "value >", "entities": [{"type": "city"}]})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("alert_condition")
    );

    // A daily check runs now when asked.
    let (_, check) = p.call(Method::POST, "/api/v1/check-definitions", Some(json!({"name": "daily",
        "owning_team": "Platform/Software", "command": "3 * 4", "interval": 86400, "entities": [{"type": "city"}]}))).await;
    let (_, alert) = p.call(Method::POST, "/api/v1/alert-definitions", Some(json!({"name": "twelve", "description": "d",
        "team": "Platform/Software", "condition": "== 12", "priority": 3, "check_definition_id": check["id"]}))).await;
    let alert_id = alert["id"].as_i64().expect("id");
    // Give the scheduler a moment to load the new definitions.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (status, _) = p
        .call(
            Method::POST,
            &format!("/api/v1/alert-definitions/{alert_id}/instant-eval"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let entities = eventually("instant evaluation", || async {
        let (_, body) = p
            .call(
                Method::GET,
                &format!("/api/v1/status/alert/{alert_id}/"),
                None,
            )
            .await;
        let found = body[alert_id.to_string()]
            .as_object()
            .map(|m| m.len())
            .unwrap_or(0);
        (found == 3).then_some(found)
    })
    .await;
    assert_eq!(entities, 3);
    p.stop().await;
}

/// A worker that is the agent of host `name`, seeing a fixed snapshot
/// taken `age_secs` ago.
fn host_worker(name: &str, age_secs: i64) -> WorkerConfig {
    use zmon_checks::host::{HistoryStore, HostMonitor, Snapshot};
    let mut snapshot = Snapshot::default();
    snapshot.facts.hostname = name.into();
    snapshot.taken_at = chrono::Utc::now() - chrono::Duration::seconds(age_secs);
    WorkerConfig {
        name: format!("plocal.{name}"),
        heartbeat_interval: Duration::from_millis(200),
        host: Some(zmon_worker::HostAgent {
            monitor: HostMonitor::fixed(snapshot, HistoryStore::new(10)),
            reporting: zmon_worker::HostReporting::for_host(name),
        }),
        ..WorkerConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_on_a_host_run_on_that_hosts_worker() {
    let p = Platform::start_with_workers(vec![host_worker("host-a", 0), host_worker("host-b", 0)])
        .await;
    // Both hosts register themselves through their workers.
    let hosts = eventually("both host entities", || async {
        let (_, body) = p
            .call(
                Method::GET,
                "/api/v1/entities?query={\"type\":\"host\"}",
                None,
            )
            .await;
        (body.as_array().map(Vec::len) == Some(2)).then_some(body)
    })
    .await;
    let queues: Vec<&str> = hosts
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["queue"].as_str())
        .collect();
    assert!(
        queues.contains(&"host-host-a") && queues.contains(&"host-host-b"),
        "{hosts}"
    );

    let (status, _) = p.call(Method::POST, "/api/v1/check-definitions", Some(json!({"id": 30, "name": "Who runs me",
        "owning_team": "Platform/Software", "command": "entity.id", "interval": 1, "entities": [{"type": "host"}]}))).await;
    assert_eq!(status, 200);
    let (status, alert) = p
        .call(
            Method::POST,
            "/api/v1/alert-definitions",
            Some(
                json!({"name": "Always", "description": "Shows who ran the check",
        "team": "Platform/Software", "responsible_team": "Platform/Software", "entities": [],
        "condition": "True", "check_definition_id": 30, "status": "ACTIVE", "priority": 3}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{alert}");
    let path = format!("/api/v1/status/alert/{}/", alert["id"]);

    // Several runs on each host, each on the host's own worker.
    let mut runs: std::collections::BTreeMap<&str, std::collections::BTreeSet<u64>> =
        Default::default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !(runs.len() == 2 && runs.values().all(|r| r.len() >= 3)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "too few runs: {runs:?}"
        );
        let (_, body) = p.call(Method::GET, &path, None).await;
        for host in ["host-a", "host-b"] {
            let state = &body[alert["id"].to_string()][host];
            if let (Some(worker), Some(ts)) = (state["worker"].as_str(), state["ts"].as_f64()) {
                assert_eq!(
                    worker,
                    format!("plocal.{host}"),
                    "{host} ran elsewhere: {state}"
                );
                runs.entry(host).or_default().insert(ts.to_bits());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    p.stop().await;
}

fn load_host_library(p: &Platform) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_zmon"))
        .args([
            "library",
            "load",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../checks/library/host.yaml"),
        ])
        .env("ZMON_URL", &p.base)
        .env("ZMON_USER", "admin")
        .env("ZMON_PASSWORD", "admin-password")
        .output()
        .expect("zmon runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_library_loads_through_the_api_and_spots_a_silent_host() {
    let p =
        Platform::start_with_workers(vec![host_worker("fresh", 0), host_worker("silent", 3600)])
            .await;
    let first = load_host_library(&p);
    assert!(first.contains("loaded 6 checks and 12 alerts"), "{first}");
    let (_, alerts) = p.call(Method::GET, "/api/v1/alert-definitions", None).await;
    let alerts = alerts.as_array().cloned().unwrap_or_default();
    assert_eq!(alerts.len(), 12);
    let by_name = |name: &str| {
        alerts
            .iter()
            .find(|a| a["name"] == name)
            .cloned()
            .unwrap_or_default()
    };
    let saturated = by_name("CPU saturated: {total}%");
    assert_eq!(
        saturated["parent_id"],
        alerts
            .iter()
            .find(|a| a["template"] == true && a["name"] == "CPU busy: {total}%")
            .map(|a| a["id"].clone())
            .unwrap_or_default()
    );
    assert_eq!(
        saturated["condition"], "capture(total=value['total']) > cpu_percent",
        "inherited from the template"
    );
    assert_eq!(
        saturated["parameters"]["cpu_percent"]["value"], 98.0,
        "its own threshold"
    );

    // Loading again updates in place.
    let second = load_host_library(&p);
    assert!(second.contains("updated as alert"), "{second}");
    let (_, again) = p.call(Method::GET, "/api/v1/alert-definitions", None).await;
    assert_eq!(again.as_array().map(Vec::len), Some(12));

    // The fleet check runs on GLOBAL and names the silent host only.
    let silent = by_name("Hosts stopped reporting: {hosts}");
    let path = format!("/api/v1/status/alert/{}/", silent["id"]);
    let hosts = eventually("the silent-host alert", || async {
        let (_, body) = p.call(Method::GET, &path, None).await;
        let hosts = body[silent["id"].to_string()]["GLOBAL"]["captures"]["hosts"].clone();
        hosts.is_object().then_some(hosts)
    })
    .await;
    let hosts = hosts.as_object().cloned().unwrap_or_default();
    assert_eq!(hosts.keys().collect::<Vec<_>>(), ["silent"], "{hosts:?}");
    assert!(hosts["silent"].as_i64().unwrap_or_default() >= 3600);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_library_runs_cleanly_on_a_live_host() {
    use zmon_bus::Bus;
    use zmon_checks::host::{HostMonitor, SamplerConfig};
    let monitor = HostMonitor::start(SamplerConfig {
        tick: Duration::from_millis(500),
        ..SamplerConfig::default()
    });
    zmon_checks::host::install(monitor.clone());
    let mut worker = host_worker("live", 0);
    if let Some(agent) = worker.host.as_mut() {
        agent.monitor = monitor;
    }
    let p = Platform::start_with_workers(vec![worker]).await;
    eventually("the live host entity", || async {
        let (status, _) = p.call(Method::GET, "/api/v1/entities/live", None).await;
        (status == 200).then_some(())
    })
    .await;
    load_host_library(&p);
    let (_, checks) = p.call(Method::GET, "/api/v1/check-definitions", None).await;
    let host_checks: Vec<(i64, String)> = checks
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["entities"][0]["type"] == "host")
        .filter_map(|c| Some((c["id"].as_i64()?, c["name"].as_str()?.to_string())))
        .collect();
    assert_eq!(host_checks.len(), 5, "{checks}");
    for (check_id, name) in &host_checks {
        let result = eventually(&format!("a result of {name}"), || async {
            p.bus
                .latest_results(*check_id, &["live".to_string()])
                .await
                .ok()?
                .remove("live")
        })
        .await;
        assert!(result.exc.is_none(), "{name} failed: {:?}", result.value);
    }
    let (_, alerts) = p.call(Method::GET, "/api/v1/alert-definitions", None).await;
    for alert in alerts.as_array().into_iter().flatten() {
        let on_hosts = host_checks
            .iter()
            .any(|(id, _)| alert["check_definition_id"] == *id);
        if alert["template"] == true || !on_hosts {
            continue;
        }
        let id = alert["id"].as_i64().unwrap_or_default();
        let captures = eventually(&format!("an evaluation of {}", alert["name"]), || async {
            p.bus.evaluated_entities(id).await.ok()?.remove("live")
        })
        .await;
        assert!(
            !captures.contains_key("exception"),
            "{}: {captures:?}",
            alert["name"]
        );
    }
    p.stop().await;
}

/// Fleet id of each host, by name.
async fn fleet_ids(p: &Platform) -> std::collections::BTreeMap<String, i64> {
    let (status, body) = p.call(Method::GET, "/api/v1/server/list", None).await;
    assert_eq!(status, 200, "{body}");
    body["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| Some((s["name"].as_str()?.to_string(), s["id"].as_i64()?)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_monitors_run_on_each_covered_host_and_fill_nezhas_history() {
    let p = Platform::start_with_workers(vec![host_worker("host-a", 0), host_worker("host-b", 0)])
        .await;
    let ids = eventually("both hosts in the fleet", || async {
        let ids = fleet_ids(&p).await;
        (ids.len() == 2).then_some(ids)
    })
    .await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let open = listener.local_addr().expect("address");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("address");
    let mut monitor_ids = Vec::new();
    for (name, target, cover) in [
        ("listener", open.to_string(), json!({"cover": "all"})),
        (
            "closed port",
            closed.to_string(),
            json!({"cover": "except", "servers": [ids["host-b"]]}),
        ),
    ] {
        let mut body = json!({"name": name, "type": "tcp", "target": target, "team": "ops"});
        if let (Some(b), Some(c)) = (body.as_object_mut(), cover.as_object()) {
            b.extend(c.clone());
        }
        let (status, monitor) = p.call(Method::POST, "/api/v1/monitors", Some(body)).await;
        assert_eq!(status, 201, "{monitor}");
        monitor_ids.push(monitor["id"].clone());
    }

    let history = |server: i64| {
        let p = &p;
        async move {
            let (status, body) = p
                .call(Method::GET, &format!("/api/v1/monitor/{server}"), None)
                .await;
            assert_eq!(status, 200, "{body}");
            body["result"].as_array().cloned().unwrap_or_default()
        }
    };
    let host_a = eventually("host-a's history of both monitors", || async {
        let items = history(ids["host-a"]).await;
        (items.len() == 2).then_some(items)
    })
    .await;
    let up = &host_a[0];
    assert_eq!(up["monitor_id"], monitor_ids[0]);
    assert!(
        up["avg_delay"][0].as_f64().is_some_and(|ms| ms >= 0.0),
        "{up}"
    );
    assert_eq!(up["failed"][0], 0);
    let down = &host_a[1];
    assert_eq!(down["monitor_id"], monitor_ids[1]);
    assert_eq!(
        down["avg_delay"][0],
        Value::Null,
        "a failure is no delay, not 0: {down}"
    );
    assert!(down["failed"][0].as_i64().is_some_and(|n| n >= 1), "{down}");

    let host_b = eventually("host-b's history", || async {
        let items = history(ids["host-b"]).await;
        (!items.is_empty()).then_some(items)
    })
    .await;
    let probed: Vec<&Value> = host_b.iter().map(|h| &h["monitor_id"]).collect();
    assert_eq!(
        probed,
        [&monitor_ids[0]],
        "host-b is not covered by the closed-port monitor"
    );
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_icmp_monitor_pings_loopback_or_says_why_not() {
    let permitted = zmon_checks::icmp::ping(
        std::net::IpAddr::from([127, 0, 0, 1]),
        1,
        Duration::ZERO,
        Duration::from_secs(2),
        std::time::Instant::now() + Duration::from_secs(2),
    );
    let p = Platform::start_with_workers(vec![host_worker("host-a", 0)]).await;
    let ids = eventually("the host in the fleet", || async {
        let ids = fleet_ids(&p).await;
        (ids.len() == 1).then_some(ids)
    })
    .await;
    let (status, monitor) = p
        .call(
            Method::POST,
            "/api/v1/monitors",
            Some(json!({"name": "loopback", "type": "icmp", "target": "127.0.0.1", "team": "ops"})),
        )
        .await;
    assert_eq!(status, 201, "{monitor}");
    let item = eventually("a ping in the history", || async {
        let (_, body) = p
            .call(
                Method::GET,
                &format!("/api/v1/monitor/{}", ids["host-a"]),
                None,
            )
            .await;
        body["result"].as_array().and_then(|r| r.first()).cloned()
    })
    .await;
    match permitted {
        Ok(_) => {
            assert!(
                item["avg_delay"][0].as_f64().is_some_and(|ms| ms < 1000.0),
                "{item}"
            );
            assert_eq!(item["failed"][0], 0);
        }
        Err(e) => {
            eprintln!("ICMP not permitted here ({e}); checking that probes fail with a reason");
            assert_eq!(item["avg_delay"][0], Value::Null);
            let (_, check) = p
                .call(
                    Method::GET,
                    &format!(
                        "/api/v1/check-definitions/{}",
                        monitor["check_definition_id"]
                    ),
                    None,
                )
                .await;
            assert_eq!(check["command"], r#"monitor_probe("icmp", "127.0.0.1")"#);
        }
    }
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_notifies_through_the_notifier_and_the_history_records_it() {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let received: Arc<std::sync::Mutex<Vec<Value>>> = Arc::default();
    let kept = web::Data::new(received.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(kept.clone()).route(
            "/hook",
            web::post().to(
                |body: web::Json<Value>, kept: web::Data<Arc<std::sync::Mutex<Vec<Value>>>>| async move {
                    if let Ok(mut k) = kept.lock() {
                        k.push(body.into_inner());
                    }
                    HttpResponse::Ok().finish()
                },
            ),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind");
    let hook = format!("http://{}/hook", server.addrs()[0]);
    tokio::spawn(server.run());

    let p = Platform::start().await;
    let notifier = zmon_worker::notifier::Notifier::new(
        zmon_worker::notifier::NotifierConfig {
            http_allow: vec![hook.clone()],
            ..Default::default()
        },
        p.bus.clone(),
    )
    .expect("notifier");
    let notifier_stop = notifier.stopper();
    tokio::spawn(notifier.run());

    let (status, _) = p
        .call(
            Method::PUT,
            "/api/v1/entities",
            Some(json!({"id": "n1", "type": "demo"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, check) = p
        .call(
            Method::POST,
            "/api/v1/check-definitions",
            Some(
                json!({"name": "Demo", "owning_team": "ops", "command": "42", "interval": 60,
                "entities": [{"type": "demo"}]}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{check}");
    let (status, alert) = p
        .call(
            Method::POST,
            "/api/v1/alert-definitions",
            Some(
                json!({"name": "Demo is {value}", "description": "d", "team": "ops",
                "responsible_team": "ops", "condition": "capture(value=value) > 0",
                "check_definition_id": check["id"], "priority": 2, "status": "ACTIVE",
                "notifications": [format!("notify_http('{hook}', body='hello')")]}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{alert}");
    let body = eventually("the webhook call", || async {
        received.lock().ok().and_then(|r| r.first().cloned())
    })
    .await;
    assert_eq!(body["body"], "hello");
    assert_eq!(body["alert"]["alert_def"]["id"], alert["id"]);
    assert_eq!(body["alert"]["entity"]["id"], "n1");
    assert_eq!(body["alert"]["changed"], true, "a NEW alert");
    let alert_id = alert["id"].as_i64().expect("id");
    let sent = eventually("the notification in the event history", || async {
        let events = p.store.alert_events(alert_id, 20).await.expect("events");
        events
            .into_iter()
            .find(|e| e.kind == zmon_core::event::AlertEventKind::NotificationSent)
    })
    .await;
    let data = sent.data.unwrap_or_default();
    assert_eq!(data["event"], "NEW");
    assert_eq!(data["attempt"], 1);
    assert_eq!(data["expr"], format!("notify_http('{hook}', body='hello')"));
    notifier_stop.stop();
    p.stop().await;
}
