//! Our own processes, started from the release `zmon` binary on loopback:
//! a worker, a controller and `zmon standalone`. Each one owns what it
//! was given (a Redis key space, a PostgreSQL database, a data directory)
//! and removes it when dropped, after the process is gone.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use zmon_bus::testing::TestKeySpace;
use zmon_store::testing::TestDatabase;

use crate::http;
use crate::proc::{Guard, free_port};

pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// `zmon` beside the running benchmark binary (both in `target/release`).
pub fn default_zmon() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join("zmon")).filter(|p| p.is_file())
}

/// `zmon <role>` with nothing from the caller's `ZMON_*` environment, so a
/// developer's settings do not leak into a measurement.
fn zmon_command(zmon: &Path, role: &str) -> Command {
    let mut command = Command::new(zmon);
    command.arg(role).env_clear().env("ZMON_LOG", "warn");
    for var in ["PATH", "HOME", "TMPDIR"] {
        if let Some(value) = std::env::var_os(var) {
            command.env(var, value);
        }
    }
    command
}

/// A `zmon worker` under a Redis key space of its own.
pub struct Worker {
    // Fields drop in order: the process first, then its keys.
    pub guard: Guard,
    /// The port of its Glances API, when started with one.
    pub glances_port: Option<u16>,
    _space: TestKeySpace,
}

pub fn worker(zmon: &Path, glances: bool) -> Result<Worker, String> {
    let space = TestKeySpace::new("zmon-bench-worker");
    let admin = free_port();
    let id = format!("zmon-bench-{}-{admin}", std::process::id());
    let mut command = zmon_command(zmon, "worker");
    command
        .env("ZMON_REDIS_URL", &space.url)
        .env("ZMON_REDIS_PREFIX", space.keys.prefix())
        .env("ZMON_WORKER_ADMIN_BIND", format!("127.0.0.1:{admin}"))
        .env("ZMON_WORKER_NAME", format!("plocal.{id}"))
        .env("ZMON_HOST_ID", &id)
        // Workers need no database.
        .env("ZMON_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none");
    let glances_port = glances.then(free_port);
    if let Some(port) = glances_port {
        command.env("ZMON_GLANCES_BIND", format!("127.0.0.1:{port}"));
    }
    let name = if glances { "worker-glances" } else { "worker" };
    let mut guard = Guard::spawn(name, command).map_err(|e| e.to_string())?;
    guard.wait_until(READY_TIMEOUT, || http::ok(admin, "/ready"))?;
    if let Some(port) = glances_port {
        guard.wait_until(READY_TIMEOUT, || http::ok(port, "/api/4/status"))?;
    }
    Ok(Worker {
        guard,
        glances_port,
        _space: space,
    })
}

/// A `zmon controller` on a fresh PostgreSQL database (which it migrates)
/// and a Redis key space of its own, with one pre-shared API token.
pub struct Controller {
    pub guard: Guard,
    pub port: u16,
    pub space: TestKeySpace,
    /// The `Authorization` header line that authenticates as a user.
    pub authorization: String,
    tokens: PathBuf,
    _db: TestDatabase,
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.tokens);
    }
}

/// Runs an async set-up step on a runtime of its own, on a thread of its
/// own, so callers inside or outside a runtime can use it.
fn block_on<T: Send + 'static>(
    f: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T, String> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(f))
            .map_err(|e| e.to_string())
    })
    .join()
    .map_err(|_| "set-up thread panicked".to_string())?
}

/// The local admin every benchmark controller bootstraps (the UI benchmark
/// logs in as it).
pub const ADMIN_USER: &str = "bench-admin";
pub const ADMIN_PASSWORD: &str = "zmon-bench-password";

pub fn controller(zmon: &Path) -> Result<Controller, String> {
    let db = block_on(TestDatabase::create())?
        .map_err(|e| format!("cannot create a PostgreSQL database: {e}"))?;
    let space = TestKeySpace::new("zmon-bench-controller");
    let port = free_port();
    let token = format!("zmon-bench-token-{}-{port}", std::process::id());
    let tokens = std::env::temp_dir().join(format!("zmon-bench-tokens-{port}.toml"));
    std::fs::write(
        &tokens,
        format!("[[tokens]]\ntoken = \"{token}\"\nuid = \"bench\"\nteams = [\"bench\"]\n"),
    )
    .map_err(|e| format!("cannot write {}: {e}", tokens.display()))?;
    let mut command = zmon_command(zmon, "controller");
    command
        .env("ZMON_DATABASE_URL", &db.url)
        .env("ZMON_REDIS_URL", &space.url)
        .env("ZMON_REDIS_PREFIX", space.keys.prefix())
        .env("ZMON_BIND", format!("127.0.0.1:{port}"))
        .env("ZMON_PRESHARED_TOKENS", &tokens)
        .env("ZMON_ADMIN_USER", ADMIN_USER)
        .env("ZMON_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let guard = Guard::spawn("controller", command).map_err(|e| e.to_string());
    let mut controller = Controller {
        guard: guard?,
        port,
        space,
        authorization: format!("Authorization: Bearer {token}"),
        tokens,
        _db: db,
    };
    controller
        .guard
        .wait_until(READY_TIMEOUT, || http::ok(port, "/ready"))?;
    Ok(controller)
}

/// `zmon standalone` as a first-time user runs it: SQLite in a fresh data
/// directory, the in-process bus, the host agent and the Glances API.
pub struct Standalone {
    pub guard: Guard,
    pub port: u16,
    pub glances_port: u16,
    dir: PathBuf,
}

impl Drop for Standalone {
    fn drop(&mut self) {
        // The process must be gone before its database is removed; the
        // guard is dropped after this body, so kill it here.
        self.guard.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn standalone(zmon: &Path) -> Result<Standalone, String> {
    let port = free_port();
    let glances_port = free_port();
    let dir = std::env::temp_dir().join(format!(
        "zmon-bench-standalone-{}-{port}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut command = zmon_command(zmon, "standalone");
    command
        .current_dir(&dir)
        .env("ZMON_BIND", format!("127.0.0.1:{port}"))
        .env("ZMON_GLANCES_BIND", format!("127.0.0.1:{glances_port}"))
        // Otherwise the first run prints a generated password.
        .env("ZMON_ADMIN_PASSWORD", "zmon-bench-password");
    let guard = match Guard::spawn("standalone", command) {
        Ok(g) => g,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e.to_string());
        }
    };
    let mut standalone = Standalone {
        guard,
        port,
        glances_port,
        dir,
    };
    standalone
        .guard
        .wait_until(READY_TIMEOUT, || http::ok(port, "/ready"))?;
    Ok(standalone)
}
