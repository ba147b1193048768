//! A controller per test: its own PostgreSQL database, its own Redis key
//! prefix, real HTTP over loopback. Everything is removed when the test ends,
//! whether it passed or not.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use redis::AsyncCommands;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use zmon_controller::auth::{password, tokens};
use zmon_controller::bus::RedisBus;
use zmon_controller::bus::testing::TestKeySpace;
use zmon_controller::store::testing::{TestDatabase, TestSqlite};
use zmon_controller::store::{NewToken, NewUser, Store};
use zmon_controller::{ControllerConfig, start_with_clock};
use zmon_core::time::{Clock, FixedClock};
use zmon_core::{KeySpace, Role};

/// Credentials of a test user.
#[derive(Debug, Clone)]
pub enum Auth {
    Basic(String, String),
    Bearer(String),
    None,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    /// A store on the test's own runtime, for setting up and inspecting data.
    pub store: Arc<dyn Store>,
    pub keys: KeySpace,
    pub redis: redis::aio::MultiplexedConnection,
    pub clock: Arc<FixedClock>,
    handle: ServerHandle,
    server_thread: Option<JoinHandle<()>>,
    // Dropped after the server stops: the database, then the Redis keys.
    _database: Database,
    _space: TestKeySpace,
}

/// The test's database: PostgreSQL, or SQLite with `ZMON_TEST_STORE=sqlite`.
#[allow(dead_code)]
enum Database {
    Postgres(TestDatabase),
    Sqlite(TestSqlite),
}

impl Database {
    async fn create() -> Self {
        if std::env::var("ZMON_TEST_STORE").is_ok_and(|s| s == "sqlite") {
            return Self::Sqlite(TestSqlite::create());
        }
        Self::Postgres(
            TestDatabase::create()
                .await
                .expect("PostgreSQL must run for the tests (see README)"),
        )
    }

    fn url(&self) -> String {
        match self {
            Self::Postgres(db) => db.url.clone(),
            Self::Sqlite(db) => db.url(),
        }
    }
}

pub struct Options {
    pub configure: Box<dyn FnOnce(&mut ControllerConfig) + Send>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            configure: Box::new(|_| {}),
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Options::default()).await
    }

    /// A controller that turns host registrations into entities every
    /// 100 ms, for tests of hosts.
    pub async fn spawn_with_fast_host_sync() -> Self {
        Self::spawn_with(Options {
            configure: Box::new(|c| c.host_sync_interval = Duration::from_millis(100)),
        })
        .await
    }

    /// The bus this controller uses, as workers would reach it.
    pub fn bus(&self) -> RedisBus {
        RedisBus::new(
            &zmon_controller::bus::testing::redis_url(),
            self.keys.clone(),
        )
        .expect("bus")
    }

    pub async fn spawn_with(options: Options) -> Self {
        zmon_checks::install_crypto_provider();
        let database = Database::create().await;
        let space = TestKeySpace::new("test");
        let keys = space.keys.clone();
        let clock = Arc::new(FixedClock::at_millis(chrono::Utc::now().timestamp_millis()));

        let mut config = ControllerConfig {
            database_url: database.url(),
            database_max_connections: 4,
            redis_url: space.url.clone(),
            redis_prefix: keys.prefix().to_string(),
            bind: "127.0.0.1:0".into(),
            http_workers: Some(1),
            shutdown_timeout: Duration::from_secs(1),
            mirror_check_interval: Duration::from_millis(100),
            ..ControllerConfig::default()
        };
        (options.configure)(&mut config);

        // The server runs on a runtime of its own, so that dropping the
        // app can stop it and wait for it without blocking on itself.
        let (tx, rx) = mpsc::channel();
        let server_clock: Arc<dyn Clock> = clock.clone();
        let server_config = config.clone();
        let server_thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let store = zmon_controller::connect_store(&server_config)
                    .await
                    .expect("connect and migrate");
                let bus = Arc::new(
                    RedisBus::new(
                        &server_config.redis_url,
                        KeySpace::new(server_config.redis_prefix.clone()),
                    )
                    .expect("redis url"),
                );
                match start_with_clock(&server_config, store, bus, server_clock).await {
                    Ok(running) => {
                        let _ = tx.send(Ok((running.addr, running.handle())));
                        let _ = running.run().await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
            });
        });
        let (addr, handle) = tokio::task::spawn_blocking(move || rx.recv())
            .await
            .expect("join")
            .expect("server thread reports")
            .expect("controller starts");

        // Migrated already by the server's connect.
        let store = zmon_controller::store::connect(&config.database_url, 2)
            .await
            .expect("test-side store");
        let redis = space
            .connection()
            .await
            .expect("Redis must run for the tests (see README)");
        Self {
            addr,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
            store,
            keys,
            redis,
            clock,
            handle,
            server_thread: Some(server_thread),
            _database: database,
            _space: space,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn request(&self, method: Method, path: &str, auth: &Auth) -> RequestBuilder {
        let req = self.http.request(method, self.url(path));
        match auth {
            Auth::Basic(user, password) => req.basic_auth(user, Some(password)),
            Auth::Bearer(token) => req.bearer_auth(token),
            Auth::None => req,
        }
    }

    pub async fn create_user(&self, name: &str, role: Role, teams: &[&str]) -> Auth {
        let secret = format!("{name}-password");
        self.create_user_with_password(name, &secret, role, teams)
            .await
    }

    pub async fn create_user_with_password(
        &self,
        name: &str,
        secret: &str,
        role: Role,
        teams: &[&str],
    ) -> Auth {
        self.store
            .create_user(&NewUser {
                name: name.into(),
                password_hash: Some(password::hash(secret).expect("hash")),
                role,
                teams: teams.iter().map(|t| t.to_string()).collect(),
            })
            .await
            .expect("create user");
        Auth::Basic(name.into(), secret.into())
    }

    /// An API token for an existing user.
    pub async fn create_token(&self, user: &str) -> Auth {
        let secret = tokens::generate();
        self.store
            .create_token(&NewToken {
                id: uuid::Uuid::new_v4(),
                user_name: user.into(),
                token_hash: tokens::hash(&secret),
                label: None,
                expires_at: None,
            })
            .await
            .expect("create token");
        Auth::Bearer(secret)
    }

    pub async fn admin(&self) -> Auth {
        self.create_user("admin", Role::Admin, &[]).await
    }

    /// Sets the controller's clock (epoch milliseconds).
    pub fn set_time_millis(&self, millis: i64) {
        self.clock.set_millis(millis);
    }

    pub fn now_millis(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }

    pub fn now_secs(&self) -> i64 {
        self.clock.now().timestamp()
    }

    pub async fn redis_set(&self, key: &str, value: &str) {
        let mut conn = self.redis.clone();
        let _: () = conn.set(key, value).await.expect("SET");
    }

    pub async fn redis_sadd(&self, key: &str, member: &str) {
        let mut conn = self.redis.clone();
        let _: () = conn.sadd(key, member).await.expect("SADD");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sent eagerly; the server's own runtime carries it out.
        drop(self.handle.stop(false));
        if let Some(thread) = self.server_thread.take() {
            let _ = thread.join();
        }
    }
}

/// Sends a request and reads the status and JSON body (`Null` when empty).
/// The `message` of an error body, or "" when there is none.
pub fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or_default()
}

pub async fn send(req: RequestBuilder) -> (StatusCode, Value) {
    let resp = req.send().await.expect("request reaches the server");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// Sends a request and reads the status and the raw body text.
pub async fn send_text(req: RequestBuilder) -> (StatusCode, String) {
    let resp = req.send().await.expect("request reaches the server");
    let status = resp.status();
    (status, resp.text().await.expect("body"))
}

/// Polls `probe` until it returns `Some`, or fails after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
