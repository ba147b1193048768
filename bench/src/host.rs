//! `cargo run --release -p zmon-bench --bin host`: comparisons 1, 2 and 7
//! of the benchmark suite (`bench/run`).
//!
//! Our host collectors and Glances-compatible API beside Glances 4 and
//! prometheus-node-exporter, on this machine, every process started here
//! on loopback and stopped again:
//! 1. CPU per full snapshot: our sampler in a child process (Δ CPU over
//!    Δ snapshots with no clients), the same collector in-process, Glances
//!    per `/api/4/all` spaced beyond its cache time (so each request is a
//!    full refresh, idle CPU subtracted), node_exporter per `/metrics`
//!    scrape (idle subtracted);
//! 2. serving `/api/4/all` under `wrk -t1 -c4 -d5s`: requests/s and
//!    requests per CPU-second of the server process, ours (plain and gzip)
//!    and Glances';
//! 3. idle RSS and peak RSS of our API process, a real `zmon worker` with
//!    and without the Glances API, `zmon controller`, `zmon standalone`,
//!    Glances and node_exporter (comparison 7).
//!
//! Figures are medians of `--runs` runs (default 5) with min and max; the
//! runs alternate between the programs.
//!
//! Options: `--runs N`, `--only cpu,load,rss`, `--glances PATH` (default
//! `$GLANCES_BIN`, else `glances` on `PATH`), `--node-exporter PATH`,
//! `--wrk PATH`, `--zmon PATH` (default: the `zmon` binary beside this
//! one), `--tick-ms N` (our sampler's tick for part 1, default 250),
//! `--window-secs N` (default 8).
//!
//! `host --serve-ours --tick-ms N --port P` is the child it measures: a
//! `HostMonitor` and the Glances API, until killed.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Utc};
use zmon_bench::proc::{self, Guard, find_program, first_line, free_port};
use zmon_bench::servers::{self, READY_TIMEOUT};
use zmon_bench::table::{median, median_ratio, ratio_row, row, target};
use zmon_bench::wrk::{self, Load};
use zmon_bench::{http, table};
use zmon_checks::host::{Collector, HostMonitor, LiveProbe, Now, SamplerConfig};
use zmon_worker::glances::{GlancesConfig, serve};

struct Options {
    runs: usize,
    only: Vec<String>,
    glances: Option<PathBuf>,
    node_exporter: Option<PathBuf>,
    wrk: Option<PathBuf>,
    zmon: Option<PathBuf>,
    tick_ms: u64,
    window_secs: u64,
}

impl Options {
    fn parse(args: &[String]) -> Self {
        let value = |name: &str| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .cloned()
        };
        let number = |name: &str, default: u64| {
            value(name).map_or(default, |v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{name} takes a number, not {v:?}"))
            })
        };
        let glances = value("--glances")
            .or_else(|| std::env::var("GLANCES_BIN").ok())
            .unwrap_or_else(|| "glances".into());
        let zmon = value("--zmon")
            .map(PathBuf::from)
            .or_else(servers::default_zmon);
        Self {
            runs: number("--runs", 5).max(1) as usize,
            only: value("--only")
                .map(|v| v.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            glances: find_program(&glances),
            node_exporter: find_program(
                &value("--node-exporter").unwrap_or_else(|| "prometheus-node-exporter".into()),
            ),
            wrk: find_program(&value("--wrk").unwrap_or_else(|| "wrk".into())),
            zmon: zmon.filter(|p| p.is_file()),
            tick_ms: number("--tick-ms", 250).max(10),
            window_secs: number("--window-secs", 8).max(1),
        }
    }

    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--serve-ours") {
        serve_ours(&args);
        return;
    }
    let opts = Options::parse(&args);
    let mut notes = Vec::new();
    for (tool, path, hint) in [
        ("Glances", &opts.glances, "--glances PATH or GLANCES_BIN"),
        (
            "prometheus-node-exporter",
            &opts.node_exporter,
            "--node-exporter PATH",
        ),
        ("wrk", &opts.wrk, "--wrk PATH"),
        (
            "zmon (cargo build --release -p zmon)",
            &opts.zmon,
            "--zmon PATH",
        ),
    ] {
        if path.is_none() {
            notes.push(format!(
                "{tool} not found ({hint}): its comparisons are skipped."
            ));
        }
    }
    for note in &notes {
        eprintln!("note: {note}");
    }
    print_environment(&opts);

    let mut rows = Vec::new();
    if opts.wants("cpu") {
        rows.extend(cpu_part(&opts, &mut notes));
    }
    if opts.wants("load") {
        rows.extend(load_part(&opts, &mut notes));
    }
    if opts.wants("rss") {
        rows.extend(rss_part(&opts, &mut notes));
    }
    table::print_report(&rows, &notes);
}

/// The hidden child mode: our sampler and Glances API, until killed.
fn serve_ours(args: &[String]) {
    let opts = Options::parse(args);
    let port = args
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1))
        .and_then(|p| p.parse::<u16>().ok())
        .expect("--serve-ours needs --port N");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    runtime.block_on(async {
        let monitor = HostMonitor::start(SamplerConfig {
            tick: Duration::from_millis(opts.tick_ms),
            ..SamplerConfig::default()
        });
        let _server = serve(
            GlancesConfig {
                bind: format!("127.0.0.1:{port}"),
                ..GlancesConfig::default()
            },
            monitor.clone(),
        )
        .await
        .expect("the Glances API binds");
        std::future::pending::<()>().await;
    });
}

fn print_environment(opts: &Options) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let commit = Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short",
            "HEAD",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let processes = std::fs::read_dir("/proc").map_or(0, |d| {
        d.flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            })
            .count()
    });
    println!("## Host collectors and the Glances API\n");
    println!(
        "{} UTC, commit {commit}, {cpu}, {cores} cores, {processes} processes, CLK_TCK {}",
        Utc::now().format("%Y-%m-%d %H:%M"),
        proc::clock_ticks()
    );
    if let Some(g) = &opts.glances {
        println!("Glances: {} ({})", first_line(g, "-V"), g.display());
    }
    if let Some(n) = &opts.node_exporter {
        println!("node_exporter: {}", first_line(n, "--version"));
    }
    if let Some(w) = &opts.wrk {
        println!("wrk: {}", first_line(w, "-v"));
    }
    println!();
}

// ---------------------------------------------------------------- starting

fn start_ours(tick_ms: u64) -> Result<(Guard, u16), String> {
    let port = free_port();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut command = Command::new(exe);
    command.args([
        "--serve-ours",
        "--tick-ms",
        &tick_ms.to_string(),
        "--port",
        &port.to_string(),
    ]);
    let mut guard = Guard::spawn("ours", command).map_err(|e| e.to_string())?;
    guard.wait_until(READY_TIMEOUT, || http::ok(port, "/api/4/status"))?;
    Ok((guard, port))
}

fn start_glances(path: &std::path::Path) -> Result<(Guard, u16), String> {
    let port = free_port();
    let mut command = Command::new(path);
    command.args([
        "-w",
        "--disable-webui",
        "-B",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "--disable-autodiscover",
        "--disable-check-update",
        "-t",
        "1",
        "--cached-time",
        "1",
    ]);
    let mut guard = Guard::spawn("glances", command).map_err(|e| e.to_string())?;
    guard.wait_until(READY_TIMEOUT, || http::ok(port, "/api/4/status"))?;
    Ok((guard, port))
}

/// `result`'s process, or `None` with a note saying why `what` is missing.
fn started<T>(result: Result<T, String>, what: &str, notes: &mut Vec<String>) -> Option<T> {
    result
        .map_err(|e| notes.push(format!("{what} did not start: {e}")))
        .ok()
}

fn start_node_exporter(path: &std::path::Path) -> Result<(Guard, u16), String> {
    let port = free_port();
    let mut command = Command::new(path);
    command.arg(format!("--web.listen-address=127.0.0.1:{port}"));
    let mut guard = Guard::spawn("node_exporter", command).map_err(|e| e.to_string())?;
    guard.wait_until(READY_TIMEOUT, || http::ok(port, "/metrics"))?;
    Ok((guard, port))
}

// ---------------------------------------------------------------- part 1

fn sleep_until(at: Instant) {
    if let Some(left) = at.checked_duration_since(Instant::now()) {
        std::thread::sleep(left);
    }
}

/// CPU ms per collection (with the `/all` JSON) in this process.
fn in_process(config: SamplerConfig, n: u32) -> f64 {
    let mut collector = Collector::new(config, Box::new(LiveProbe::default()));
    let origin = Instant::now();
    let first = collector.collect(Now::new(Utc::now(), origin.elapsed()));
    std::hint::black_box(first.all_json().len());
    let me = std::process::id();
    let before = proc::cpu_seconds(me).unwrap_or(f64::NAN);
    for _ in 0..n {
        let snapshot = collector.collect(Now::new(Utc::now(), origin.elapsed()));
        std::hint::black_box(snapshot.all_json().len());
    }
    (proc::cpu_seconds(me).unwrap_or(f64::NAN) - before) * 1000.0 / f64::from(n)
}

/// The time of the snapshot our API serves, from `/api/4/now`.
fn snapshot_time(port: u16) -> Option<DateTime<FixedOffset>> {
    let (_, body) = http::get(port, "/api/4/now").ok()?;
    let now: serde_json::Value = serde_json::from_slice(&body).ok()?;
    let iso = now.get("iso").and_then(|v| v.as_str()).or(now.as_str())?;
    DateTime::parse_from_rfc3339(iso).ok()
}

/// Our sampler process: CPU ms per snapshot over a window without clients.
fn ours_window(guard: &Guard, port: u16, tick: Duration, window: Duration) -> f64 {
    let t0 = snapshot_time(port);
    let c0 = guard.cpu_seconds();
    let started = Instant::now();
    std::thread::sleep(window);
    let c1 = guard.cpu_seconds();
    let elapsed = started.elapsed();
    let t1 = snapshot_time(port);
    let span = match (t0, t1) {
        (Some(a), Some(b)) => (b - a).to_std().unwrap_or(elapsed),
        _ => elapsed,
    };
    let snapshots = (span.as_secs_f64() / tick.as_secs_f64()).round();
    if snapshots < 1.0 {
        return f64::NAN;
    }
    (c1 - c0) * 1000.0 / snapshots
}

struct PerRequest {
    cpu_ms: f64,
    idle_ms_per_s: f64,
    latency_ms: f64,
}

/// `count` requests of `path`, `spacing` apart (zero: back to back), then
/// as long without requests: CPU ms per request above the idle rate.
fn per_request(guard: &Guard, port: u16, path: &str, count: u32, spacing: Duration) -> PerRequest {
    let c0 = guard.cpu_seconds();
    let started = Instant::now();
    let mut latencies = Vec::new();
    for i in 0..count {
        sleep_until(started + spacing * i);
        let sent = Instant::now();
        match http::get(port, path) {
            Ok((200, _)) => latencies.push(sent.elapsed().as_secs_f64() * 1000.0),
            _ => latencies.push(f64::NAN),
        }
    }
    sleep_until(started + spacing * count);
    let busy = guard.cpu_seconds() - c0;
    let span = started.elapsed();
    let c2 = guard.cpu_seconds();
    std::thread::sleep(span);
    let idle = guard.cpu_seconds() - c2;
    if latencies.iter().any(|l| l.is_nan()) {
        return PerRequest {
            cpu_ms: f64::NAN,
            idle_ms_per_s: f64::NAN,
            latency_ms: f64::NAN,
        };
    }
    PerRequest {
        cpu_ms: (busy - idle) * 1000.0 / f64::from(count),
        idle_ms_per_s: idle * 1000.0 / span.as_secs_f64(),
        latency_ms: median(&latencies).unwrap_or(f64::NAN),
    }
}

fn cpu_part(opts: &Options, notes: &mut Vec<String>) -> Vec<String> {
    let tick = Duration::from_millis(opts.tick_ms);
    let window = Duration::from_secs(opts.window_secs);
    let fast = SamplerConfig {
        fs_tick: Duration::from_secs(3600),
        system_tick: Duration::from_secs(3600),
        ..SamplerConfig::default()
    };
    let every = SamplerConfig {
        fs_tick: Duration::ZERO,
        system_tick: Duration::ZERO,
        process_details_tick: Duration::ZERO,
        ..SamplerConfig::default()
    };
    let (mut in_fast, mut in_every) = (Vec::new(), Vec::new());
    for _ in 0..opts.runs {
        in_fast.push(in_process(fast.clone(), 100));
        in_every.push(in_process(every.clone(), 30));
    }

    let ours = started(start_ours(opts.tick_ms), "our API process", notes);
    let glances = opts
        .glances
        .as_deref()
        .and_then(|p| started(start_glances(p), "Glances", notes));
    let node = opts
        .node_exporter
        .as_deref()
        .and_then(|p| started(start_node_exporter(p), "node_exporter", notes));
    // Warm up: Glances' first refreshes import and prime its plugins.
    if let Some((g, port)) = &glances {
        per_request(g, *port, "/api/4/all", 3, Duration::from_millis(1200));
    }
    if let Some((n, port)) = &node {
        per_request(n, *port, "/metrics", 5, Duration::ZERO);
    }
    std::thread::sleep(Duration::from_secs(1));

    let (mut sampler, mut g_req, mut n_req) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..opts.runs {
        if let Some((o, port)) = &ours {
            sampler.push(ours_window(o, *port, tick, window));
        }
        if let Some((g, port)) = &glances {
            g_req.push(per_request(
                g,
                *port,
                "/api/4/all",
                6,
                Duration::from_millis(1200),
            ));
        }
        if let Some((n, port)) = &node {
            n_req.push(per_request(n, *port, "/metrics", 40, Duration::ZERO));
        }
    }
    let field = |xs: &[PerRequest], f: fn(&PerRequest) -> f64| xs.iter().map(f).collect::<Vec<_>>();
    let g_cpu = field(&g_req, |r| r.cpu_ms);
    let n_cpu = field(&n_req, |r| r.cpu_ms);

    let mut rows = vec![
        row(
            &format!(
                "ours, sampler process (tick {} ms, no clients), CPU per snapshot",
                opts.tick_ms
            ),
            "ms",
            &sampler,
        ),
        row(
            "ours, in-process, fast plugins + `/all` JSON, CPU per snapshot",
            "ms",
            &in_fast,
        ),
        row(
            "ours, in-process, every plugin + `/all` JSON, CPU per snapshot",
            "ms",
            &in_every,
        ),
    ];
    if glances.is_some() {
        rows.push(row(
            "Glances, CPU per `/api/4/all` full refresh (idle subtracted)",
            "ms",
            &g_cpu,
        ));
        rows.push(row(
            "Glances, latency of a full-refresh `/api/4/all`",
            "ms",
            &field(&g_req, |r| r.latency_ms),
        ));
        rows.push(row(
            "Glances, idle CPU",
            "ms/s",
            &field(&g_req, |r| r.idle_ms_per_s),
        ));
    }
    if node.is_some() {
        rows.push(row(
            "node_exporter, CPU per `/metrics` scrape (idle subtracted)",
            "ms",
            &n_cpu,
        ));
        rows.push(row(
            "node_exporter, latency of a scrape",
            "ms",
            &field(&n_req, |r| r.latency_ms),
        ));
        rows.push(row(
            "node_exporter, idle CPU",
            "ms/s",
            &field(&n_req, |r| r.idle_ms_per_s),
        ));
    }
    rows.extend(ratio_row(
        "CPU per snapshot, ours (sampler) / Glances",
        &sampler,
        &g_cpu,
    ));
    rows.extend(ratio_row(
        "CPU per snapshot, ours (sampler) / node_exporter scrape",
        &sampler,
        &n_cpu,
    ));
    rows.push(target(
        1,
        "CPU per snapshot, ours (sampler process) ÷ Glances full refresh",
        median_ratio(&sampler, &g_cpu),
        "×",
        "≤ 0.05× (1/20)",
        |r| r <= 0.05,
    ));
    rows.push(target(
        1,
        "CPU per snapshot, ours (sampler process) ÷ node_exporter scrape",
        median_ratio(&sampler, &n_cpu),
        "×",
        "≤ 0.2× (1/5)",
        |r| r <= 0.2,
    ));
    rows
}

// ---------------------------------------------------------------- part 2

fn load_part(opts: &Options, notes: &mut Vec<String>) -> Vec<String> {
    let Some(wrk) = opts.wrk.as_deref() else {
        return Vec::new();
    };
    // The worker's default tick: the sampler is not what is measured here.
    let Some(ours) = started(start_ours(2000), "our API process", notes) else {
        return Vec::new();
    };
    let glances = opts
        .glances
        .as_deref()
        .and_then(|p| started(start_glances(p), "Glances", notes));
    if let Some((g, port)) = &glances {
        per_request(g, *port, "/api/4/all", 2, Duration::from_millis(1200));
    }
    let all = |port: u16| format!("http://127.0.0.1:{port}/api/4/all");
    let (mut plain, mut gzip, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..opts.runs {
        plain.push(wrk::run(wrk, &ours.0, &all(ours.1), &[], notes));
        std::thread::sleep(Duration::from_secs(1));
        gzip.push(wrk::run(
            wrk,
            &ours.0,
            &all(ours.1),
            &["Accept-Encoding: gzip"],
            notes,
        ));
        std::thread::sleep(Duration::from_secs(1));
        if let Some((g, port)) = &glances {
            theirs.push(wrk::run(wrk, g, &all(*port), &[], notes));
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    let col = wrk::column;
    let mut rows = Vec::new();
    for (name, xs) in [
        ("ours", &plain),
        ("ours, gzip", &gzip),
        ("Glances", &theirs),
    ] {
        if !xs.is_empty() {
            rows.extend(wrk::rows(&format!("{name}, `/api/4/all`"), xs));
        }
    }
    for (name, f) in [
        ("requests/s", (|l: &Load| l.per_second) as fn(&Load) -> f64),
        ("requests per CPU-second", |l: &Load| l.per_cpu_second),
    ] {
        rows.extend(ratio_row(
            &format!("{name}, ours / Glances"),
            &col(&plain, f),
            &col(&theirs, f),
        ));
        rows.extend(ratio_row(
            &format!("{name}, ours gzip / Glances"),
            &col(&gzip, f),
            &col(&theirs, f),
        ));
    }
    rows.push(target(
        2,
        "`/api/4/all` requests per CPU-second, ours ÷ Glances (plain JSON, wrk -c4)",
        median_ratio(
            &col(&plain, |l| l.per_cpu_second),
            &col(&theirs, |l| l.per_cpu_second),
        ),
        "×",
        "≥ 20×",
        |r| r >= 20.0,
    ));
    rows
}

// ---------------------------------------------------------------- part 3

const RSS_WAIT: Duration = Duration::from_secs(10);

/// A started process: what keeps it (and what it was given) alive, its
/// pid, and a request that makes a lazy server hold its stats.
struct Idle {
    _keep: Box<dyn std::any::Any>,
    pid: u32,
    query: Option<(u16, &'static str)>,
}

impl Idle {
    fn new(keep: impl std::any::Any, pid: u32, query: Option<(u16, &'static str)>) -> Self {
        Self {
            _keep: Box::new(keep),
            pid,
            query,
        }
    }
}

const OURS_API: usize = 0;
const WORKER: usize = 2;
const GLANCES: usize = 5;
const NODE_EXPORTER: usize = 6;

fn rss_part(opts: &Options, notes: &mut Vec<String>) -> Vec<String> {
    let names = [
        "ours, Glances API process (tick 2 s)",
        "`zmon worker` with the Glances API",
        "`zmon worker` without the Glances API (default)",
        "`zmon controller` (PostgreSQL, Redis)",
        "`zmon standalone` (SQLite, in-process bus, host agent, Glances API)",
        "Glances",
        "node_exporter",
    ];
    let mut rss: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut hwm: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut failed = vec![false; names.len()];
    for _ in 0..opts.runs {
        let mut started: Vec<(usize, Idle)> = Vec::new();
        let mut attempt = |i: usize, result: Result<Idle, String>| match result {
            Ok(s) => started.push((i, s)),
            Err(e) => {
                if !failed[i] {
                    notes.push(format!("{} did not start: {e}", names[i]));
                }
                failed[i] = true;
            }
        };
        attempt(
            OURS_API,
            start_ours(2000).map(|(g, p)| {
                let pid = g.pid();
                Idle::new(g, pid, Some((p, "/api/4/all")))
            }),
        );
        if let Some(zmon) = opts.zmon.as_deref() {
            attempt(
                1,
                servers::worker(zmon, true).map(|w| {
                    let pid = w.guard.pid();
                    let query = w.glances_port.map(|p| (p, "/api/4/all"));
                    Idle::new(w, pid, query)
                }),
            );
            attempt(
                WORKER,
                servers::worker(zmon, false).map(|w| {
                    let pid = w.guard.pid();
                    Idle::new(w, pid, None)
                }),
            );
            attempt(
                3,
                servers::controller(zmon).map(|c| {
                    let (pid, port) = (c.guard.pid(), c.port);
                    Idle::new(c, pid, Some((port, "/health")))
                }),
            );
            attempt(
                4,
                servers::standalone(zmon).map(|s| {
                    let (pid, port) = (s.guard.pid(), s.glances_port);
                    Idle::new(s, pid, Some((port, "/api/4/all")))
                }),
            );
        }
        if let Some(path) = opts.glances.as_deref() {
            attempt(
                GLANCES,
                start_glances(path).map(|(g, p)| {
                    let pid = g.pid();
                    Idle::new(g, pid, Some((p, "/api/4/all")))
                }),
            );
        }
        if let Some(path) = opts.node_exporter.as_deref() {
            attempt(
                NODE_EXPORTER,
                start_node_exporter(path).map(|(g, p)| {
                    let pid = g.pid();
                    Idle::new(g, pid, Some((p, "/metrics")))
                }),
            );
        }
        for (_, idle) in &started {
            if let Some((port, path)) = idle.query {
                let _ = http::get(port, path);
            }
        }
        std::thread::sleep(RSS_WAIT);
        for (i, idle) in &started {
            if let Some((r, h)) = proc::memory_mb(idle.pid) {
                rss[*i].push(r);
                hwm[*i].push(h);
            }
        }
        drop(started);
    }
    let mut rows = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if rss[i].is_empty() {
            continue;
        }
        rows.push(row(&format!("{name}, RSS after 10 s"), "MB", &rss[i]));
        rows.push(row(&format!("{name}, peak RSS (VmHWM)"), "MB", &hwm[i]));
    }
    for (ours, theirs) in [
        (OURS_API, NODE_EXPORTER),
        (OURS_API, GLANCES),
        (WORKER, NODE_EXPORTER),
        (WORKER, GLANCES),
    ] {
        rows.extend(ratio_row(
            &format!("RSS, {} / {}", names[ours], names[theirs]),
            &rss[ours],
            &rss[theirs],
        ));
    }
    rows.push(target(
        7,
        "idle RSS of `zmon worker` (default: host agent, no Glances API)",
        median(&rss[WORKER]),
        " MB",
        "≤ 15 MB",
        |mb| mb <= 15.0,
    ));
    rows
}
