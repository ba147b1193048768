//! `cargo run --release -p zmon-bench --bin pipeline`
//!
//! Measures, on this machine, against the local Redis:
//! 1. condition evaluations per second (compiled once), beside CPython's
//!    `eval` of the same ZMON condition;
//! 2. the tasks per second one worker sustains, and the CPU it spends per
//!    task, with Redis's CPU beside it;
//! 3. the CPU per trivial check end to end: building and queueing the task
//!    (the scheduler's part), running it, and writing alert state.
//!
//! Figures are medians of several runs, with min and max.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use zmon_bus::Bus;
use zmon_bus::testing::TestKeySpace;
use zmon_checks::{ConditionInput, History, compile, evaluate_condition};
use zmon_core::Task;
use zmon_core::alert::{AlertDefinition, Parameter};
use zmon_core::check::CheckDefinition;
use zmon_core::time::SystemClock;
use zmon_worker::WorkerConfig;

const SEED_CONDITION: &str = "capture(longitude=float(value)) > longitude_param";
const RUNS: usize = 5;

/// Clock ticks per second of /proc times (100 on every common Linux).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU seconds a process has used (all threads), from /proc/<pid>/stat.
fn cpu_seconds_of(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / clock_ticks()
}

fn cpu_seconds_self() -> f64 {
    cpu_seconds_of(std::process::id())
}

fn stats(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(|a, b| a.total_cmp(b));
    (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
}

fn row(name: &str, unit: &str, xs: Vec<f64>) -> String {
    let (median, min, max) = stats(xs);
    format!("| {name} | {median:.2} {unit} | {min:.2} – {max:.2} |")
}

fn condition_evaluations() -> Vec<String> {
    let compiled = compile(SEED_CONDITION).expect("the seed condition compiles");
    let parameters: BTreeMap<String, Parameter> =
        serde_json::from_value(json!({"longitude_param": {"value": 0, "type": "float"}}))
            .expect("params");
    let entity = Map::new();
    let value = json!(15.3);
    let n = 200_000;
    let mut per_second = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        for _ in 0..n {
            let outcome = evaluate_condition(
                &compiled,
                ConditionInput {
                    value: &value,
                    entity: &entity,
                    parameters: &parameters,
                    history: History::default(),
                    timeout: Duration::from_secs(1),
                },
            );
            std::hint::black_box(outcome);
        }
        per_second.push(n as f64 / started.elapsed().as_secs_f64());
    }
    let mut rows = vec![row(
        "seed condition, evaluations/s (1 core)",
        "/s",
        per_second.clone(),
    )];
    rows.push(row(
        "seed condition, µs per evaluation",
        "µs",
        per_second.iter().map(|r| 1e6 / r).collect(),
    ));
    if let Some(py) = cpython_evaluations() {
        rows.push(row(
            "CPython 3 `eval` of the same condition, evaluations/s",
            "/s",
            py.clone(),
        ));
        let (ours, _, _) = stats(per_second);
        let (theirs, _, _) = stats(py);
        rows.push(format!(
            "| ratio (ours / CPython) | {:.1}× | |",
            ours / theirs
        ));
    }
    rows
}

/// CPython evaluating the ZMON condition the way ZMON's worker did: a
/// compiled expression, `capture` bound, parameters in the context.
fn cpython_evaluations() -> Option<Vec<f64>> {
    let script = r#"
import time
code = compile("capture(longitude=float(value)) > longitude_param", "<condition>", "eval")
def run(n):
    captures = {}
    def capture(value=None, **kw):
        (k, v), = kw.items()
        captures[k] = v
        return v
    ctx = {"capture": capture, "float": float, "value": 15.3, "longitude_param": 0.0, "__builtins__": {}}
    t = time.perf_counter()
    for _ in range(n):
        eval(code, ctx)
    return n / (time.perf_counter() - t)
for _ in range(5):
    print(run(200000))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .ok()?;
    let rates: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    (!rates.is_empty()).then_some(rates)
}

fn trivial_definitions() -> (CheckDefinition, AlertDefinition) {
    let check: CheckDefinition = serde_json::from_value(json!({"id": 1, "name": "trivial", "description": "",
        "technical_details": null, "potential_analysis": null, "potential_impact": null, "potential_solution": null,
        "owning_team": "t", "entities": [{"type": "host"}], "interval": 60, "command": "3 * 4", "status": "ACTIVE",
        "source_url": null, "last_modified_by": "b", "last_modified": 0}))
    .expect("check");
    let alert: AlertDefinition = serde_json::from_value(json!({"id": 1, "name": "twelve", "description": "d",
        "team": "t", "responsible_team": "t", "entities": [], "entities_exclude": [], "condition": ">10",
        "notifications": [], "check_definition_id": 1, "status": "ACTIVE", "priority": 1, "last_modified": 0,
        "last_modified_by": "b", "period": "", "template": false, "parent_id": null, "parameters": {}, "tags": []}))
    .expect("alert");
    (check, alert)
}

async fn redis_pid(space: &TestKeySpace) -> Option<u32> {
    let mut conn = space.connection().await.ok()?;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut conn)
        .await
        .ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .and_then(|p| p.trim().parse().ok())
}

struct WorkerRun {
    tasks_per_second: f64,
    enqueue_cpu_us: f64,
    worker_cpu_us: f64,
    redis_cpu_us: f64,
}

async fn worker_run(n: usize, entities: usize) -> WorkerRun {
    let space = TestKeySpace::new("bench");
    let bus: Arc<dyn Bus> = Arc::new(space.bus().expect("bus"));
    let redis = redis_pid(&space).await.unwrap_or(0);
    let (check, alert) = trivial_definitions();
    let docs: Vec<Map<String, Value>> = (0..entities)
        .map(|i| {
            json!({"id": format!("h{i}"), "type": "host"})
                .as_object()
                .cloned()
                .unwrap_or_default()
        })
        .collect();

    // The scheduler's part: build and queue the tasks.
    let cpu = cpu_seconds_self();
    let now = SystemClock.now_secs();
    let mut queued = 0;
    while queued < n {
        let batch: Vec<Task> = docs
            .iter()
            .take(n - queued)
            .map(|e| Task::scheduled(&check, e, &[&alert], now))
            .collect();
        queued += batch.len();
        bus.enqueue("default", &batch).await.expect("enqueue");
    }
    let enqueue_cpu = cpu_seconds_self() - cpu;

    let redis_before = cpu_seconds_of(redis);
    let cpu = cpu_seconds_self();
    let started = Instant::now();
    let worker = zmon_worker::start(
        WorkerConfig {
            name: "plocal.bench".into(),
            concurrency: 64,
            ..WorkerConfig::default()
        },
        bus.clone(),
        Arc::new(SystemClock),
    )
    .await
    .expect("worker");
    let metrics = worker.metrics();
    let stop = worker.stopper();
    let running = tokio::spawn(worker.run());
    let done_line = format!(r#"zmon_worker_tasks_total{{outcome="ok"}} {n}"#);
    while !metrics.render().lines().any(|l| l == done_line) {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let worker_cpu = cpu_seconds_self() - cpu;
    let redis_cpu = cpu_seconds_of(redis) - redis_before;
    stop.stop();
    let _ = running.await;
    WorkerRun {
        tasks_per_second: n as f64 / elapsed,
        enqueue_cpu_us: enqueue_cpu * 1e6 / n as f64,
        worker_cpu_us: worker_cpu * 1e6 / n as f64,
        redis_cpu_us: redis_cpu * 1e6 / n as f64,
    }
}

trait NowSecs {
    fn now_secs(&self) -> f64;
}

impl NowSecs for SystemClock {
    fn now_secs(&self) -> f64 {
        use zmon_core::time::Clock;
        self.now().timestamp_micros() as f64 / 1e6
    }
}

#[tokio::main]
async fn main() {
    zmon_checks::install_crypto_provider();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("## Check pipeline ({cores} cores, release build)\n");
    println!("| measure | median | min – max |");
    println!("|---|---|---|");
    if !std::env::args().any(|a| a == "--worker-only") {
        for line in condition_evaluations() {
            println!("{line}");
        }
    }
    if std::env::args().any(|a| a == "--conditions-only") {
        return;
    }
    let n = 20_000;
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        runs.push(worker_run(n, 1_000).await);
    }
    println!(
        "{}",
        row(
            "one worker, tasks/s (trivial check, 1 alert)",
            "/s",
            runs.iter().map(|r| r.tasks_per_second).collect()
        )
    );
    println!(
        "{}",
        row(
            "scheduler part: build + queue, CPU µs/task",
            "µs",
            runs.iter().map(|r| r.enqueue_cpu_us).collect()
        )
    );
    println!(
        "{}",
        row(
            "worker: claim, run, evaluate, record, CPU µs/task",
            "µs",
            runs.iter().map(|r| r.worker_cpu_us).collect()
        )
    );
    println!(
        "{}",
        row(
            "Redis server, CPU µs/task",
            "µs",
            runs.iter().map(|r| r.redis_cpu_us).collect()
        )
    );
    println!(
        "{}",
        row(
            "end to end (scheduler + worker + Redis), CPU µs/task",
            "µs",
            runs.iter()
                .map(|r| r.enqueue_cpu_us + r.worker_cpu_us + r.redis_cpu_us)
                .collect()
        )
    );
}
