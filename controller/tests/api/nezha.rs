//! Nezha's v0 fleet API: the seed's shapes, filters, order and auth.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use zmon_controller::bus::Bus;
use zmon_core::Role;
use zmon_core::host::{HostFacts, HostRegistration, HostReport, HostStatus, Temperature};

use crate::helpers::{Auth, Options, TestApp, send};

const NEVER: i64 = -62_135_596_800;

struct Fleet {
    app: TestApp,
    token: String,
}

pub fn registration(id: &str, ipv4: &str) -> HostRegistration {
    HostRegistration {
        id: id.into(),
        queue: format!("host-{id}"),
        worker: format!("plocal.{id}"),
        facts: HostFacts {
            hostname: id.into(),
            platform: "debian".into(),
            platform_version: "12".into(),
            arch: "x86_64".into(),
            cpu_model: "Xeon".into(),
            cpu_physical_cores: 4,
            mem_total: 8 << 30,
            disk_total: 100 << 30,
            boot_time: 1_700_000_000,
            agent_version: "0.1.0".into(),
            ipv4: if ipv4.is_empty() {
                vec![]
            } else {
                vec![ipv4.into()]
            },
            ..HostFacts::default()
        },
    }
}

/// Three hosts: `web-1` reporting now, `web-2` (tagged, display index 5)
/// reporting a minute ago, `db-1` never reporting.
async fn fleet() -> Fleet {
    let app = TestApp::spawn_with_fast_host_sync().await;
    let bus = app.bus();
    for (id, ip) in [("web-1", "10.0.0.1"), ("web-2", "10.0.0.2"), ("db-1", "")] {
        bus.register_host(&registration(id, ip))
            .await
            .expect("register");
    }
    let now = app.now_secs();
    for (id, age) in [("web-1", 1), ("web-2", 60)] {
        let report = HostReport {
            id: id.into(),
            last_active: now - age,
            status: HostStatus {
                cpu: 12.5,
                mem_used: 1 << 30,
                load1: 0.5,
                tcp_conn_count: 7,
                process_count: 99,
                temperatures: vec![Temperature {
                    name: "Core 0".into(),
                    temperature: 41.0,
                }],
                ..HostStatus::default()
            },
        };
        bus.report_host_status(&report, Duration::from_secs(600))
            .await
            .expect("report");
    }
    let admin = app.admin().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, hosts) = send(app.request(
            Method::GET,
            "/api/v1/entities?query={\"type\":\"host\"}",
            &admin,
        ))
        .await;
        if hosts.as_array().map(Vec::len) == Some(3) {
            break;
        }
        assert!(Instant::now() < deadline, "hosts never registered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // People tag and order hosts on the entity.
    let (_, mut web2) = send(app.request(Method::GET, "/api/v1/entities/web-2", &admin)).await;
    if let Some(map) = web2.as_object_mut() {
        map.insert("tag".into(), json!("frontend"));
        map.insert("display_index".into(), json!(5));
        map.remove("last_modified");
    }
    let (status, _) = send(
        app.request(Method::PUT, "/api/v1/entities", &admin)
            .json(&web2),
    )
    .await;
    assert_eq!(status, 200);
    app.create_user("reader", Role::ApiReader, &[]).await;
    let Auth::Bearer(token) = app.create_token("reader").await else {
        panic!("a token");
    };
    Fleet { app, token }
}

impl Fleet {
    /// A request with Nezha's raw `Authorization: <token>` header.
    async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .app
            .http
            .get(self.app.url(path))
            .header("Authorization", &self.token)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

fn names(body: &Value) -> Vec<String> {
    body["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn server_list_has_the_seeds_fields_an_order_and_the_zero_time() {
    let f = fleet().await;
    let (status, body) = f.get("/api/v1/server/list").await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["code"].clone(), body["message"].clone()),
        (json!(0), json!("success"))
    );
    assert!(body["now"].is_i64());
    assert_eq!(
        names(&body),
        ["web-2", "db-1", "web-1"],
        "display_index descending, then id (ids are assigned in name order)"
    );
    for server in body["result"].as_array().into_iter().flatten() {
        for (field, is_type) in [
            ("id", Value::is_i64 as fn(&Value) -> bool),
            ("name", Value::is_string),
            ("tag", Value::is_string),
            ("last_active", Value::is_i64),
            ("ipv4", Value::is_string),
            ("ipv6", Value::is_string),
            ("valid_ip", Value::is_string),
            ("display_index", Value::is_i64),
            ("hide_for_guest", Value::is_boolean),
            ("online", Value::is_boolean),
        ] {
            assert!(is_type(&server[field]), "{field} in {server}");
        }
        assert!(server.get("host").is_none(), "details only: {server}");
    }
    let by_name = |n: &str| {
        body["result"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["name"] == n)
            .cloned()
            .unwrap_or_default()
    };
    let db = by_name("db-1");
    assert_eq!(
        db["last_active"], NEVER,
        "Go's zero time for a host that never reported"
    );
    assert_eq!(db["online"], false);
    assert_eq!(
        (db["ipv4"].clone(), db["valid_ip"].clone()),
        (json!(""), json!(""))
    );
    let web1 = by_name("web-1");
    assert_eq!(web1["online"], true);
    assert_eq!(web1["valid_ip"], "10.0.0.1");
    assert_eq!(
        by_name("web-2")["online"],
        false,
        "a minute is too long ago"
    );
    assert_eq!(by_name("web-2")["tag"], "frontend");

    let (_, tagged) = f.get("/api/v1/server/list?tag=frontend").await;
    assert_eq!(names(&tagged), ["web-2"]);
    let (_, none) = f.get("/api/v1/server/list?tag=nothing").await;
    assert_eq!(none["result"], json!([]), "an empty list, not null");
}

#[tokio::test]
async fn server_details_carry_host_and_status_and_ids_win_over_tags() {
    let f = fleet().await;
    let (_, all) = f.get("/api/v1/server/list").await;
    let id_of = |n: &str| {
        all["result"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["name"] == n)
            .map(|s| s["id"].clone())
            .unwrap_or_default()
    };
    let (web1, db1) = (id_of("web-1"), id_of("db-1"));
    let (status, body) = f
        .get(&format!(
            "/api/v1/server/details?id={web1},999,x,{db1}&tag=frontend"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        names(&body),
        ["web-1", "db-1"],
        "request order; unknown and unparseable ids skipped; the tag ignored"
    );
    let web = &body["result"][0];
    let host = &web["host"];
    for key in [
        "Platform",
        "PlatformVersion",
        "CPU",
        "MemTotal",
        "DiskTotal",
        "SwapTotal",
        "Arch",
        "Virtualization",
        "BootTime",
        "CountryCode",
        "Version",
    ] {
        assert!(host.get(key).is_some(), "host.{key} in {host}");
    }
    assert_eq!(host["Platform"], "debian");
    assert_eq!(host["CPU"], json!(["Xeon 4 Physical Core"]));
    assert_eq!(host["MemTotal"], json!(8u64 << 30));
    let status = &web["status"];
    for key in [
        "CPU",
        "MemUsed",
        "SwapUsed",
        "DiskUsed",
        "NetInTransfer",
        "NetOutTransfer",
        "NetInSpeed",
        "NetOutSpeed",
        "Uptime",
        "Load1",
        "Load5",
        "Load15",
        "TcpConnCount",
        "UdpConnCount",
        "ProcessCount",
    ] {
        assert!(status[key].is_number(), "status.{key} in {status}");
    }
    assert_eq!(status["CPU"], 12.5);
    assert_eq!(status["ProcessCount"], 99);
    assert_eq!(
        status["Temperatures"],
        json!([{"Name": "Core 0", "Temperature": 41.0}])
    );
    let silent = &body["result"][1];
    assert_eq!(silent["last_active"], NEVER);
    assert_eq!(silent["status"]["ProcessCount"], 0, "zeros, as in the seed");

    let (_, tagged) = f.get("/api/v1/server/details?tag=frontend").await;
    assert_eq!(names(&tagged), ["web-2"]);
}

#[tokio::test]
async fn auth_takes_raw_and_bearer_tokens_and_refuses_like_nezha() {
    let f = fleet().await;
    let url = f.app.url("/api/v1/server/list");
    let bearer = f
        .app
        .http
        .get(&url)
        .bearer_auth(&f.token)
        .send()
        .await
        .expect("request");
    assert_eq!(bearer.status(), 200);
    let body: Value = bearer.json().await.expect("json");
    assert_eq!(body["code"], 0);

    for header in [None, Some("not-a-token"), Some("Bearer not-a-token")] {
        let mut req = f.app.http.get(&url);
        if let Some(h) = header {
            req = req.header("Authorization", h);
        }
        let resp = req.send().await.expect("request");
        assert_eq!(resp.status(), 200, "Nezha answers 200 ({header:?})");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["code"], 403, "{header:?}: {body}");
        assert!(body.get("result").is_none());
    }
    let strict = f
        .app
        .http
        .get(f.app.url("/api/v1/server/details?strict=1"))
        .send()
        .await
        .expect("request");
    assert_eq!(strict.status(), 401, "?strict=1 gives a real status");
}

/// The seed's two Python examples, as written, with the dashboard's
/// address, a token and a server id filled in.
const SEED_LIST_EXAMPLE: &str = r#"import requests
url = "http://your-dashboard/api/v1/server/list"
headers = {
"Authorization": "your_token"
}
response = requests.get(url, headers=headers)
data = response.json()
for server in data['result']:
    print(f"Server Name: {server['name']}, Last Active: {server['last_active']}, IP: {server['valid_ip']}")
"#;

const SEED_DETAILS_EXAMPLE: &str = r#"import requests
server_id = 1 # Replace with your server ID
url = f"http://your-dashboard/api/v1/server/details?id={server_id}"
headers = {
"Authorization": "your_token"
}
response = requests.get(url, headers=headers)
data = response.json()
server = data['result'][0]
print(f"Server Name: {server['name']}")
print(f"CPU Usage: {server['status']['CPU']}%")
print(f"Memory Used: {server['status']['MemUsed']} bytes")
print(f"Disk Used: {server['status']['DiskUsed']} bytes")
print(f"Network In Speed: {server['status']['NetInSpeed']} bytes/s")
print(f"Network Out Speed: {server['status']['NetOutSpeed']} bytes/s")
"#;

fn python_with_requests() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import requests"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run_python(script: &str) -> String {
    let output = std::process::Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[tokio::test]
async fn the_seeds_python_examples_run_as_written() {
    if !python_with_requests() {
        eprintln!("skipped: python3 with `requests` is not installed (.ci/run installs it)");
        return;
    }
    let f = fleet().await;
    let dashboard = f.app.url("").trim_end_matches('/').to_string();
    let fill = |script: &str| {
        script
            .replace("http://your-dashboard", &dashboard)
            .replace("your_token", &f.token)
    };
    let list = tokio::task::spawn_blocking({
        let script = fill(SEED_LIST_EXAMPLE);
        move || run_python(&script)
    })
    .await
    .expect("join");
    assert!(
        list.contains("Server Name: web-1, Last Active: ")
            && list.contains("IP: 10.0.0.1")
            && list.contains(&format!("Server Name: db-1, Last Active: {NEVER}, IP: ")),
        "{list}"
    );
    // Server 2 is web-1 (ids are assigned in name order).
    let details = tokio::task::spawn_blocking({
        let script = fill(SEED_DETAILS_EXAMPLE).replace("server_id = 1 #", "server_id = 2 #");
        move || run_python(&script)
    })
    .await
    .expect("join");
    assert!(
        details.contains("Server Name: web-1") && details.contains("CPU Usage: 12.5%"),
        "{details}"
    );
}

#[tokio::test]
async fn the_monitor_route_answers_with_nezhas_codes() {
    let f = fleet().await;
    let anonymous = |path: &str| {
        let req = f.app.http.get(f.app.url(path));
        async move {
            let resp = req.send().await.expect("request");
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, body) = anonymous("/api/v1/monitor/1").await;
    assert_eq!(
        (status, body["code"].clone()),
        (200, json!(0)),
        "no token needed: {body}"
    );
    assert_eq!(
        body["result"],
        json!([]),
        "no monitors yet: an empty list, not null"
    );
    let (status, body) = anonymous("/api/v1/monitor/abc").await;
    assert_eq!((status, body["code"].clone()), (400, json!(400)));
    let (status, body) = anonymous("/api/v1/monitor/999").await;
    assert_eq!((status, body["code"].clone()), (404, json!(404)));
}

#[tokio::test]
async fn strict_auth_can_be_the_servers_default() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|c| c.nezha_strict_auth = true),
    })
    .await;
    let resp = app
        .http
        .get(app.url("/api/v1/server/list"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 401, "no Nezha-style HTTP 200 refusal");
    let (status, body) =
        send(app.request(Method::GET, "/api/v1/server/list", &app.admin().await)).await;
    assert_eq!((status.as_u16(), body["code"].clone()), (200, json!(0)));
}
