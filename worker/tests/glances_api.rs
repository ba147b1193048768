//! The Glances-compatible API over real HTTP: Glances' own REST suite
//! (tests/test_restful.py) adapted, the fields Home Assistant reads, and
//! our fixes and security settings. Each test starts its own server on
//! port 0, so they run in parallel.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Read;

use chrono::{Duration as ChronoDuration, Utc};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use serde_json::{Number, Value, json};
use zmon_checks::host::{HistoryStore, HostMonitor, Snapshot};
use zmon_worker::glances::{self, GLANCES_VERSION, GlancesConfig, GlancesServer};

const PASSWORD: &str = "s3cret";

fn fixture(text: &str) -> BTreeMap<String, Value> {
    serde_json::from_str(text).unwrap()
}

fn monitor() -> HostMonitor {
    let now = Utc::now();
    let mut snapshot =
        Snapshot::from_plugins(now, fixture(include_str!("fixtures/glances_all.json")));
    snapshot.seq = 1;
    snapshot.set_views(fixture(include_str!("fixtures/glances_views.json")));
    snapshot.limits = fixture(include_str!("fixtures/glances_limits.json"));
    let mut history = HistoryStore::new(1200);
    for i in 0..5 {
        let at = now - ChronoDuration::seconds(2 * (5 - i));
        let point = |v: f64| Number::from_f64(v).unwrap();
        history.push("cpu", "user", at, point(5.0 + i as f64));
        history.push("cpu", "system", at, point(2.0 + i as f64 / 10.0));
        history.push("load", "min1", at, point(0.4));
        history.push(
            "network",
            "eth0_bytes_recv_rate_per_sec",
            at,
            Number::from(15_000 + i),
        );
        history.push(
            "network",
            "eth0_bytes_sent_rate_per_sec",
            at,
            Number::from(4_800 + i),
        );
    }
    HostMonitor::fixed(snapshot, history)
}

struct Api {
    server: Option<GlancesServer>,
    base: String,
    client: reqwest::Client,
}

impl Api {
    async fn start(config: GlancesConfig) -> Self {
        zmon_checks::install_crypto_provider();
        let prefix = config.url_prefix.trim_end_matches('/').to_string();
        let server = glances::serve(
            GlancesConfig {
                bind: "127.0.0.1:0".into(),
                ..config
            },
            monitor(),
        )
        .await
        .unwrap();
        let base = format!("http://{}{prefix}", server.local_addr());
        Self {
            server: Some(server),
            base,
            client: reqwest::Client::new(),
        }
    }

    async fn open() -> Self {
        Self::start(GlancesConfig::default()).await
    }

    async fn locked() -> Self {
        Self::start(GlancesConfig {
            password: Some(PASSWORD.into()),
            ..GlancesConfig::default()
        })
        .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Status and JSON body of a GET.
    async fn json(&self, path: &str) -> (StatusCode, Value) {
        let response = self.get(path).await;
        let status = response.status();
        let body = response.bytes().await.unwrap();
        let value = serde_json::from_slice(&body)
            .unwrap_or_else(|err| panic!("{path}: not JSON ({err}): {body:?}"));
        (status, value)
    }

    /// The body of a GET that must succeed.
    async fn ok(&self, path: &str) -> Value {
        let (status, body) = self.json(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn is_number_or_null(v: &Value) -> bool {
    v.is_number() || v.is_null()
}

fn detail(body: &Value) -> String {
    body["detail"].to_string()
}

// ---- Glances' own REST suite (A.8), adapted ----

#[tokio::test]
async fn restful_001_to_009_all_plugins_limits_views() {
    let api = Api::open().await;
    // 001: /all is a dict. (Glances also checks a second call is faster,
    // which here is always so: /all is serialised once per snapshot.)
    let all = api.ok("/api/4/all").await;
    assert!(all.is_object());
    assert_eq!(api.ok("/api/4/all").await, all, "stable within a tick");

    // 002
    let plugins = api.ok("/api/4/pluginslist").await;
    let plugins: Vec<String> = serde_json::from_value(plugins).unwrap();
    assert!(plugins.iter().any(|p| p == "cpu"));

    // 003: per-plugin types.
    let lists = [
        "fs",
        "percpu",
        "sensors",
        "alert",
        "processlist",
        "programlist",
        "diskio",
        "network",
        "folders",
        "amps",
        "ports",
        "irq",
        "wifi",
        "gpu",
        "containers",
        "vms",
        "npu",
    ];
    for plugin in &plugins {
        let body = api.ok(&format!("/api/4/{plugin}")).await;
        if ["uptime", "version", "psutilversion"].contains(&plugin.as_str()) {
            assert!(body.is_string(), "{plugin}: {body}");
        } else if lists.contains(&plugin.as_str()) {
            let ok = match &body {
                Value::Array(entries) => entries.iter().all(Value::is_object),
                Value::Object(map) => map.is_empty(),
                _ => false,
            };
            assert!(ok, "{plugin} is a list of dicts: {body}");
        } else {
            assert!(body.is_object(), "{plugin}: {body}");
        }
        // 008, 009
        assert!(api.ok(&format!("/api/4/{plugin}/limits")).await.is_object());
        assert!(api.ok(&format!("/api/4/{plugin}/views")).await.is_object());
    }

    // 004
    let cpu = api.ok("/api/4/cpu").await;
    for key in cpu.as_object().unwrap().keys() {
        let body = api.ok(&format!("/api/4/cpu/{key}")).await;
        assert!(body.is_object(), "cpu/{key}");
        assert!(is_number_or_null(&body[key.as_str()]), "cpu/{key}: {body}");
    }

    // 005
    assert!(api.ok("/api/4/processlist/pid/value/0").await.is_object());

    // 006, 007
    assert!(api.ok("/api/4/all/limits").await.is_object());
    assert!(api.ok("/api/4/all/views").await.is_object());
    api.stop().await;
}

#[tokio::test]
async fn restful_010_history() {
    let api = Api::open().await;
    let history = api.ok("/api/4/cpu/history").await;
    assert!(history.is_object());
    assert!(!history["user"].as_array().unwrap().is_empty());
    let last3 = api.ok("/api/4/cpu/history/3").await;
    assert!(last3["user"].as_array().unwrap().len() > 1);
    assert_eq!(last3["user"].as_array().unwrap().len(), 3);
    for path in ["/api/4/cpu/system/history", "/api/4/cpu/system/history/3"] {
        let series = api.ok(path).await;
        let points = series.as_array().unwrap();
        assert!(!points.is_empty(), "{path}");
        assert!(points.iter().all(Value::is_array), "{path}: list of lists");
        assert!(points[0][0].as_str().unwrap().ends_with("+00:00"));
    }
    assert_eq!(
        api.ok("/api/4/cpu/system/history/3")
            .await
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        api.ok("/api/4/cpu/system/history/0")
            .await
            .as_array()
            .unwrap()
            .len(),
        5,
        "0 means every point"
    );
    let network = api
        .ok("/api/4/network/eth0_bytes_recv_rate_per_sec/history/2")
        .await;
    assert_eq!(network.as_array().unwrap().len(), 2);
    api.stop().await;
}

#[tokio::test]
async fn restful_011_to_017_and_100() {
    let api = Api::open().await;
    // 011
    assert_eq!(
        api.ok("/api/4/network/interface_name").await,
        json!({"interface_name": ["eth0", "lo"]})
    );
    // 012, for GET and HEAD
    let status = api.ok("/api/4/status").await;
    assert_eq!(status["version"], GLANCES_VERSION);
    let head = api
        .client
        .head(api.url("/api/4/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.bytes().await.unwrap().is_empty());
    // 013
    assert_eq!(
        api.ok("/api/4/processlist/top/2")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // 014
    assert!(api.ok("/api/4/config").await.is_object());
    assert_eq!(api.ok("/api/4/config/global/refresh").await, json!("2"));
    // 015
    let response = api
        .client
        .get(api.url("/api/4/all"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let all: Value = serde_json::from_slice(&gunzip(&response.bytes().await.unwrap())).unwrap();
    assert_eq!(all, api.ok("/api/4/all").await, "the gzipped /all is /all");
    // 016
    assert!(api.ok("/api/4/cpu/total/description").await.is_string());
    assert_eq!(api.ok("/api/4/cpu/total/unit").await, json!("percent"));
    // 017
    let interfaces = api.ok("/api/4/network/interface_name").await;
    let first = interfaces["interface_name"][0].as_str().unwrap();
    let bytes_all = api.ok(&format!("/api/4/network/bytes_all/{first}")).await;
    assert!(bytes_all["bytes_all"].is_u64(), "{bytes_all}");
    assert_eq!(bytes_all.as_object().unwrap().len(), 1);
    // 100
    let servers = api.ok("/api/4/serverslist").await;
    assert!(servers.as_array().unwrap().iter().all(Value::is_object));
    api.stop().await;
}

// ---- Home Assistant's glances-api (A.9) ----

#[tokio::test]
async fn home_assistant_fields_are_present_with_their_types() {
    let api = Api::open().await;
    let all = api.ok("/api/4/all").await;
    type Check = fn(&Value) -> bool;
    let check = |section: &str, entry: &Value, fields: &[(&str, Check)]| {
        for (field, ok) in fields {
            assert!(ok(&entry[*field]), "{section}.{field} = {}", entry[*field]);
        }
    };
    let number: Check = Value::is_number;
    let string: Check = Value::is_string;
    let integer: Check = |v| v.is_u64() || v.is_i64();
    for fs in all["fs"].as_array().unwrap() {
        check(
            "fs",
            fs,
            &[
                ("mnt_point", string),
                ("used", integer),
                ("percent", number),
                ("free", integer),
                ("size", integer),
            ],
        );
    }
    for sensor in all["sensors"].as_array().unwrap() {
        check(
            "sensors",
            sensor,
            &[("label", string), ("type", string), ("value", number)],
        );
    }
    for section in ["mem", "memswap"] {
        check(
            section,
            &all[section],
            &[("percent", number), ("used", integer), ("free", integer)],
        );
    }
    check(
        "load",
        &all["load"],
        &[("min1", number), ("min5", number), ("min15", number)],
    );
    check(
        "processcount",
        &all["processcount"],
        &[
            ("running", integer),
            ("total", integer),
            ("thread", integer),
            ("sleeping", integer),
        ],
    );
    check("quicklook", &all["quicklook"], &[("cpu", number)]);
    for cpu in all["percpu"].as_array().unwrap() {
        check("percpu", cpu, &[("cpu_number", integer), ("total", number)]);
    }
    for nic in all["network"].as_array().unwrap() {
        check(
            "network",
            nic,
            &[
                ("interface_name", string),
                ("bytes_recv_rate_per_sec", number),
                ("bytes_sent_rate_per_sec", number),
                ("speed", number),
            ],
        );
        assert!(nic.get("is_up").is_none_or(Value::is_boolean));
    }
    for disk in all["diskio"].as_array().unwrap() {
        check(
            "diskio",
            disk,
            &[
                ("disk_name", string),
                ("read_bytes", number),
                ("write_bytes", number),
            ],
        );
        assert!(
            disk["time_since_update"].as_f64().unwrap() > 0.0,
            "a divisor"
        );
    }
    assert!(all["containers"].is_array());
    assert!(all["gpu"].is_array());
    assert!(all["raid"].is_object());
    // HA's parse_duration reads Python's str(timedelta).
    let uptime = all["uptime"].as_str().unwrap();
    assert!(uptime.contains(':'), "{uptime}");
    // HA also lists the plugins.
    assert!(api.ok("/api/4/pluginslist").await.is_array());
    api.stop().await;
}

// ---- Shapes ----

#[tokio::test]
async fn processlist_is_sorted_but_all_keeps_the_raw_order() {
    let api = Api::open().await;
    let pids = |v: &Value| -> Vec<u64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p["pid"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(
        pids(&api.ok("/api/4/processlist").await),
        [1042, 733, 1, 2211, 2250]
    );
    assert_eq!(pids(&api.ok("/api/4/processlist/top/2").await), [1042, 733]);
    assert_eq!(
        pids(&api.ok("/api/4/all").await["processlist"]),
        [1, 733, 1042, 2211, 2250]
    );
    assert_eq!(api.ok("/api/4/processes/1").await["name"], "systemd");
    let top = api.ok("/api/4/cpu/top/1").await;
    assert!(top.is_object(), "a dict plugin comes back whole");
    api.stop().await;
}

#[tokio::test]
async fn items_values_keys_and_views() {
    let api = Api::open().await;
    assert_eq!(
        api.ok("/api/4/mem/total").await,
        json!({"total": 4088184832u64})
    );
    assert_eq!(
        api.ok("/api/4/fs/mnt_point").await,
        json!({"mnt_point": ["/", "/boot"]})
    );
    let root = api.ok("/api/4/fs/mnt_point/value//").await;
    assert_eq!(root["/"].as_array().unwrap().len(), 1);
    assert_eq!(root["/"][0]["device_name"], "/dev/sda2");
    let boot = api.ok("/api/4/fs/mnt_point/value//boot").await;
    assert_eq!(boot["/boot"][0]["mnt_point"], "/boot");
    assert_eq!(
        api.ok("/api/4/fs/mnt_point/value/nowhere").await,
        json!({"nowhere": []})
    );
    let one = api.ok("/api/4/processlist/pid/value/1").await;
    assert_eq!(one["1"][0]["name"], "systemd");
    // Numeric keys match as text (Glances never matches them).
    assert_eq!(
        api.ok("/api/4/processlist/name/1").await,
        json!({"name": "systemd"})
    );
    assert_eq!(
        api.ok("/api/4/percpu/total/0").await,
        json!({"total": 14.0})
    );
    assert_eq!(api.ok("/api/4/percpu/total/1").await, json!({"total": 8.0}));
    assert_eq!(
        api.ok("/api/4/sensors/value/CPU Fan").await,
        json!({"value": 2100})
    );
    // Views.
    assert_eq!(api.ok("/api/4/cpu/total/views").await["decoration"], "OK");
    assert_eq!(
        api.ok("/api/4/network/eth0/views").await["bytes_recv"]["decoration"],
        "DEFAULT"
    );
    assert_eq!(
        api.ok("/api/4/network/bytes_recv/eth0/views").await["decoration"],
        "DEFAULT"
    );
    assert!(api.ok("/api/4/percpu/total/0/views").await.is_object());
    // Scalars and the rest.
    assert_eq!(api.ok("/api/4/uptime").await, json!("8 days, 18:39:26"));
    assert!(api.ok("/api/4/help").await.is_object());
    assert_eq!(api.ok("/api/4/containers/name").await, json!({"name": []}));
    assert_eq!(api.ok("/api/4/cpu/limits").await["cpu_total_careful"], 65.0);
    api.stop().await;
}

#[tokio::test]
async fn config_args_events_and_extended_processes() {
    let api = Api::open().await;
    let config = api.ok("/api/4/config").await;
    for section in config.as_object().unwrap().values() {
        assert!(section.as_object().unwrap().values().all(Value::is_string));
    }
    assert_eq!(api.ok("/api/4/config/cpu/total_careful").await, json!("65"));
    assert_eq!(
        api.ok("/api/4/config/fs/hide").await,
        json!("/boot.*,.*/snap.*")
    );
    assert_eq!(
        api.ok("/api/4/config/global/history_size").await,
        json!("1200")
    );
    let (status, body) = api.json("/api/4/config/nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = api.json("/api/4/config/global/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let args = api.ok("/api/4/args").await;
    assert_eq!(args["password"], "********");
    assert_eq!(
        args["username"], "********",
        "no password: the user is masked too"
    );
    assert_eq!(api.ok("/api/4/args/time").await, json!(2.0));
    let (status, _) = api.json("/api/4/args/nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    for path in ["/api/4/events/clear/warning", "/api/4/events/clear/all"] {
        let response = api.client.post(api.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.json::<Value>().await.unwrap(), json!({}));
    }

    assert_eq!(api.ok("/api/4/processes/extended").await, json!({}));
    let post = |path: &str| api.client.post(api.url(path)).send();
    let enabled = post("/api/4/processes/extended/1").await.unwrap();
    assert_eq!(enabled.json::<Value>().await.unwrap(), json!(true));
    assert_eq!(api.ok("/api/4/processes/extended").await["pid"], 1);
    assert_eq!(
        post("/api/4/processes/extended/424242")
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post("/api/4/processes/extended/x").await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let disabled = post("/api/4/processes/extended/disable").await.unwrap();
    assert_eq!(disabled.json::<Value>().await.unwrap(), json!(true));
    assert_eq!(api.ok("/api/4/processes/extended").await, json!({}));
    api.stop().await;
}

// ---- Errors (D.6) ----

#[tokio::test]
async fn errors_are_json_details_never_500() {
    let api = Api::open().await;
    let (status, body) = api.json("/api/4/nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let text = detail(&body);
    assert!(text.contains("Unknown plugin nope"), "{text}");
    assert!(
        text.contains("'cpu'") && text.contains("'processlist'"),
        "{text}"
    );
    let (status, _) = api.json("/api/4/nope/history/3").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "unknown plugin before bad nb"
    );

    for path in [
        "/api/4/cpu/nope",
        "/api/4/network/nope",
        "/api/4/uptime/nope",
        "/api/4/cpu/nope/history",
        "/api/4/cpu/nope/views",
        "/api/4/cpu/nope/unit",
        "/api/4/network/bytes_all/eth9",
        "/api/4/network/nope/eth0",
        "/api/4/cpu/total/value/1",
        "/api/4/fs/nope/value/1",
        "/api/4/processes/424242",
        "/api/4/network/nope/eth0/views",
        "/api/4/nothing/at/all/here/x",
        "/api/5/cpu",
        "/",
    ] {
        let (status, body) = api.json(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(body["detail"].is_string(), "{path}: {body}");
    }
    assert_eq!(api.json("/nope").await.1, json!({"detail": "Not Found"}));

    for path in [
        "/api/4/processes/abc",
        "/api/4/processes/-1",
        "/api/4/cpu/history/abc",
        "/api/4/cpu/system/history/1.5",
        "/api/4/processlist/top/many",
    ] {
        let (status, body) = api.json(path).await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{path}: {status}"
        );
        assert!(!body["detail"].is_null(), "{path}: {body}");
    }

    let huge = "x".repeat(4000);
    let (status, _) = api.json(&format!("/api/4/{huge}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api.json(&format!("/api/4/cpu/{huge}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Not UTF-8 once decoded: matches nothing, and must not break.
    let (status, _) = api.json("/api/4/fs/mnt_point/value/%FF%FE").await;
    assert!(!status.is_server_error(), "{status}");

    // As in FastAPI, a GET of a POST-only path falls through to the plugin
    // routes, which know no plugin called "token".
    let (status, _) = api.json("/api/4/token").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let wrong_method = api
        .client
        .post(api.url("/api/4/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong_method.json::<Value>().await.unwrap()["detail"].is_string());
    let no_tokens = api
        .client
        .post(api.url("/api/4/token"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        no_tokens.status(),
        StatusCode::NOT_IMPLEMENTED,
        "no password, no tokens"
    );
    api.stop().await;
}

// ---- Compression ----

#[tokio::test]
async fn only_bodies_of_a_kilobyte_or_more_are_gzipped() {
    let api = Api::open().await;
    let fetch = |path: &'static str, gzip: bool| {
        let mut request = api.client.get(api.url(path));
        if gzip {
            request = request.header(header::ACCEPT_ENCODING, "gzip, deflate");
        }
        request.send()
    };
    let small = fetch("/api/4/mem/total", true).await.unwrap();
    assert!(small.headers().get(header::CONTENT_ENCODING).is_none());
    let large = fetch("/api/4/processlist", true).await.unwrap();
    assert_eq!(large.headers()[header::CONTENT_ENCODING], "gzip");
    let zipped = gunzip(&large.bytes().await.unwrap());
    assert!(zipped.len() >= glances::GZIP_MIN_BYTES);
    let plain = fetch("/api/4/processlist", false).await.unwrap();
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(plain.bytes().await.unwrap(), zipped);
    let refused = api
        .client
        .get(api.url("/api/4/all"))
        .header(header::ACCEPT_ENCODING, "gzip;q=0")
        .send()
        .await
        .unwrap();
    assert!(refused.headers().get(header::CONTENT_ENCODING).is_none());
    api.stop().await;
}

// ---- Authentication ----

#[tokio::test]
async fn status_is_open_while_everything_else_needs_credentials() {
    let api = Api::locked().await;
    assert_eq!(api.ok("/api/4/status").await["version"], GLANCES_VERSION);
    let head = api
        .client
        .head(api.url("/api/4/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    let v3 = api.get("/api/3/status").await;
    assert_eq!(v3.status(), StatusCode::OK);

    let response = api.get("/api/4/cpu").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Basic");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "Not authenticated"})
    );
    for path in ["/api/4/all", "/api/3/all", "/api/2/all", "/api/4/nope"] {
        assert_eq!(
            api.get(path).await.status(),
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }

    let basic = |user: &str, password: &str| {
        api.client
            .get(api.url("/api/4/cpu"))
            .basic_auth(user, Some(password))
            .send()
    };
    assert_eq!(
        basic("glances", PASSWORD).await.unwrap().status(),
        StatusCode::OK
    );
    let wrong = basic("glances", "nope").await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.json::<Value>().await.unwrap(),
        json!({"detail": "Incorrect authentication"})
    );
    assert_eq!(
        basic("root", PASSWORD).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let args = api
        .client
        .get(api.url("/api/4/args"))
        .basic_auth("glances", Some(PASSWORD))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(args["password"], "********");
    api.stop().await;
}

#[tokio::test]
async fn tokens_work_as_bearer_credentials() {
    let api = Api::locked().await;
    let login = |body: Value| api.client.post(api.url("/api/4/token")).json(&body).send();
    let response = login(json!({"username": "glances", "password": PASSWORD}))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let token: Value = response.json().await.unwrap();
    assert_eq!(token["token_type"], "bearer");
    assert_eq!(token["expires_in"], 3600);
    let jwt = token["access_token"].as_str().unwrap();
    assert_eq!(jwt.split('.').count(), 3);

    let with_bearer = |token: String| {
        api.client
            .get(api.url("/api/4/mem"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(
        with_bearer(jwt.to_string()).await.unwrap().status(),
        StatusCode::OK
    );
    let bad = with_bearer(format!("{jwt}x")).await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(bad.headers()[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(
        with_bearer("not.a.token".into()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    let refused = login(json!({"username": "glances", "password": "nope"}))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let missing = login(json!({"username": "glances"})).await.unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let malformed = api
        .client
        .post(api.url("/api/4/token"))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert!(malformed.json::<Value>().await.unwrap()["detail"].is_string());
    api.stop().await;
}

// ---- CORS and allowed hosts ----

fn allow_origin(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn wildcard_cors_never_allows_credentials() {
    let api = Api::start(GlancesConfig {
        cors_credentials: true,
        ..GlancesConfig::default()
    })
    .await;
    let response = api
        .client
        .get(api.url("/api/4/cpu"))
        .header(header::ORIGIN, "https://dash.example")
        .send()
        .await
        .unwrap();
    assert_eq!(allow_origin(response.headers()), Some("*"));
    assert!(
        response
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none()
    );

    let preflight = api
        .client
        .request(reqwest::Method::OPTIONS, api.url("/api/4/cpu"))
        .header(header::ORIGIN, "https://dash.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::OK);
    assert_eq!(allow_origin(preflight.headers()), Some("*"));
    assert!(
        preflight.headers()[header::ACCESS_CONTROL_ALLOW_METHODS]
            .to_str()
            .unwrap()
            .contains("GET")
    );
    assert!(
        preflight
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none()
    );
    api.stop().await;
}

#[tokio::test]
async fn listed_origins_get_credentials_and_others_nothing() {
    let api = Api::start(GlancesConfig {
        cors_origins: vec!["https://dash.example".into()],
        cors_credentials: true,
        password: Some(PASSWORD.into()),
        ..GlancesConfig::default()
    })
    .await;
    let from = |origin: &'static str| {
        api.client
            .get(api.url("/api/4/status"))
            .header(header::ORIGIN, origin)
            .send()
    };
    let listed = from("https://dash.example").await.unwrap();
    assert_eq!(allow_origin(listed.headers()), Some("https://dash.example"));
    assert_eq!(
        listed.headers()[header::ACCESS_CONTROL_ALLOW_CREDENTIALS],
        "true"
    );
    let other = from("https://evil.example").await.unwrap();
    assert_eq!(allow_origin(other.headers()), None);

    // A preflight needs no credentials; a foreign one is refused.
    let preflight = |origin: &'static str| {
        api.client
            .request(reqwest::Method::OPTIONS, api.url("/api/4/cpu"))
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .send()
    };
    assert_eq!(
        preflight("https://dash.example").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        preflight("https://evil.example").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    // A 401 still carries CORS headers, so the page can read it.
    let denied = api
        .client
        .get(api.url("/api/4/cpu"))
        .header(header::ORIGIN, "https://dash.example")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(allow_origin(denied.headers()), Some("https://dash.example"));
    api.stop().await;
}

#[tokio::test]
async fn a_foreign_host_header_is_rejected() {
    let api = Api::start(GlancesConfig {
        allowed_hosts: vec!["glances.local".into(), "*.example.org".into()],
        ..GlancesConfig::default()
    })
    .await;
    let with_host = |host: &'static str| {
        api.client
            .get(api.url("/api/4/status"))
            .header(header::HOST, host)
            .send()
    };
    let (status, body) = api.json("/api/4/status").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "127.0.0.1 is not listed");
    assert!(body["detail"].is_string());
    assert_eq!(
        with_host("rebind.attacker.example").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        with_host("glances.local:61208").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        with_host("node1.example.org").await.unwrap().status(),
        StatusCode::OK
    );
    api.stop().await;
}

// ---- v2 and v3 ----

#[tokio::test]
async fn legacy_paths_keep_their_shapes() {
    let api = Api::open().await;
    let v3_status = api.get("/api/3/status").await;
    assert_eq!(v3_status.status(), StatusCode::OK);
    assert_eq!(v3_status.text().await.unwrap(), "Active");

    for version in [2, 3] {
        let base = format!("/api/{version}");
        assert!(api.ok(&format!("{base}/all")).await.is_object());
        assert!(api.ok(&format!("{base}/pluginslist")).await.is_array());
        assert_eq!(
            api.ok(&format!("{base}/network/interface_name")).await,
            json!({"interface_name": ["eth0", "lo"]})
        );
        // The bare filter.
        let one = api.ok(&format!("{base}/processlist/pid/1")).await;
        assert_eq!(one["1"][0]["name"], "systemd");
        let eth0 = api.ok(&format!("{base}/network/interface_name/eth0")).await;
        assert_eq!(eth0["eth0"][0]["interface_name"], "eth0");
        // Item history is a dict.
        let history = api.ok(&format!("{base}/cpu/system/history")).await;
        assert_eq!(history["system"].as_array().unwrap().len(), 5);
        let last2 = api.ok(&format!("{base}/cpu/system/history/2")).await;
        assert_eq!(last2["system"].as_array().unwrap().len(), 2);
        assert!(api.ok(&format!("{base}/cpu/history")).await["user"].is_array());
        // Unknown items are 404s, unknown plugins 400s.
        let (status, _) = api.json(&format!("{base}/cpu/nope")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = api.json(&format!("{base}/nope")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            api.ok(&format!("{base}/config/global")).await["refresh"],
            "2"
        );
    }
    // v3 takes a path as the value.
    let boot = api.ok("/api/3/fs/mnt_point//boot").await;
    assert_eq!(boot["/boot"][0]["device_name"], "/dev/sda1");
    assert_eq!(
        api.ok("/api/3/processlist/top/1")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    api.stop().await;
}

#[tokio::test]
async fn url_prefix_moves_every_route() {
    let api = Api::start(GlancesConfig {
        url_prefix: "/glances/".into(),
        ..GlancesConfig::default()
    })
    .await;
    assert_eq!(api.ok("/api/4/status").await["version"], GLANCES_VERSION);
    assert!(api.ok("/api/4/cpu").await.is_object());
    let unprefixed = api
        .client
        .get(api.url("/api/4/status").replace("/glances", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(unprefixed.status(), StatusCode::NOT_FOUND);
    api.stop().await;
}
