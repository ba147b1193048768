//! The `zmon` binary end to end: migrations, administration, and a
//! controller that starts, serves and stops on SIGTERM.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use zmon_bus::testing::TestKeySpace;

mod support;
use support::{free_port, signal, terminate, wait_for_exit, wait_ready};
use zmon_store::testing::TestDatabase;

/// A database and a Redis key space for one test, removed afterwards.
struct Fixture {
    db: TestDatabase,
    space: TestKeySpace,
}

fn database() -> Fixture {
    Fixture {
        db: create_database(),
        space: TestKeySpace::new("clitest"),
    }
}

/// The binary under test migrates it.
fn create_database() -> TestDatabase {
    // Tests may already run inside a runtime; this one gets a thread.
    std::thread::spawn(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(TestDatabase::create())
            .expect("test database")
    })
    .join()
    .expect("database thread")
}

fn zmon(f: &Fixture) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zmon"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ZMON_DATABASE_URL", &f.db.url)
        .env("ZMON_REDIS_URL", &f.space.url)
        .env("ZMON_REDIS_PREFIX", f.space.keys.prefix());
    cmd
}

fn run(cmd: &mut Command, stdin: Option<&str>) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("zmon runs");
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).expect("stdin");
    }
    child.wait_with_output().expect("zmon finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn migrate_users_and_tokens() {
    let db = database();
    let out = run(zmon(&db).arg("migrate"), None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("migrations applied"));

    let out = run(
        zmon(&db).args([
            "user",
            "add",
            "alice",
            "--role",
            "api-writer",
            "--team",
            "platform",
            "--team",
            "shop",
            "--password-stdin",
        ]),
        Some("a good password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(
        zmon(&db).args(["user", "add", "alice", "--password", "x-password"]),
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        zmon(&db).args([
            "user",
            "add",
            "bob",
            "--role",
            "root",
            "--password",
            "x-password",
        ]),
        None,
    );
    assert!(!out.status.success(), "unknown roles are refused");
    let out = run(zmon(&db).args(["user", "add", "bob"]), None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--password-stdin"),
        "{}",
        text(&out.stderr)
    );

    let out = run(zmon(&db).args(["user", "list"]), None);
    let listing = text(&out.stdout);
    assert!(
        listing.lines().any(|l| l.starts_with("alice")
            && l.contains("API_WRITER")
            && l.contains("platform,shop")),
        "{listing}"
    );

    let out = run(
        zmon(&db).args([
            "token",
            "create",
            "--user",
            "alice",
            "--label",
            "ci",
            "--expires-in-days",
            "30",
        ]),
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_string();
    assert!(
        token.starts_with("zmon_") && token.len() > 30,
        "only the token goes to stdout: {token}"
    );
    let out = run(zmon(&db).args(["token", "list", "--user", "alice"]), None);
    let listing = text(&out.stdout);
    assert!(!listing.contains(&token), "secrets are never listed");
    let id = listing
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .expect("a token row")
        .to_string();
    assert!(listing.contains("active"));
    let out = run(zmon(&db).args(["token", "revoke", &id]), None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(zmon(&db).args(["token", "revoke", &id]), None);
    assert!(!out.status.success(), "a second revoke says so");
    let out = run(zmon(&db).args(["token", "list"]), None);
    assert!(text(&out.stdout).contains("revoked"));
    let out = run(
        zmon(&db).args(["token", "create", "--user", "nobody"]),
        None,
    );
    assert!(!out.status.success());
}

#[test]
fn bad_configuration_stops_with_a_clear_message() {
    let db = database();
    let out = run(
        zmon(&db).env("ZMON_MAX_BODY_BYTES", "lots").arg("migrate"),
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).to_lowercase().contains("max_body_bytes"),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        zmon(&db).args(["--config", "/nonexistent/zmon.toml", "migrate"]),
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("/nonexistent/zmon.toml"));
    let out = run(
        zmon(&db).env("ZMON_ADMIN_USER", "admin").arg("controller"),
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("ZMON_ADMIN_PASSWORD"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn controller_serves_and_stops_gracefully_on_sigterm() {
    zmon_checks::install_crypto_provider();
    let db = database();
    let port = free_port();
    let mut child = zmon(&db)
        .env("ZMON_BIND", format!("127.0.0.1:{port}"))
        .env("ZMON_ADMIN_USER", "admin")
        .env("ZMON_ADMIN_PASSWORD", "admin-password")
        .env("ZMON_LOG_FORMAT", "json")
        .arg("controller")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("controller starts");
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{base}/ready")).await;
    let resp = client
        .get(format!("{base}/api/v1/teams"))
        .basic_auth("admin", Some("admin-password"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200, "the bootstrap admin exists");

    let status = terminate(&mut child);
    assert!(status.success(), "exit status {status:?}");
    let mut logs = String::new();
    if let Some(mut err) = child.stderr.take() {
        std::io::Read::read_to_string(&mut err, &mut logs).expect("logs");
    }
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["message"] == "controller stopped"),
        "{logs}"
    );
    assert!(
        !logs.contains("admin-password"),
        "secrets stay out of the logs"
    );
}

#[tokio::test]
async fn scheduler_and_worker_serve_probes_and_stop_on_sigterm() {
    zmon_checks::install_crypto_provider();
    let f = database();
    let (scheduler_port, worker_port) = (free_port(), free_port());
    let mut scheduler = zmon(&f)
        .env(
            "ZMON_SCHEDULER_ADMIN_BIND",
            format!("127.0.0.1:{scheduler_port}"),
        )
        .arg("scheduler")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("scheduler starts");
    let mut worker = zmon(&f)
        .env("ZMON_WORKER_ADMIN_BIND", format!("127.0.0.1:{worker_port}"))
        .env("ZMON_WORKER_CONCURRENCY", "4")
        // Workers need no database: a wrong URL must not matter.
        .env("ZMON_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .arg("worker")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("worker starts");
    wait_ready(&format!("http://127.0.0.1:{scheduler_port}/ready")).await;
    wait_ready(&format!("http://127.0.0.1:{worker_port}/ready")).await;
    let metrics = reqwest::get(format!("http://127.0.0.1:{worker_port}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("zmon_worker_tasks_in_flight"), "{metrics}");
    let leader = reqwest::get(format!("http://127.0.0.1:{scheduler_port}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        leader
            .lines()
            .any(|l| l.starts_with("zmon_scheduler_leader")),
        "{leader}"
    );
    // The replica leads, and gives the lead up at once on SIGTERM so a
    // standby takes over without waiting for the lease to expire.
    let mut redis = f.space.connection().await.expect("redis");
    let leader_key = f.space.keys.leader("scheduler");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let holder: Option<String> = redis::AsyncCommands::get(&mut redis, &leader_key)
            .await
            .expect("get");
        if holder.is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "the scheduler never led");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(terminate(&mut worker).success());
    assert!(terminate(&mut scheduler).success());
    let holder: Option<String> = redis::AsyncCommands::get(&mut redis, &leader_key)
        .await
        .expect("get");
    assert_eq!(
        holder, None,
        "leadership released on exit, not left to expire"
    );
}

/// A request in flight when SIGTERM arrives still gets its answer; new
/// connections are refused while the controller drains.
#[tokio::test]
async fn the_controller_drains_in_flight_requests_on_sigterm() {
    use std::io::{Read, Write};
    let db = database();
    let port = free_port();
    let mut child = zmon(&db)
        .env("ZMON_BIND", format!("127.0.0.1:{port}"))
        .env("ZMON_ADMIN_USER", "admin")
        .env("ZMON_ADMIN_PASSWORD", "admin-password")
        .env("ZMON_SHUTDOWN_TIMEOUT_SECS", "5")
        .arg("controller")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("controller starts");
    wait_ready(&format!("http://127.0.0.1:{port}/ready")).await;
    let body = r#"{"id": "drain-test", "type": "city"}"#;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // Headers and half the body now, the rest after SIGTERM.
    let (first, rest) = body.split_at(10);
    write!(
        stream,
        "PUT /api/v1/entities HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46YWRtaW4tcGFzc3dvcmQ=\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .expect("write");
    stream.flush().expect("flush");
    tokio::time::sleep(Duration::from_millis(200)).await;
    signal(&child, "TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the controller waits for the request in flight"
    );
    stream.write_all(rest.as_bytes()).expect("write the rest");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("read");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let status = wait_for_exit(&mut child, Duration::from_secs(10)).expect("exits after draining");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn a_worker_registers_its_host_and_serves_the_glances_api() {
    zmon_checks::install_crypto_provider();
    let f = database();
    let (admin_port, glances_port) = (free_port(), free_port());
    let mut worker = zmon(&f)
        .env("ZMON_WORKER_ADMIN_BIND", format!("127.0.0.1:{admin_port}"))
        .env("ZMON_GLANCES_BIND", format!("127.0.0.1:{glances_port}"))
        .env("ZMON_HOST_ID", "Bin-Test-Host")
        .arg("worker")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("worker starts");
    let base = format!("http://127.0.0.1:{glances_port}/api/4");
    wait_ready(&format!("{base}/status")).await;
    let cpu: serde_json::Value = reqwest::get(format!("{base}/cpu"))
        .await
        .expect("cpu")
        .json()
        .await
        .expect("json");
    let total = cpu["total"].as_f64().unwrap_or(-1.0);
    assert!((0.0..=100.0).contains(&total), "{cpu}");

    // The registration names the host's own queue, which the worker claims.
    let mut redis = f.space.connection().await.expect("redis");
    let deadline = Instant::now() + Duration::from_secs(10);
    let registration: serde_json::Value = loop {
        let raw: Option<String> = redis::AsyncCommands::hget(
            &mut redis,
            f.space.keys.host_registrations(),
            "bin-test-host",
        )
        .await
        .expect("hget");
        if let Some(raw) = raw {
            break serde_json::from_str(&raw).expect("registration json");
        }
        assert!(Instant::now() < deadline, "no host registration");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(registration["queue"], "host-bin-test-host");
    assert!(registration["facts"]["mem_total"].as_u64().unwrap_or(0) > 0);
    let status: Option<String> =
        redis::AsyncCommands::get(&mut redis, f.space.keys.host_status("bin-test-host"))
            .await
            .expect("get");
    assert!(status.is_some_and(|s| s.contains("process_count")));
    assert!(terminate(&mut worker).success());
}
