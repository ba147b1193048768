//! The web UI in a real browser: Debian's chromium, driven through
//! chromedriver, against `zmon standalone` (real worker, real alerts) and a
//! real OpenID Connect provider (npm's `oidc-provider`) on loopback.
//!
//! Screenshots of the main pages go to `<target>/tmp/ui-screenshots/`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

mod support;
use support::{free_port, wait_ready};

/// A child process killed (and reaped) on drop, also when a test fails.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` and waits for a line of its standard output that
/// starts with `ready`; returns the process and what it printed.
fn spawn_until(mut command: Command, ready: &'static str, what: &str) -> (Process, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{what} starts: {e}"));
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            seen.push_str(&line);
            seen.push('\n');
            if line.trim_start().starts_with(ready) {
                let _ = tx.send(seen.clone());
            }
        }
    });
    let printed = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what} did not start within a minute"));
    (Process(child), printed)
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.expect("screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("write screenshot");
}

/// The browser's time zone: India, UTC+05:30 all year (no summer time).
const BROWSER_TZ: &str = "Asia/Kolkata";

/// Chromium in headless mode through a chromedriver of our own.
async fn browser() -> (Client, Process) {
    for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: apt-get install chromium chromium-driver (.ci/run does)"
        );
    }
    let port = free_port();
    let mut command = Command::new("/usr/bin/chromedriver");
    // A zone other than the server's UTC, so local-time handling shows.
    command.arg(format!("--port={port}")).env("TZ", BROWSER_TZ);
    let (driver, _) = spawn_until(
        command,
        "ChromeDriver was started successfully",
        "chromedriver",
    );
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({"binary": "/usr/bin/chromium",
               "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--window-size=1280,1000", "--lang=en-US"]}),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a chromium session");
    (client, driver)
}

async fn api(
    base: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut req = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

/// Waits for an element; on failure, saves what the page showed.
async fn wait_for(browser: &Client, css: &str) -> fantoccini::elements::Element {
    match browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
    {
        Ok(element) => element,
        Err(e) => {
            screenshot(browser, "failure").await;
            let source = browser.source().await.unwrap_or_default();
            let _ = std::fs::write(screenshots().join("failure.html"), &source);
            panic!(
                "{css} did not appear: {e}; the page is in {}",
                screenshots().display()
            )
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_logs_in_with_oidc_sees_an_alert_mutes_it_and_logs_out() {
    zmon_checks::install_crypto_provider();
    let oidc_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../controller/tests/oidc");
    assert!(
        Path::new(oidc_dir)
            .join("node_modules/oidc-provider")
            .exists(),
        "the OIDC provider is not installed: npm ci --prefix controller/tests/oidc (.ci/run does)"
    );
    let (port, oidc_port, glances_port) = (free_port(), free_port(), free_port());
    let base = format!("http://127.0.0.1:{port}");
    let issuer = format!("http://127.0.0.1:{oidc_port}");

    let mut provider = Command::new("node");
    provider
        .arg("provider.js")
        .current_dir(oidc_dir)
        .env("PORT", oidc_port.to_string())
        .env("REDIRECT_URI", format!("{base}/auth/callback"));
    let (_provider, _) = spawn_until(provider, "listening", "the OIDC provider");

    let data = std::env::temp_dir().join(format!("zmon-browser-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data).expect("data dir");
    let mut standalone = Command::new(env!("CARGO_BIN_EXE_zmon"));
    standalone
        .arg("standalone")
        .current_dir(&data)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ZMON_BIND", format!("127.0.0.1:{port}"))
        .env("ZMON_GLANCES_BIND", format!("127.0.0.1:{glances_port}"))
        .env("ZMON_HOST_TICK_SECS", "1")
        .env("ZMON_PUBLIC_URL", &base)
        .env("ZMON_OIDC_ISSUER", &issuer)
        .env("ZMON_OIDC_CLIENT_ID", "zmon")
        .env("ZMON_OIDC_CLIENT_SECRET", "zmon-secret")
        .env("ZMON_OIDC_SCOPES", "openid email profile groups")
        .env("ZMON_OAUTH_TEAMS_CLAIM", "groups")
        .env("ZMON_OAUTH_ADMIN_GROUPS", "zmon-admins");
    let (_zmon, summary) = spawn_until(standalone, "Started", "zmon standalone");
    wait_ready(&format!("{base}/ready")).await;
    let token = summary
        .lines()
        .find_map(|l| l.trim().strip_prefix("API token"))
        .map(|t| t.trim().to_string())
        .expect("the first run prints an API token");

    // A real alert: a check on this machine's host entity, every 2 s.
    let check = api(
        &base,
        &token,
        reqwest::Method::POST,
        "/api/v1/check-definitions",
        Some(json!({
        "name": "Browser test memory", "owning_team": "zmon-admins", "command": "mem().percent",
        "interval": 2, "entities": [{"type": "host"}]})),
    )
    .await;
    let alert = api(&base, &token, reqwest::Method::POST, "/api/v1/alert-definitions", Some(json!({
        "name": "Memory in use on {entities}", "description": "always raised", "team": "zmon-admins",
        "condition": "value > 0", "priority": 1, "check_definition_id": check["id"]}))).await;
    let alert_id = alert["id"].as_i64().expect("alert id");
    let deadline = Instant::now() + Duration::from_secs(30);
    while api(
        &base,
        &token,
        reqwest::Method::GET,
        "/api/v1/status/active-alerts",
        None,
    )
    .await
    .as_array()
    .is_none_or(|a| a.is_empty())
    {
        assert!(Instant::now() < deadline, "the alert was never raised");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let (browser, _driver) = browser().await;

    // 1. Log in through the OIDC provider.
    browser.goto(&base).await.expect("open the UI");
    let sso = wait_for(&browser, "a.button[href^='/auth/login/oidc']").await;
    screenshot(&browser, "01-login").await;
    sso.click().await.expect("single sign-on");
    wait_for(&browser, "input[name=login]")
        .await
        .send_keys("root")
        .await
        .expect("login name");
    browser
        .find(Locator::Css("input[name=password]"))
        .await
        .expect("password field")
        .send_keys("any password")
        .await
        .expect("password");
    browser
        .find(Locator::Css("button[type=submit]"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("log in at the provider");

    // 2. The active alert on the dashboard.
    let card = wait_for(&browser, &format!("article[data-alert-id='{alert_id}']")).await;
    let text = card.text().await.expect("card text");
    assert!(text.contains("Memory in use on"), "{text}");
    let who = browser
        .find(Locator::Css(".who"))
        .await
        .expect("user")
        .text()
        .await
        .expect("text");
    assert!(
        who.contains("root@example.org") && who.contains("ADMIN"),
        "{who}"
    );
    let title = browser.title().await.expect("title");
    assert!(title.contains("Alerts"), "{title}");
    screenshot(&browser, "02-dashboard").await;
    // A phone's width: nothing may need sideways scrolling.
    browser.set_window_size(390, 844).await.expect("phone size");
    let overflow = browser
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .expect("measure");
    assert!(
        overflow.as_i64().unwrap_or(1) <= 0,
        "the dashboard scrolls sideways on a phone: {overflow}"
    );
    screenshot(&browser, "02-dashboard-phone").await;
    browser
        .set_window_size(1280, 1000)
        .await
        .expect("laptop size");

    // 3. Its detail, with a chart of the check's values.
    card.find(Locator::Css("a.title"))
        .await
        .expect("link")
        .click()
        .await
        .expect("open");
    wait_for(&browser, "svg.chart polyline").await;
    screenshot(&browser, "03-alert-detail").await;

    // 4. A downtime for its entity, then the dashboard shows it muted.
    browser
        .find(Locator::Css("#downtime-form input[name=comment]"))
        .await
        .expect("comment")
        .send_keys("browser test maintenance")
        .await
        .expect("type");
    browser
        .find(Locator::Css("#downtime-form button[type=submit]"))
        .await
        .expect("schedule")
        .click()
        .await
        .expect("submit");
    let notice = wait_for(&browser, "p.notice")
        .await
        .text()
        .await
        .expect("notice");
    assert!(notice.contains("Downtime scheduled"), "{notice}");
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        browser.goto(&base).await.expect("dashboard");
        let muted = browser
            .find(Locator::Css(&format!(
                "article.muted[data-alert-id='{alert_id}']"
            )))
            .await;
        if let Ok(card) = muted {
            let text = card.text().await.expect("text");
            assert!(text.contains("in downtime"), "said in words: {text}");
            break;
        }
        assert!(Instant::now() < deadline, "the alert never showed as muted");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    screenshot(&browser, "04-dashboard-muted").await;

    // 4b. A downtime typed in the browser's own time zone is stored in UTC
    // and listed in that zone again.
    browser
        .goto(&format!("{base}/downtimes"))
        .await
        .expect("downtimes page");
    let zone = wait_for(&browser, "form[data-local-times] [data-zone]")
        .await
        .text()
        .await
        .expect("zone");
    assert_eq!(zone, "your time, UTC+05:30");
    // A day within the year a downtime may be scheduled ahead.
    let day = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    browser
        .execute(
            "const f = document.querySelector('form[data-local-times]');
             f.elements.entities.value = 'ist-host';
             f.elements.start.value = arguments[0] + 'T18:00';
             f.elements.end.value = arguments[0] + 'T20:00';
             f.elements.minutes.value = '';
             f.elements.comment.value = 'planned in IST';",
            vec![json!(day.format("%Y-%m-%d").to_string())],
        )
        .await
        .expect("fill the form");
    browser
        .find(Locator::Css("form[data-local-times] button[type=submit]"))
        .await
        .expect("schedule")
        .click()
        .await
        .expect("submit");
    wait_for(&browser, "p.notice").await;
    let listed = api(
        &base,
        &token,
        reqwest::Method::GET,
        "/api/v1/downtimes",
        None,
    )
    .await;
    let ist = listed
        .as_array()
        .and_then(|all| all.iter().find(|d| d["comment"] == "planned in IST"))
        .unwrap_or_else(|| panic!("the downtime was stored: {listed}"));
    // 18:00 at UTC+05:30 is 12:30 UTC.
    let utc_start = day.and_hms_opt(12, 30, 0).expect("a time").and_utc();
    assert_eq!(
        ist["start_time"].as_i64(),
        Some(utc_start.timestamp()),
        "{ist}"
    );
    assert_eq!(
        ist["end_time"].as_i64(),
        Some(utc_start.timestamp() + 7200),
        "{ist}"
    );
    let shown = browser
        .find(Locator::Css(&format!(
            "time[datetime='{}']",
            utc_start.format("%Y-%m-%dT%H:%M:%SZ")
        )))
        .await
        .expect("the start is listed");
    assert_eq!(
        shown.text().await.expect("text"),
        format!("{} 18:00 UTC+05:30", day.format("%Y-%m-%d"))
    );
    assert_eq!(
        shown.attr("title").await.expect("title"),
        Some(format!("{} 12:30 UTC", day.format("%Y-%m-%d")))
    );
    screenshot(&browser, "04b-downtime-local-time").await;

    // 5. A new alert definition with a bad condition: the error is beside it.
    browser
        .goto(&format!("{base}/alert-definitions/new"))
        .await
        .expect("editor");
    let fill = |css: &'static str, text: &'static str| {
        let browser = browser.clone();
        async move {
            browser
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|_| panic!("{css}"))
                .send_keys(text)
                .await
                .expect("type");
        }
    };
    fill("#f-name", "Broken condition").await;
    fill("#f-description", "typed in the browser").await;
    fill("#f-condition", "value >").await;
    browser
        .find(Locator::Css(&format!(
            "#f-check_definition_id option[value='{}']",
            check["id"]
        )))
        .await
        .expect("check option")
        .click()
        .await
        .expect("choose the check");
    browser
        .find(Locator::Css("#f-priority option[value='2']"))
        .await
        .expect("priority")
        .click()
        .await
        .expect("choose");
    browser
        .find(Locator::Css("form.editor button[type=submit]"))
        .await
        .expect("save")
        .click()
        .await
        .expect("submit");
    let error = wait_for(&browser, "#e-condition")
        .await
        .text()
        .await
        .expect("error");
    assert!(error.starts_with("condition"), "{error}");
    let kept = browser
        .find(Locator::Css("#f-name"))
        .await
        .expect("name")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(kept.as_deref(), Some("Broken condition"));
    screenshot(&browser, "05-definition-error").await;

    // 6. Log out.
    browser
        .find(Locator::Css(".who button"))
        .await
        .expect("log out")
        .click()
        .await
        .expect("click");
    let notice = wait_for(&browser, "p.notice")
        .await
        .text()
        .await
        .expect("notice");
    assert!(notice.contains("logged out"), "{notice}");
    browser.goto(&base).await.expect("home");
    wait_for(&browser, "form[action='/login']").await;
    screenshot(&browser, "06-logged-out").await;
    let _ = browser.close().await;
    let _ = std::fs::remove_dir_all(&data);
}
