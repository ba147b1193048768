//! `zmon standalone` end to end: the README's walk-through, restarts, and
//! a kill -9 in the middle of writes. Each test runs the binary in a
//! directory of its own, with its default SQLite store and in-process bus.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod support;
use support::{free_port, signal, terminate, wait_for_exit, wait_ready};

/// A running standalone server and what its start-up summary said.
struct Standalone {
    child: Child,
    port: u16,
    glances_port: u16,
    /// The start-up summary, up to the `Started` line.
    summary: String,
}

impl Standalone {
    async fn start(dir: &Path) -> Self {
        zmon_checks::install_crypto_provider();
        let port = free_port();
        let glances_port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_zmon"))
            .arg("standalone")
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("ZMON_BIND", format!("127.0.0.1:{port}"))
            .env("ZMON_GLANCES_BIND", format!("127.0.0.1:{glances_port}"))
            .env("ZMON_HOST_TICK_SECS", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("zmon standalone starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut summary = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                summary.push_str(&line);
                summary.push('\n');
                if line.trim_start().starts_with("Started") {
                    let _ = tx.send(summary.clone());
                }
            }
        });
        let summary = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)))
            .await
            .expect("join")
            .expect("a start-up summary within a minute");
        wait_ready(&format!("http://127.0.0.1:{port}/ready")).await;
        Self {
            child,
            port,
            glances_port,
            summary,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The API token the first run printed.
    fn token(&self) -> Option<String> {
        self.summary
            .lines()
            .find_map(|l| l.trim().strip_prefix("API token"))
            .map(|t| t.trim().to_string())
    }

    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, token, path, None).await
    }

    async fn call(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base()))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Waits until this machine's host entity is registered; returns it.
    async fn host(&self, token: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, hosts) = self
                .get(token, "/api/v1/entities?query={\"type\":\"host\"}")
                .await;
            if let Some(host) = hosts.as_array().and_then(|h| h.first()) {
                return host.clone();
            }
            assert!(Instant::now() < deadline, "the local host never registered");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn temp_dir(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("zmon-{label}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The shell block between the walk-through markers of README.md.
fn readme_walkthrough() -> String {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("<!-- walkthrough:start -->")
        .expect("README has a walk-through");
    let end = readme
        .find("<!-- walkthrough:end -->")
        .expect("the walk-through ends");
    readme[start..end]
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with("```"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Polls `probe` every 100 ms until it returns something, failing after
/// `deadline`.
async fn within<T, F, Fut>(deadline: Instant, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what} did not happen in time");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_standalone_server_monitors_its_host_within_seconds() {
    let dir = temp_dir("fresh");
    let started = Instant::now();
    let mut server = Standalone::start(&dir).await;
    let deadline = started + Duration::from_secs(15);
    let token = server.token().expect("token");

    within(deadline, "a live worker in /api/v1/status", || async {
        let (_, status) = server.get(&token, "/api/v1/status").await;
        let now = chrono::Utc::now().timestamp() as f64;
        status["workers"]
            .as_array()?
            .iter()
            .any(|w| {
                w["last_execution_time"]
                    .as_f64()
                    .is_some_and(|t| now - t < 10.0)
            })
            .then_some(())
    })
    .await;

    let cpu: Value = reqwest::get(format!(
        "http://127.0.0.1:{}/api/4/cpu",
        server.glances_port
    ))
    .await
    .expect("glances")
    .json()
    .await
    .expect("json");
    assert!(cpu["total"].is_number(), "{cpu}");

    // A host-library alert with a deliberately low threshold fires.
    let (_, alerts) = server.get(&token, "/api/v1/alert-definitions").await;
    let mut alert = alerts
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["name"] == "Memory used: {percent}%" && a["template"] == false)
        .cloned()
        .expect("the memory alert of the host library");
    let id = alert["id"].clone();
    alert["parameters"]["mem_percent"]["value"] = json!(-1.0);
    let (status, body) = server
        .call(
            reqwest::Method::PUT,
            &token,
            &format!("/api/v1/alert-definitions/{id}"),
            Some(&alert),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let check = alert["check_definition_id"].clone();
    let host = server.host(&token).await;
    let host_id = host["id"].as_str().unwrap_or_default().to_string();
    // The check runs every minute; ask for runs now until one sees the new
    // threshold (the scheduler picks the change up within moments).
    let state = within(deadline, "the low-threshold alert", || async {
        let (status, _) = server
            .call(
                reqwest::Method::POST,
                &token,
                &format!("/api/v1/check-definitions/{check}/instant-eval"),
                None,
            )
            .await;
        assert!(status < 300, "instant evaluation: {status}");
        tokio::time::sleep(Duration::from_millis(400)).await;
        let (_, status) = server
            .get(&token, &format!("/api/v1/status/alert/{id}/"))
            .await;
        let state = status[id.to_string()][&host_id].clone();
        state.is_object().then_some(state)
    })
    .await;
    assert!(state["captures"]["percent"].is_number(), "{state}");
    assert!(terminate(&mut server.child).success());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_walkthrough_runs_against_a_fresh_standalone_server() {
    let dir = temp_dir("walkthrough");
    let mut server = Standalone::start(&dir).await;
    assert!(
        server.summary.contains("SQLite") && server.summary.contains("in-process"),
        "{}",
        server.summary
    );
    let token = server.token().expect("the first run prints a token");
    let host = server.host(&token).await;

    // The block as written, with the real token and port.
    let script = readme_walkthrough()
        .replace(
            "export TOKEN=zmon_…   # the token the first run printed",
            &format!("export TOKEN={token}"),
        )
        .replace("localhost:8080", &format!("127.0.0.1:{}", server.port));
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "the walk-through failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let host_id = host["id"].as_str().expect("host id");
    assert!(
        stdout.contains(&format!("\"{host_id}\"")),
        "the status names this host: {stdout}"
    );

    // The downtime shows in the alert's status on this host.
    let (_, alerts) = server.get(&token, "/api/v1/alert-definitions").await;
    let alert = alerts
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["check_definition_id"] == 100)
        .expect("the walk-through's alert")["id"]
        .clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, status) = server
            .get(&token, &format!("/api/v1/status/alert/{alert}/"))
            .await;
        let state = &status[alert.to_string()][host_id];
        if state["downtimes"].as_array().is_some_and(|d| !d.is_empty()) {
            assert!(state["captures"]["percent"].is_number(), "{state}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the downtime never showed: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(terminate(&mut server.child).success());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_everything_and_prints_no_secrets_again() {
    let dir = temp_dir("restart");
    let mut first = Standalone::start(&dir).await;
    let token = first.token().expect("the first run prints a token");
    assert!(
        first.summary.contains("Admin         admin /"),
        "{}",
        first.summary
    );
    first.host(&token).await;
    let (_, alerts) = first.get(&token, "/api/v1/alert-definitions").await;
    let loaded = alerts.as_array().map_or(0, Vec::len);
    assert_eq!(loaded, 12, "the host library is loaded on first run");
    let downtime = reqwest::Client::new()
        .post(format!("{}/api/v1/downtimes", first.base()))
        .bearer_auth(&token)
        .json(
            &json!({"comment": "kept", "end_time": chrono::Utc::now().timestamp() + 3600,
            "entities": [first.host(&token).await["id"]]}),
        )
        .send()
        .await
        .expect("downtime");
    assert_eq!(downtime.status(), 200);
    assert!(terminate(&mut first.child).success());

    let mut second = Standalone::start(&dir).await;
    assert!(second.token().is_none(), "{}", second.summary);
    assert!(!second.summary.contains("admin /"), "{}", second.summary);
    let (status, alerts) = second.get(&token, "/api/v1/alert-definitions").await;
    assert_eq!(status, 200, "the first run's token still works");
    assert_eq!(
        alerts.as_array().map_or(0, Vec::len),
        loaded,
        "not loaded twice"
    );
    let (_, downtimes) = second.get(&token, "/api/v1/downtimes").await;
    assert!(
        downtimes
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["comment"] == "kept"),
        "{downtimes}"
    );
    assert!(terminate(&mut second.child).success());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_during_writes_loses_no_acknowledged_definition() {
    let dir = temp_dir("kill9");
    let mut server = Standalone::start(&dir).await;
    let token = server.token().expect("token");
    let client = reqwest::Client::new();
    let base = server.base();

    // Writers run until the server dies under them.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let (client, base, token, acknowledged) = (
            client.clone(),
            base.clone(),
            token.clone(),
            acknowledged.clone(),
        );
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let id = format!("kill9-{writer}-{n}");
                let sent = client
                    .put(format!("{base}/api/v1/entities"))
                    .bearer_auth(&token)
                    .json(&json!({"id": id, "type": "instance", "n": n}))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 200 => {
                        if let Ok(mut ids) = acknowledged.lock() {
                            ids.push(id);
                        }
                    }
                    _ => break,
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().map_or(0, |ids| ids.len()) < 200 {
        assert!(Instant::now() < deadline, "writes too slow");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(&server.child, "KILL");
    wait_for_exit(&mut server.child, Duration::from_secs(10)).expect("killed");
    for writer in writers {
        let _ = writer.await;
    }
    let acknowledged = acknowledged
        .lock()
        .map(|ids| ids.clone())
        .unwrap_or_default();

    let mut restarted = Standalone::start(&dir).await;
    let (_, entities) = restarted
        .get(&token, "/api/v1/entities?query={\"type\":\"instance\"}")
        .await;
    let stored: std::collections::BTreeSet<&str> = entities
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["id"].as_str())
        .collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(id.as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes lost: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    assert!(terminate(&mut restarted.child).success());
    let _ = std::fs::remove_dir_all(dir);
}
