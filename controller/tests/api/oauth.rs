//! OAuth logins: a real OpenID Connect provider (npm's `oidc-provider`,
//! run with node on loopback) and a stand-in for GitHub, which cannot run
//! here.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use zmon_controller::config::{GithubConfig, OAuthConfig, OidcConfig};
use zmon_controller::store::OAuthLogin;
use zmon_core::Role;

use crate::helpers::{Options, TestApp};
use crate::ui::{Browser, Page};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The OIDC provider in `tests/oidc`, killed on drop.
struct OidcProvider {
    child: Child,
    issuer: String,
}

impl OidcProvider {
    fn start(port: u16, redirect_uri: &str) -> Self {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc");
        assert!(
            std::path::Path::new(dir)
                .join("node_modules/oidc-provider")
                .exists(),
            "the OIDC provider is not installed: run `npm ci --prefix controller/tests/oidc` (.ci/run does)"
        );
        let mut child = Command::new("node")
            .arg("provider.js")
            .current_dir(dir)
            .env("PORT", port.to_string())
            .env("REDIRECT_URI", redirect_uri)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs (install nodejs)");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if line.starts_with("listening") {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(20))
            .expect("the OIDC provider starts");
        Self {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A controller with the provider as its OIDC issuer, and the provider.
async fn with_oidc(
    configure: impl FnOnce(&mut OAuthConfig) + Send + 'static,
) -> (TestApp, OidcProvider) {
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let app = TestApp::spawn_with(Options {
        configure: Box::new(move |c| {
            let mut oauth = OAuthConfig {
                oidc: Some(OidcConfig {
                    issuer,
                    client_id: "zmon".into(),
                    client_secret: Some("zmon-secret".into()),
                    scopes: ["openid", "email", "profile", "groups"]
                        .map(String::from)
                        .into(),
                }),
                teams_claim: Some("groups".into()),
                admin_groups: vec!["zmon-admins".into()],
                default_role: Some(Role::Viewer),
                ..OAuthConfig::default()
            };
            configure(&mut oauth);
            c.oauth = oauth;
        }),
    })
    .await;
    let provider = OidcProvider::start(port, &app.url("/auth/callback"));
    (app, provider)
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http") {
        location.to_string()
    } else {
        format!("{base}{location}")
    }
}

/// Starts a login and logs in at the provider's form; returns the
/// provider's redirect back to us (not yet followed).
async fn at_provider(browser: &mut Browser<'_>, provider: &OidcProvider, login: &str) -> String {
    let start = browser.get("/auth/login/oidc?next=%2Fabout").await;
    assert_eq!(start.status, 303, "{}", start.body);
    assert!(
        start.cookie("zmon_oauth").is_some(),
        "the login is bound to this browser"
    );
    let authorize = start.location.expect("to the provider");
    assert!(authorize.starts_with(&provider.issuer), "{authorize}");
    assert!(
        authorize.contains("code_challenge_method=S256") && authorize.contains("nonce="),
        "{authorize}"
    );
    let interaction = browser.get_url(&authorize).await;
    let form_url = absolute(
        &provider.issuer,
        &interaction.location.expect("to the login form"),
    );
    let logged_in = browser
        .post_url(
            &form_url,
            &[("prompt", "login"), ("login", login), ("password", "any")],
        )
        .await;
    let resume = absolute(&provider.issuer, &logged_in.location.expect("resume"));
    let back = browser.get_url(&resume).await;
    let callback = back.location.expect("back to ZMON");
    assert!(callback.contains("/auth/callback?code="), "{callback}");
    callback
}

/// Changes what the server keeps for the browser's pending login, as a
/// tampered or mixed-up login would leave it.
async fn change_pending_login(
    app: &TestApp,
    browser: &Browser<'_>,
    change: impl FnOnce(&mut OAuthLogin),
) {
    let state = browser
        .cookies
        .get("zmon_oauth")
        .cloned()
        .expect("state cookie");
    let mut login = app
        .store
        .take_oauth_login(&state)
        .await
        .expect("store")
        .expect("pending");
    change(&mut login);
    app.store
        .put_oauth_login(&login, login.created_at)
        .await
        .expect("put back");
}

async fn oidc_login(browser: &mut Browser<'_>, provider: &OidcProvider, login: &str) -> Page {
    let callback = at_provider(browser, provider, login).await;
    browser.get_url(&callback).await
}

#[tokio::test]
async fn oidc_logins_map_groups_to_teams_and_admin_groups_to_admin() {
    let (app, provider) = with_oidc(|_| {}).await;
    let mut ana = Browser::new(&app);
    let done = oidc_login(&mut ana, &provider, "ana").await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some("/about"),
        "back where the login started"
    );
    let session = done.cookie("zmon_session").expect("a session");
    assert!(session.contains("HttpOnly"));
    let about = ana.get("/about").await;
    assert_eq!(about.status, 200);
    assert!(
        about
            .body
            .contains("ana@example.org <small>(VIEWER)</small>"),
        "{}",
        about.body
    );
    let user = app
        .store
        .user("ana@example.org")
        .await
        .expect("store")
        .expect("recorded");
    assert_eq!(
        (user.role, user.teams),
        (Role::Viewer, vec!["db".to_string(), "web".to_string()])
    );
    assert!(user.password_hash.is_none());

    let mut root = Browser::new(&app);
    assert_eq!(oidc_login(&mut root, &provider, "root").await.status, 303);
    let page = root.get("/").await;
    assert!(
        page.body
            .contains("root@example.org <small>(ADMIN)</small>")
    );

    // A token made in the UI by an OIDC user works for the API.
    let tokens = ana.get("/tokens").await;
    let created = ana
        .post("/tokens", &[("label", "sso"), ("csrf", &tokens.csrf())])
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
}

#[tokio::test]
async fn a_local_user_of_the_same_name_keeps_its_role_and_the_unmapped_are_refused() {
    let (app, provider) = with_oidc(|o| o.default_role = None).await;
    app.create_user("ana", Role::Lead, &["dba"]).await;
    let mut ana = Browser::new(&app);
    assert_eq!(oidc_login(&mut ana, &provider, "ana").await.status, 303);
    assert!(
        ana.get("/")
            .await
            .body
            .contains("ana <small>(LEAD)</small>")
    );
    assert!(
        app.store
            .user("ana@example.org")
            .await
            .expect("store")
            .is_none(),
        "no second user"
    );

    let mut nobody = Browser::new(&app);
    let refused = oidc_login(&mut nobody, &provider, "nobody").await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.body.contains("has no access to ZMON"),
        "{}",
        refused.body
    );
    assert!(!nobody.cookies.contains_key("zmon_session"));
}

#[tokio::test]
async fn callbacks_from_another_browser_replays_and_a_wrong_nonce_are_refused() {
    let (app, provider) = with_oidc(|_| {}).await;

    // Login CSRF: a callback URL planted in another browser.
    let mut attacker = Browser::new(&app);
    let planted = at_provider(&mut attacker, &provider, "ana").await;
    let mut victim = Browser::new(&app);
    let refused = victim.get_url(&planted).await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.body.contains("not started in this browser"),
        "{}",
        refused.body
    );
    assert!(!victim.cookies.contains_key("zmon_session"));

    // A state works once.
    let state = attacker
        .cookies
        .get("zmon_oauth")
        .cloned()
        .expect("state cookie");
    assert_eq!(attacker.get_url(&planted).await.status, 303);
    attacker.cookies.insert("zmon_oauth".into(), state);
    let replay = attacker.get_url(&planted).await;
    assert_eq!(replay.status, 403);
    assert!(replay.body.contains("already used"), "{}", replay.body);

    // The ID token must carry the nonce this login sent.
    let mut browser = Browser::new(&app);
    let callback = at_provider(&mut browser, &provider, "ana").await;
    change_pending_login(&app, &browser, |l| l.nonce = "not-the-nonce".into()).await;
    let wrong_nonce = browser.get_url(&callback).await;
    assert_eq!(wrong_nonce.status, 403, "{}", wrong_nonce.body);
    assert!(
        wrong_nonce.body.to_lowercase().contains("nonce"),
        "{}",
        wrong_nonce.body
    );
    assert!(!browser.cookies.contains_key("zmon_session"));

    // And the code is only exchanged with this login's PKCE verifier.
    let mut browser = Browser::new(&app);
    let callback = at_provider(&mut browser, &provider, "ana").await;
    change_pending_login(&app, &browser, |l| l.pkce_verifier = "x".repeat(43)).await;
    let wrong_verifier = browser.get_url(&callback).await;
    assert_eq!(wrong_verifier.status, 502, "{}", wrong_verifier.body);
    assert!(!browser.cookies.contains_key("zmon_session"));
}

#[tokio::test]
async fn the_provider_refusing_and_unknown_providers_are_explained() {
    let (app, _provider) = with_oidc(|_| {}).await;
    let mut browser = Browser::new(&app);
    let start = browser.get("/auth/login/oidc").await;
    let state = browser.cookies.get("zmon_oauth").cloned().expect("state");
    assert_eq!(start.status, 303);
    let denied = browser
        .get(&format!(
            "/auth/callback?error=access_denied&error_description=User+cancelled&state={state}"
        ))
        .await;
    assert_eq!(denied.status, 403);
    assert!(denied.body.contains("User cancelled"), "{}", denied.body);
    assert_eq!(
        browser.get("/auth/login/github").await.status,
        404,
        "not configured"
    );
    let login = browser.get("/login").await;
    assert!(
        login.body.contains(r#"href="/auth/login/oidc?next=%2F""#),
        "{}",
        login.body
    );
    assert!(!login.body.contains("/auth/login/github"));
}

/// GitHub's OAuth and API endpoints, as far as the login uses them. The
/// token endpoint checks the PKCE verifier against the challenge the
/// authorize URL carried.
#[derive(Default)]
struct FakeGithub {
    challenges: Mutex<Vec<(String, String)>>,
}

async fn github_token(
    fake: web::Data<Arc<FakeGithub>>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let digest = Sha256::digest(field("code_verifier").as_bytes());
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    let known = fake
        .challenges
        .lock()
        .map(|c| {
            c.iter()
                .any(|(code, challenge)| *code == field("code") && *challenge == computed)
        })
        .unwrap_or(false);
    if !known {
        return HttpResponse::BadRequest().json(json!({"error": "bad_verification_code"}));
    }
    HttpResponse::Ok().json(json!({"access_token": "gho_test", "token_type": "bearer", "scope": "read:user,user:email,read:org"}))
}

async fn start_fake_github(fake: Arc<FakeGithub>) -> (String, actix_web::dev::ServerHandle) {
    let data = web::Data::new(fake);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/login/oauth/access_token", web::post().to(github_token))
            .route(
                "/api/user",
                web::get().to(|| async {
                    HttpResponse::Ok().json(json!({"id": 583231, "login": "octocat"}))
                }),
            )
            .route(
                "/api/user/emails",
                web::get().to(|| async {
                    HttpResponse::Ok().json(
                        json!([{"email": "old@example.org", "primary": false, "verified": true},
                    {"email": "octo@example.org", "primary": true, "verified": true}]),
                    )
                }),
            )
            .route(
                "/api/user/orgs",
                web::get().to(|| async {
                    HttpResponse::Ok().json(json!([{"login": "acme"}, {"login": "zmon-admins"}]))
                }),
            )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind");
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://{addr}"), handle)
}

async fn github_app(base: &str, org: &str) -> TestApp {
    let (base, org) = (base.to_string(), org.to_string());
    TestApp::spawn_with(Options {
        configure: Box::new(move |c| {
            c.oauth = OAuthConfig {
                github: Some(GithubConfig {
                    client_id: "gh-client".into(),
                    client_secret: "gh-secret".into(),
                    org: Some(org),
                    web_url: base.clone(),
                    api_url: format!("{base}/api"),
                }),
                admin_groups: vec!["zmon-admins".into()],
                ..OAuthConfig::default()
            };
        }),
    })
    .await
}

/// The provider's side of a GitHub login: read the authorize URL, note
/// its challenge under a code, and come back with that code.
async fn github_login(browser: &mut Browser<'_>, fake: &FakeGithub) -> Page {
    let start = browser.get("/auth/login/github").await;
    let authorize = reqwest::Url::parse(&start.location.expect("to GitHub")).expect("url");
    let param = |name: &str| {
        authorize
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_string())
            .unwrap_or_default()
    };
    assert!(param("scope").contains("read:org"));
    if let Ok(mut c) = fake.challenges.lock() {
        c.push(("code-1".into(), param("code_challenge")));
    }
    browser
        .get(&format!(
            "/auth/callback?code=code-1&state={}",
            param("state")
        ))
        .await
}

#[tokio::test]
async fn github_logins_need_the_organisation_and_map_orgs_to_teams() {
    let fake = Arc::new(FakeGithub::default());
    let (base, github) = start_fake_github(fake.clone()).await;

    let app = github_app(&base, "acme").await;
    let mut browser = Browser::new(&app);
    let done = github_login(&mut browser, &fake).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let user = app
        .store
        .user("octo@example.org")
        .await
        .expect("store")
        .expect("recorded");
    assert_eq!(user.role, Role::Admin, "member of an admin org");
    assert_eq!(user.teams, ["acme", "zmon-admins"]);
    drop(app);

    let app = github_app(&base, "initech").await;
    let mut outsider = Browser::new(&app);
    let refused = github_login(&mut outsider, &fake).await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("not a member"), "{}", refused.body);
    github.stop(false).await;
}
