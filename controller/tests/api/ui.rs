//! The web UI over real HTTP: login, sessions, CSRF, the dashboard and
//! API tokens. (The browser tests drive the same pages in Chromium.)

use std::collections::BTreeMap;

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use zmon_core::Role;

use crate::checks::create_check;
use zmon_controller::ui::view::url_encode;

use crate::helpers::{Auth, Options, TestApp, send};

/// A cookie jar and form poster, as a browser without JavaScript.
pub struct Browser<'a> {
    app: &'a TestApp,
    pub http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Page {
    /// The value of the first `name="csrf"` hidden field.
    pub fn csrf(&self) -> String {
        let marker = r#"name="csrf" value=""#;
        let start = self.body.find(marker).expect("a csrf field") + marker.len();
        let end = self.body[start..].find('"').expect("closing quote") + start;
        self.body[start..end].to_string()
    }

    pub fn cookie(&self, name: &str) -> Option<&String> {
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }
}

pub fn encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: BTreeMap::new(),
        }
    }

    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let jar: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let req = if jar.is_empty() {
            req
        } else {
            req.header(COOKIE, jar.join("; "))
        };
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let set_cookies: Vec<String> = resp
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.into(), value.into());
                }
            }
        }
        let body = resp.text().await.expect("body");
        Page {
            status,
            location,
            set_cookies,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.get_url(&self.app.url(path)).await
    }

    /// A GET of an absolute URL (another server, such as the provider).
    pub async fn get_url(&mut self, url: &str) -> Page {
        let req = self.http.get(url);
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_url(&self.app.url(path), fields).await
    }

    pub async fn post_url(&mut self, url: &str, fields: &[(&str, &str)]) -> Page {
        let req = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(encode(fields));
        self.send(req).await
    }

    pub async fn login(&mut self, user: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        self.post(
            "/login",
            &[
                ("user", user),
                ("password", password),
                ("csrf", &csrf),
                ("next", "/"),
            ],
        )
        .await
    }
}

#[tokio::test]
async fn local_login_opens_a_session_and_logout_ends_it() {
    let app = TestApp::spawn().await;
    app.create_user("ana", Role::User, &["db"]).await;
    let mut browser = Browser::new(&app);

    let anonymous = browser.get("/?team=db").await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(
        anonymous.location.as_deref(),
        Some("/login?next=%2F%3Fteam%3Ddb")
    );

    let wrong = browser.login("ana", "not-her-password").await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.body.contains("Wrong user name or password"),
        "{}",
        wrong.body
    );
    assert!(!browser.cookies.contains_key("zmon_session"));

    let ok = browser.login("ana", "ana-password").await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location.as_deref(), Some("/"));
    let session = ok.cookie("zmon_session").expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(
        !session.contains("Secure"),
        "plain http without a https public URL"
    );

    let home = browser.get("/").await;
    assert_eq!(home.status, 200);
    assert!(
        home.body.contains("<title>Alerts · ZMON</title>"),
        "{}",
        home.body
    );
    assert!(home.body.contains("ana <small>(USER)</small>"));
    assert!(
        home.body.contains("No alert definitions yet"),
        "empty state says what to do"
    );

    // Logging out needs the session's CSRF token.
    let csrf = home.csrf();
    let forged = browser.post("/logout", &[("csrf", "guess")]).await;
    assert_eq!(forged.status, 403);
    assert_eq!(browser.get("/").await.status, 200, "still logged in");
    let out = browser.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/login?bye=1"));
    assert!(
        out.cookie("zmon_session")
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
    assert_eq!(browser.get("/").await.status, 303);
    assert!(
        browser
            .get("/login?bye=1")
            .await
            .body
            .contains("You are logged out.")
    );
}

#[tokio::test]
async fn repeated_wrong_passwords_slow_the_login_form_down() {
    let app = TestApp::spawn().await;
    app.create_user("ana", Role::User, &[]).await;
    let mut browser = Browser::new(&app);
    for _ in 0..5 {
        assert_eq!(browser.login("ana", "guess").await.status, 401);
    }
    let throttled = browser.login("ana", "ana-password").await;
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    assert!(
        unescape(&throttled.body).contains("Too many failed logins for this user; try again in"),
        "{}",
        throttled.body
    );
    assert!(!browser.cookies.contains_key("zmon_session"));
    assert!(throttled.body.contains("value=\"ana\""), "the name is kept");
}

#[tokio::test]
async fn login_posts_need_the_forms_token_and_our_origin() {
    let app = TestApp::spawn().await;
    app.create_user("ana", Role::User, &[]).await;
    let mut browser = Browser::new(&app);
    // No form fetched: no login cookie to match.
    let blind = browser
        .post(
            "/login",
            &[("user", "ana"), ("password", "ana-password"), ("csrf", "x")],
        )
        .await;
    assert_eq!(blind.status, 403);
    assert!(!browser.cookies.contains_key("zmon_session"));

    let form = browser.get("/login").await;
    let csrf = form.csrf();
    let cross_site = browser
        .send(
            browser
                .http
                .post(app.url("/login"))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(ORIGIN, "https://evil.example.com")
                .body(encode(&[
                    ("user", "ana"),
                    ("password", "ana-password"),
                    ("csrf", &csrf),
                ])),
        )
        .await;
    assert_eq!(cross_site.status, 403);
    assert!(!browser.cookies.contains_key("zmon_session"));

    // An open redirect after login is not possible.
    let ok = browser
        .post(
            "/login",
            &[
                ("user", "ana"),
                ("password", "ana-password"),
                ("csrf", &csrf),
                ("next", "//evil.example.com/"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location.as_deref(), Some("/"));
}

#[tokio::test]
async fn sessions_expire_and_end_with_their_user() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|c| {
            c.session_ttl = std::time::Duration::from_secs(3600);
            c.public_url = Some("https://zmon.example.org/".into());
        }),
    })
    .await;
    app.create_user("ana", Role::User, &[]).await;
    let mut browser = Browser::new(&app);
    let login = browser.login("ana", "ana-password").await;
    assert_eq!(login.status, 303);
    let session = login.cookie("zmon_session").expect("session");
    assert!(session.contains("Secure"), "https public URL: {session}");
    assert_eq!(browser.get("/about").await.status, 200);

    app.set_time_millis(app.now_millis() + 3_599_000);
    assert_eq!(
        browser.get("/about").await.status,
        200,
        "just before expiry"
    );
    app.set_time_millis(app.now_millis() + 2_000);
    let expired = browser.get("/about").await;
    assert_eq!(expired.status, 303);
    assert_eq!(expired.location.as_deref(), Some("/login?next=%2Fabout"));

    // A new login; then the user is deleted and the session ends with it.
    let mut second = Browser::new(&app);
    assert_eq!(second.login("ana", "ana-password").await.status, 303);
    assert!(app.store.delete_user("ana").await.expect("delete"));
    assert_eq!(second.get("/").await.status, 303);
}

/// Loads `path` until its body satisfies `done`, for up to 10 s.
async fn poll_page(browser: &mut Browser<'_>, path: &str, done: impl Fn(&str) -> bool) -> Page {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let page = browser.get(path).await;
        if done(&page.body) {
            return page;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path} never showed what was expected"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Text of HTML as a browser shows it (the entities askama writes).
fn unescape(html: &str) -> String {
    html.replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// A check of team `db` on every host, as the page tests use.
async fn host_check(app: &TestApp, admin: &Auth, name: &str) -> Value {
    create_check(
        app,
        admin,
        json!({"name": name, "owning_team": "db", "command": "1", "interval": 60,
            "entities": [{"type": "host"}]}),
    )
    .await
}

/// Raises `alert` on `entity` the way a worker records it.
async fn raise(app: &TestApp, alert: i64, entity: &str, captures: Value, downtime: bool) {
    let k = &app.keys;
    let now = app.now_secs() as f64;
    let state = json!({"td": 0.01, "downtimes": if downtime { json!([{"id": "dt"}]) } else { json!([]) },
        "captures": captures, "start_time": now - 754.0, "worker": "plocal.w1", "ts": now, "value": 1});
    let mut conn = app.redis.clone();
    let _: () = redis::pipe()
        .sadd(k.active_alerts(), alert)
        .sadd(k.alert_raised_entities(alert), entity)
        .set(k.alert_state(alert, entity), state.to_string())
        .query_async(&mut conn)
        .await
        .expect("seed redis");
}

async fn alert(
    app: &TestApp,
    user: &Auth,
    check: &Value,
    name: &str,
    priority: i64,
    tags: Value,
) -> i64 {
    let (status, body) = send(
        app.request(Method::POST, "/api/v1/alert-definitions", user)
            .json(&json!({
            "name": name, "description": "d", "team": "db", "condition": ">1",
            "priority": priority, "check_definition_id": check["id"], "tags": tags})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["id"].as_i64().expect("id")
}

#[tokio::test]
async fn the_dashboard_groups_raised_alerts_mutes_downtimes_and_filters_in_the_url() {
    let app = TestApp::spawn().await;
    let user = app.create_user("ana", Role::Viewer, &["db"]).await;
    let admin = app.admin().await;
    let check = host_check(&app, &admin, "replication").await;
    let lag = alert(
        &app,
        &admin,
        &check,
        "Replication lag {lag}s",
        1,
        json!(["db"]),
    )
    .await;
    let disk = alert(&app, &admin, &check, "Disk <full>", 3, json!(["disk"])).await;
    raise(&app, lag, "db-1", json!({"lag": 42}), false).await;
    raise(&app, disk, "db-2", json!({"percent": 97}), true).await;

    let mut browser = Browser::new(&app);
    let Auth::Basic(name, password) = user else {
        panic!("basic")
    };
    assert_eq!(browser.login(&name, &password).await.status, 303);

    let home = browser.get("/").await;
    assert_eq!(home.status, 200);
    let body = &home.body;
    assert!(
        body.contains("<title>(1) Alerts · ZMON</title>"),
        "one needs attention: {body}"
    );
    let critical = body.find("Critical (priority 1)").expect("red group");
    let notice = body.find("Notice (priority 3)").expect("yellow group");
    assert!(critical < notice, "most urgent first");
    assert!(
        body.contains("Replication lag 42s"),
        "captures in the title"
    );
    assert!(body.contains("<b>lag</b>=42"));
    assert!(body.contains("12m 34s"), "time since start_time");
    assert!(
        body.contains("Disk &#60;full&#62;") || body.contains("Disk &lt;full&gt;"),
        "escaped"
    );
    assert!(!body.contains("Disk <full>"));
    let muted = body
        .find(r#"class="alert yellow muted""#)
        .expect("muted card");
    assert!(
        body[muted..].contains("in downtime"),
        "said in words, not only greyed"
    );
    assert!(body.contains(r#"data-refresh="/ui/alerts""#));

    // The filter lives in the URL, and the refresh keeps it.
    let filtered = browser.get("/?tags=disk").await;
    assert!(
        filtered
            .body
            .contains(r#"data-refresh="/ui/alerts?tags=disk""#)
    );
    assert!(filtered.body.contains("Disk"));
    assert!(!filtered.body.contains("Replication lag"));
    let fragment = browser.get("/ui/alerts?tags=db").await;
    assert_eq!(fragment.status, 200);
    assert!(fragment.body.contains("Replication lag 42s"));
    assert!(!fragment.body.contains("<html"), "a fragment, not a page");
    let none = browser.get("/ui/alerts?team=nobody").await;
    assert!(none.body.contains("No active alerts match this filter"));
}

#[tokio::test]
async fn api_tokens_are_created_shown_once_used_and_revoked() {
    let app = TestApp::spawn().await;
    app.create_user("ana", Role::User, &["db"]).await;
    app.create_user("bob", Role::User, &["db"]).await;
    let Auth::Bearer(bobs) = app.create_token("bob").await else {
        panic!("bearer")
    };
    let mut browser = Browser::new(&app);
    browser.login("ana", "ana-password").await;

    let page = browser.get("/tokens").await;
    assert!(page.body.contains("You have no tokens yet."));
    let csrf = page.csrf();
    let refused = browser
        .post("/tokens", &[("label", "cli"), ("csrf", "nope")])
        .await;
    assert_eq!(refused.status, 403);
    let bad = browser
        .post(
            "/tokens",
            &[("label", "cli"), ("days", "soon"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("whole number"), "{}", bad.body);

    let created = browser
        .post(
            "/tokens",
            &[("label", "cli"), ("days", "30"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(created.status, 200);
    let marker = r#"id="new-token">"#;
    let start = created.body.find(marker).expect("shown") + marker.len();
    let token = created.body[start..]
        .split('<')
        .next()
        .expect("token")
        .to_string();
    assert!(token.starts_with("zmon_"), "{token}");
    let api = Auth::Bearer(token.clone());
    let (status, _) = send(app.request(
        Method::GET,
        "/api/v1/checks/all-active-check-definitions",
        &api,
    ))
    .await;
    assert_eq!(status, 200, "the token works for the API");
    let again = browser.get("/tokens").await;
    assert!(!again.body.contains(&token), "shown once");
    assert!(again.body.contains("cli") && again.body.contains("active"));

    // Someone else's token cannot be revoked here.
    let bob_id = app.store.tokens(Some("bob")).await.expect("tokens")[0].id;
    let foreign = browser
        .post(&format!("/tokens/{bob_id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(foreign.status, 404);
    let (status, _) = send(app.request(Method::GET, "/api/v1/teams", &Auth::Bearer(bobs))).await;
    assert_eq!(status, 200, "bob's token still works");

    let own_id = app.store.tokens(Some("ana")).await.expect("tokens")[0].id;
    let revoked = browser
        .post(&format!("/tokens/{own_id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(revoked.status, 303);
    let (status, _) = send(app.request(Method::GET, "/api/v1/teams", &api)).await;
    assert_eq!(status, 401, "revoked");
    assert!(browser.get("/tokens").await.body.contains("revoked"));
}

#[tokio::test]
async fn pages_are_html_errors_and_assets_are_served() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new(&app);
    let css = browser.get("/static/app.css").await;
    assert_eq!(css.status, 200);
    assert!(css.body.contains(":root"));
    assert_eq!(browser.get("/static/nope.js").await.status, 404);
    app.create_user("ana", Role::User, &[]).await;
    browser.login("ana", "ana-password").await;
    let about = browser.get("/about").await;
    assert!(
        about.body.contains("Database") && about.body.contains("reachable"),
        "{}",
        about.body
    );
    // A malformed form is a 400, not a crash, and the process stays up.
    let garbage = browser
        .send(
            browser
                .http
                .post(app.url("/tokens"))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body("%%%=&&&"),
        )
        .await;
    assert!(garbage.status.is_client_error(), "{}", garbage.status);
    assert_eq!(browser.get("/about").await.status, 200);
}

#[tokio::test]
async fn the_alert_detail_shows_inheritance_entities_a_chart_and_history() {
    use zmon_core::event::{AlertEvent, AlertEventKind};
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create_user("ana", Role::User, &["db"]).await;
    app.create_user("vic", Role::Viewer, &["db"]).await;
    let check = host_check(&app, &admin, "replication").await;
    let check_id = check["id"].as_i64().expect("id");
    let (status, parent) = send(
        app.request(Method::POST, "/api/v1/alert-definitions", &admin)
            .json(&json!({
        "name": "Lag {lag}s", "description": "d", "team": "db", "condition": "value['lag'] > p",
        "priority": 2, "check_definition_id": check_id, "template": true,
        "parameters": {"p": {"value": 30, "type": "int"}}})),
    )
    .await;
    assert_eq!(status, 200, "{parent}");
    let (status, child) = send(
        app.request(Method::POST, "/api/v1/alert-definitions", &admin)
            .json(&json!({
        "team": "db", "responsible_team": "db", "parent_id": parent["id"], "priority": 1})),
    )
    .await;
    assert_eq!(status, 200, "{child}");
    let id = child["id"].as_i64().expect("id");
    raise(&app, id, "db-1", json!({"lag": 42}), false).await;
    let k = &app.keys;
    let mut conn = app.redis.clone();
    let now = app.now_secs() as f64;
    let mut pipe = redis::pipe();
    for (i, lag) in [12.0, 35.0, 42.0].iter().enumerate() {
        let result = json!({"ts": now - 120.0 + 60.0 * i as f64, "td": 0.01, "value": {"lag": lag, "ok": true}, "worker": "w"});
        pipe.lpush(k.check_results(check_id, "db-1"), result.to_string());
    }
    pipe.hset(k.alert_evaluated_entities(id), "db-1", r#"{"lag": 42}"#)
        .hset(k.alert_evaluated_entities(id), "db-2", r#"{"lag": 3}"#)
        .lpush(
            k.check_results(check_id, "db-2"),
            json!({"ts": now, "td": 0.01, "value": {"lag": 3}, "worker": "w"}).to_string(),
        );
    let _: () = pipe.query_async(&mut conn).await.expect("seed");
    app.store
        .append_alert_events(&[(
            "e1".into(),
            AlertEvent {
                kind: AlertEventKind::AlertEntityStarted,
                alert_id: id,
                entity: "db-1".into(),
                ts: now - 60.0,
                captures: serde_json::Map::from_iter([("lag".to_string(), json!(35))]),
                value: json!({"lag": 35}),
                worker: "w".into(),
                data: None,
            },
        )])
        .await
        .expect("event");

    let mut ana = Browser::new(&app);
    ana.login("ana", "ana-password").await;
    let page = ana.get(&format!("/alerts/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = &page.body;
    assert!(
        body.contains("<title>Lag 42s · ZMON</title>"),
        "the inherited name, with the captures, titles the page"
    );
    assert!(body.contains(&format!(
        r#"inherited from <a href="/alerts/{}">"#,
        parent["id"]
    )));
    assert!(
        unescape(body).contains("<code>value['lag'] > p</code>"),
        "the condition, as written"
    );
    let priority = body.find("<dt>priority</dt>").expect("priority row");
    let next_row = body[priority..].find("</dd>").expect("end") + priority;
    assert!(
        !body[priority..next_row].contains("inherited"),
        "the child sets its own priority"
    );
    assert!(body.contains("Critical (priority 1)"));
    assert!(body.contains("1 raised of 2 evaluated"));
    assert!(body.contains("alerting for 12m 34s"));
    assert!(body.contains("<svg class=\"chart\""), "a chart");
    assert_eq!(body.matches("<polyline").count(), 2, "a line per entity");
    assert!(
        body.contains("Recent check values: lag"),
        "the numeric field of object values"
    );
    assert!(
        body.contains("ALERT_ENTITY_STARTED") && body.contains("lag=35"),
        "history"
    );
    assert!(body.contains(r#"action="/alerts/"#) && body.contains("Schedule downtime"));

    // Downtime for the selected entity, from the page's form.
    let csrf = page.csrf();
    let no_token = ana
        .post(
            &format!("/alerts/{id}/downtime"),
            &[("entity", "db-1"), ("minutes", "30"), ("comment", "x")],
        )
        .await;
    assert_eq!(no_token.status, 403);
    let bad = ana
        .post(
            &format!("/alerts/{id}/downtime"),
            &[
                ("csrf", &csrf),
                ("entity", "db-1"),
                ("minutes", "forever"),
                ("comment", "x"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("whole number of minutes"), "{}", bad.body);
    let ok = ana
        .post(
            &format!("/alerts/{id}/downtime"),
            &[
                ("csrf", &csrf),
                ("entity", "db-1"),
                ("minutes", "30"),
                ("comment", "failover test"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location, Some(format!("/alerts/{id}?done=downtime")));
    let groups = app
        .store
        .live_downtime_groups(app.now_secs())
        .await
        .expect("groups");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].comment.as_deref(), Some("failover test"));
    let span = groups[0]
        .end_time
        .zip(groups[0].start_time)
        .map(|(e, s)| e - s);
    assert_eq!(span, Some(1800));
    assert!(
        ana.get(&format!("/alerts/{id}?done=downtime"))
            .await
            .body
            .contains("Downtime scheduled.")
    );
    let evaluated = ana
        .post(&format!("/alerts/{id}/evaluate"), &[("csrf", &csrf)])
        .await;
    assert_eq!(evaluated.status, 303);

    // A viewer sees the page without the forms, and cannot post them.
    let mut vic = Browser::new(&app);
    vic.login("vic", "vic-password").await;
    let viewed = vic.get(&format!("/alerts/{id}")).await;
    assert_eq!(viewed.status, 200);
    assert!(!viewed.body.contains("Schedule downtime") && !viewed.body.contains("Evaluate now"));
    let csrf = viewed.csrf();
    let refused = vic
        .post(
            &format!("/alerts/{id}/downtime"),
            &[
                ("csrf", &csrf),
                ("entity", "db-1"),
                ("minutes", "30"),
                ("comment", "x"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(vic.get("/alerts/999999").await.status, 404);
}

async fn post_fields(b: &mut Browser<'_>, csrf: &str, fields: Vec<(&'static str, String)>) -> Page {
    let mut all: Vec<(&str, &str)> = vec![("csrf", csrf)];
    all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
    b.post("/alert-definitions", &all).await
}

/// The text of the element with this id (up to its closing tag).
fn element_text(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!(r#"id="{id}""#))?;
    let open_end = html[start..].find('>')? + start + 1;
    let close = html[open_end..].find("</")? + open_end;
    Some(unescape(&html[open_end..close]))
}

#[tokio::test]
async fn alert_definitions_are_created_with_errors_beside_their_fields_and_cloned_as_children() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create_user("ana", Role::User, &["db"]).await;
    app.create_user("vic", Role::Viewer, &["db"]).await;
    let check = host_check(&app, &admin, "replication").await;
    let check_id = check["id"].to_string();
    let mut ana = Browser::new(&app);
    ana.login("ana", "ana-password").await;
    let form = ana.get("/alert-definitions/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body
            .contains(r#"<title>New alert definition · ZMON</title>"#)
    );
    let csrf = form.csrf();
    let fields = |condition: &'static str, entities: &'static str| {
        vec![
            ("name", "Lag {lag}s".to_string()),
            ("description", "Replica behind".to_string()),
            ("team", "db".to_string()),
            ("check_definition_id", check_id.clone()),
            ("priority", "2".to_string()),
            ("condition", condition.to_string()),
            ("entities", entities.to_string()),
            ("status", "ACTIVE".to_string()),
            ("param_name", "limit".to_string()),
            ("param_type", "int".to_string()),
            ("param_value", "30".to_string()),
            ("param_comment", "seconds".to_string()),
            ("param_name", String::new()),
            ("param_type", "str".to_string()),
            ("param_value", String::new()),
            ("param_comment", String::new()),
        ]
    };

    let bad_condition = post_fields(&mut ana, &csrf, fields("value['lag'] >", "")).await;
    assert_eq!(bad_condition.status, 400, "{}", bad_condition.body);
    let beside =
        element_text(&bad_condition.body, "e-condition").expect("an error beside the condition");
    assert!(beside.starts_with("condition"), "{beside}");
    assert!(
        unescape(&bad_condition.body).contains(r#"value="Lag {lag}s""#),
        "what was typed is kept"
    );
    assert!(element_text(&bad_condition.body, "e-name").is_none());

    let bad_json = post_fields(
        &mut ana,
        &csrf,
        fields("value['lag'] > limit", "[{type: host}]"),
    )
    .await;
    assert_eq!(bad_json.status, 400);
    assert!(element_text(&bad_json.body, "e-entities").is_some_and(|e| e.contains("JSON")));

    let saved = post_fields(
        &mut ana,
        &csrf,
        fields("value['lag'] > limit", r#"[{"type": "host"}]"#),
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let location = saved.location.expect("to the alert");
    let id: i64 = location.trim_start_matches("/alerts/").parse().expect("id");
    let (_, stored) = send(app.request(
        Method::GET,
        &format!("/api/v1/alert-definitions/{id}"),
        &admin,
    ))
    .await;
    assert_eq!(stored["condition"], "value['lag'] > limit");
    assert_eq!(
        stored["parameters"]["limit"],
        json!({"value": 30, "comment": "seconds", "type": "int"})
    );
    assert_eq!(stored["entities"], json!([{"type": "host"}]));
    assert_eq!(stored["last_modified_by"], "ana");

    // Clone as child: empty fields inherit, and the form says what from.
    let child_form = ana
        .get(&format!("/alert-definitions/new?parent={id}"))
        .await;
    assert!(
        unescape(&child_form.body).contains(r#"placeholder="inherited: value['lag'] > limit""#)
    );
    let child = ana
        .post(
            "/alert-definitions",
            &[
                ("csrf", &csrf),
                ("parent_id", &id.to_string()),
                ("team", "db"),
                ("priority", "1"),
            ],
        )
        .await;
    assert_eq!(child.status, 303, "{}", child.body);
    let child_id = child
        .location
        .expect("to the child")
        .trim_start_matches("/alerts/")
        .to_string();
    let (_, merged) = send(app.request(
        Method::GET,
        &format!("/api/v1/alert-definitions/{child_id}"),
        &admin,
    ))
    .await;
    assert_eq!(merged["parent_id"], id);
    assert_eq!(merged["condition"], "value['lag'] > limit");
    assert_eq!(merged["priority"], 1);

    // Edit keeps the fixed fields, and the list shows both.
    let edit = ana.get(&format!("/alert-definitions/{id}/edit")).await;
    assert_eq!(edit.status, 200);
    let updated = ana
        .post(
            &format!("/alert-definitions/{id}"),
            &[
                ("csrf", &csrf),
                ("name", "Replication lag {lag}s"),
                ("description", "Replica behind"),
                ("team", "db"),
                ("check_definition_id", &check_id),
                ("priority", "2"),
                ("condition", "value['lag'] > limit"),
                ("entities", r#"[{"type": "host"}]"#),
                ("param_name", "limit"),
                ("param_type", "int"),
                ("param_value", "60"),
                ("param_comment", ""),
            ],
        )
        .await;
    assert_eq!(updated.status, 303, "{}", updated.body);
    let list = ana.get("/alert-definitions").await;
    assert!(list.body.contains("Replication lag {lag}s"));

    // Forgery and roles: the same rules as the API.
    let forged = ana
        .post("/alert-definitions", &[("csrf", "x"), ("name", "n")])
        .await;
    assert_eq!(forged.status, 403);
    let mut vic = Browser::new(&app);
    vic.login("vic", "vic-password").await;
    assert_eq!(vic.get("/alert-definitions/new").await.status, 403);
    let vic_csrf = vic.get("/alert-definitions").await.csrf();
    let refused = vic
        .post(
            "/alert-definitions",
            &[
                ("csrf", &vic_csrf),
                ("name", "n"),
                ("team", "db"),
                ("check_definition_id", &check_id),
                ("priority", "1"),
                ("condition", ">1"),
                ("entities", "[]"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    let (status, other) = send(
        app.request(Method::POST, "/api/v1/alert-definitions", &admin)
            .json(&json!({
        "name": "shop", "description": "d", "team": "shop", "condition": ">1", "priority": 3,
        "check_definition_id": check["id"]})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        ana.get(&format!("/alert-definitions/{}/edit", other["id"]))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn entities_are_searched_with_json_filters() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for doc in [
        json!({"id": "db-1", "type": "host", "team": "db", "dc": "eu"}),
        json!({"id": "web-1", "type": "host", "team": "web"}),
        json!({"id": "orders", "type": "database", "team": "db"}),
    ] {
        let (status, body) = send(
            app.request(Method::PUT, "/api/v1/entities", &admin)
                .json(&doc),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    app.create_user("ana", Role::Viewer, &[]).await;
    let mut ana = Browser::new(&app);
    ana.login("ana", "ana-password").await;
    let all = ana.get("/entities").await;
    assert_eq!(all.status, 200);
    assert!(all.body.contains("3 entities"));
    let hosts = ana
        .get("/entities?query=%7B%22type%22%3A%22host%22%7D")
        .await;
    assert!(hosts.body.contains("2 entities"), "{}", hosts.body);
    assert!(
        hosts.body.contains("db-1")
            && hosts.body.contains("web-1")
            && !hosts.body.contains(">orders<")
    );
    assert!(
        unescape(&hosts.body).contains(r#""dc":"eu""#),
        "other attributes are shown"
    );
    let bad = ana.get("/entities?query=%7Btype").await;
    assert_eq!(bad.status, 400);
    assert!(element_text(&bad.body, "e-query").is_some_and(|e| e.contains("not valid JSON")));
}

#[tokio::test]
async fn downtimes_are_scheduled_listed_and_deleted_from_their_page() {
    let app = TestApp::spawn().await;
    app.create_user("ana", Role::User, &["db"]).await;
    app.create_user("vic", Role::Viewer, &["db"]).await;
    let admin = app.admin().await;
    for id in ["db-1", "db-2"] {
        let (status, _) = send(
            app.request(Method::PUT, "/api/v1/entities", &admin)
                .json(&json!({"id": id, "type": "host"})),
        )
        .await;
        assert_eq!(status, 200);
    }
    let check = host_check(&app, &admin, "disk").await;
    alert(&app, &admin, &check, "Disk", 2, json!([])).await;
    let mut ana = Browser::new(&app);
    ana.login("ana", "ana-password").await;
    let page = ana.get("/downtimes").await;
    assert!(page.body.contains("No downtime is in force or scheduled."));
    let csrf = page.csrf();
    let bad = ana
        .post(
            "/downtimes",
            &[
                ("csrf", &csrf),
                ("entities", "db-1"),
                ("start", "soon"),
                ("minutes", "30"),
                ("comment", "x"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(element_text(&bad.body, "form-error").is_some_and(|e| e.contains("soon")));
    assert!(
        bad.body.contains(r#"value="db-1""#),
        "the form keeps what was typed"
    );
    let no_comment = ana
        .post(
            "/downtimes",
            &[
                ("csrf", &csrf),
                ("entities", "db-1"),
                ("minutes", "30"),
                ("comment", ""),
            ],
        )
        .await;
    assert_eq!(
        no_comment.status, 400,
        "the API's own validation: {}",
        no_comment.body
    );
    let ok = ana
        .post(
            "/downtimes",
            &[
                ("csrf", &csrf),
                ("entities", "db-1, db-2"),
                ("minutes", "90"),
                ("comment", "disk swap"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let listed = ana.get("/downtimes?done=scheduled").await;
    assert!(listed.body.contains("Downtime scheduled."));
    assert!(
        listed.body.contains("db-1, db-2") && listed.body.contains("disk swap"),
        "{}",
        &listed.body[listed.body.find("<tbody>").unwrap_or(0)..]
    );
    assert!(
        listed.body.contains("in force, 1h 30m left"),
        "{}",
        listed.body
    );

    let mut vic = Browser::new(&app);
    vic.login("vic", "vic-password").await;
    let viewed = vic.get("/downtimes").await;
    assert!(viewed.body.contains("disk swap") && !viewed.body.contains("Schedule a downtime"));
    let group = app
        .store
        .live_downtime_groups(app.now_secs())
        .await
        .expect("groups")[0]
        .id;
    let vic_csrf = viewed.csrf();
    let refused = vic
        .post(
            &format!("/downtimes/{group}/delete"),
            &[("csrf", &vic_csrf)],
        )
        .await;
    assert_eq!(refused.status, 403);

    let deleted = ana
        .post(&format!("/downtimes/{group}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(deleted.status, 303);
    assert!(
        app.store
            .live_downtime_groups(app.now_secs())
            .await
            .expect("groups")
            .is_empty()
    );
    assert!(
        ana.get("/downtimes?done=deleted")
            .await
            .body
            .contains("No downtime is in force")
    );
}

#[tokio::test]
async fn checks_are_edited_and_tried_against_their_entities() {
    use zmon_controller::bus::Bus;
    use zmon_core::task::TrialResult;
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for (id, load) in [("db-1", 7), ("db-2", 1)] {
        let (status, _) = send(
            app.request(Method::PUT, "/api/v1/entities", &admin)
                .json(&json!({"id": id, "type": "host", "load": load})),
        )
        .await;
        assert_eq!(status, 200);
    }
    app.create_user("ana", Role::User, &["db"]).await;
    let mut ana = Browser::new(&app);
    ana.login("ana", "ana-password").await;
    let new = ana.get("/checks/new").await;
    assert_eq!(new.status, 200, "{}", new.body);
    let csrf = new.csrf();
    // The same check, first with a command that does not parse.
    let csrf = csrf.as_str();
    let check_form = move |command| {
        [
            ("csrf", csrf),
            ("name", "Load"),
            ("description", "load"),
            ("owning_team", "db"),
            ("command", command),
            ("entities", r#"[{"type": "host"}]"#),
            ("interval", "60"),
        ]
    };
    let broken = ana.post("/checks", &check_form("entity.load +")).await;
    assert_eq!(broken.status, 400, "{}", broken.body);
    assert!(
        element_text(&broken.body, "e-command").is_some_and(|e| e.starts_with("command")),
        "{}",
        broken.body
    );
    let saved = ana.post("/checks", &check_form("entity.load")).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let location = saved.location.expect("to the check");
    let page = ana.get(&location).await;
    assert!(
        page.body.contains("Check #")
            && page
                .body
                .contains("A check without alerts is not scheduled")
    );
    assert!(ana.get("/checks").await.body.contains(">Load</a>"));

    // A trial run: the form starts it, workers report, the page sums up.
    let bad_trial = ana
        .post(
            "/checks/trial",
            &[
                ("csrf", csrf),
                ("command", "entity.load"),
                ("condition", "value >"),
                ("entities", r#"[{"type": "host"}]"#),
            ],
        )
        .await;
    assert_eq!(bad_trial.status, 400);
    assert!(
        element_text(&bad_trial.body, "e-alert_condition").is_some(),
        "{}",
        bad_trial.body
    );
    let started = ana
        .post(
            "/checks/trial",
            &[
                ("csrf", csrf),
                ("command", "entity.load"),
                ("condition", "value > 5"),
                ("entities", r#"[{"type": "host"}]"#),
            ],
        )
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let trial_path = started.location.expect("to the results");
    let trial_id = trial_path.trim_start_matches("/trials/").to_string();
    let waiting = ana.get(&trial_path).await;
    assert!(
        waiting
            .body
            .contains("0 % of the matching entities have reported"),
        "{}",
        waiting.body
    );
    assert!(
        waiting
            .body
            .contains(&format!(r#"data-refresh="/ui/trials/{trial_id}""#))
    );
    let bus = app.bus();
    for (entity, value, alert) in [("db-1", 7, true), ("db-2", 1, false)] {
        let result = TrialResult {
            entity: entity.into(),
            value: json!(value),
            captures: serde_json::Map::new(),
            is_alert: alert,
            in_period: true,
            exc: None,
        };
        bus.record_trial_result(&trial_id, &result, std::time::Duration::from_secs(60))
            .await
            .expect("record");
    }
    let done = ana.get(&format!("/ui/trials/{trial_id}")).await;
    assert!(
        done.body
            .contains("<strong>50 %</strong> of the entities that reported would alert (1 of 2)"),
        "{}",
        done.body
    );
    assert!(
        done.body
            .contains("100 % of the matching entities have reported")
    );
}

#[tokio::test]
async fn hosts_show_the_fleet_with_bars_and_a_host_with_its_history() {
    use std::time::Duration;
    use zmon_controller::bus::Bus;
    use zmon_core::host::{HostReport, HostStatus};
    let app = TestApp::spawn_with_fast_host_sync().await;
    let bus = app.bus();
    for id in ["web-1", "db-1"] {
        bus.register_host(&crate::nezha::registration(id, ""))
            .await
            .expect("register");
    }
    let report = |ts: i64, cpu: f64| HostReport {
        id: "web-1".into(),
        last_active: ts,
        status: HostStatus {
            cpu,
            mem_used: 2 << 30,
            disk_used: 25 << 30,
            load1: 0.75,
            net_in_speed: 2048,
            ..HostStatus::default()
        },
    };
    let now = app.now_secs();
    bus.report_host_status(&report(now - 1, 40.0), Duration::from_secs(600))
        .await
        .expect("report");
    app.create_user("ana", Role::Viewer, &[]).await;
    let mut ana = Browser::new(&app);
    ana.login("ana", "ana-password").await;
    let list = poll_page(&mut ana, "/hosts", |b| {
        b.contains("web-1") && b.contains("db-1")
    })
    .await;
    let web = list.body.find(r#"href="/hosts/web-1""#).expect("web-1 row");
    let row = &list.body[web..web + list.body[web..].find("</tr>").expect("row end")];
    assert!(
        row.contains("online")
            && row.contains("40%")
            && row.contains("25%")
            && row.contains("2.0 KB/s"),
        "{row}"
    );
    assert!(
        row.contains(r#"aria-label="memory 25 percent""#),
        "bars say their value in words"
    );
    let db = list.body.find(r#"href="/hosts/db-1""#).expect("db-1 row");
    assert!(list.body[db..].contains("offline") && list.body[db..].contains("never"));
    assert!(list.body.contains(r#"data-refresh="/ui/hosts""#));

    let early = ana.get("/hosts/web-1").await;
    assert_eq!(early.status, 200, "{}", early.body);
    assert!(early.body.contains("debian 12") && early.body.contains("8.0 GB"));
    assert!(
        early.body.contains("No history to chart yet"),
        "a clear note before there is data"
    );
    // The controller samples the bus; a second report makes a history.
    bus.report_host_status(&report(now, 60.0), Duration::from_secs(600))
        .await
        .expect("report");
    let charted = poll_page(&mut ana, "/hosts/web-1", |b| b.contains("<svg")).await;
    assert_eq!(
        charted.body.matches("<svg class=\"chart\"").count(),
        3,
        "usage, load, network"
    );
    assert_eq!(ana.get("/hosts/nope").await.status, 404);
}

#[tokio::test]
async fn the_login_jwt_is_a_bearer_token_for_the_api_while_the_session_lasts() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|c| c.session_ttl = std::time::Duration::from_secs(3600)),
    })
    .await;
    app.create_user("ana", Role::Viewer, &["db"]).await;
    let mut browser = Browser::new(&app);
    browser.login("ana", "ana-password").await;
    let jwt = browser
        .cookies
        .get("zmon_session")
        .cloned()
        .expect("session");
    let (status, teams) =
        send(app.request(Method::GET, "/api/v1/teams", &Auth::Bearer(jwt.clone()))).await;
    assert_eq!(status, 200, "{teams}");
    let (status, _) = send(
        app.request(Method::PUT, "/api/v1/entities", &Auth::Bearer(jwt.clone()))
            .json(&json!({"id": "x", "type": "host"})),
    )
    .await;
    assert_eq!(status, 403, "the user's own role applies (VIEWER)");
    let mut tampered = jwt.clone();
    tampered.push('x');
    let (status, _) =
        send(app.request(Method::GET, "/api/v1/teams", &Auth::Bearer(tampered))).await;
    assert_eq!(status, 401);
    app.set_time_millis(app.now_millis() + 3_601_000);
    let (status, _) = send(app.request(Method::GET, "/api/v1/teams", &Auth::Bearer(jwt))).await;
    assert_eq!(status, 401, "expired with the session");
}
