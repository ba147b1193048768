//! `cargo run --release -p zmon-bench --bin pipeline [-- OPTIONS]`
//!
//! Measures, on this machine, against the local Redis:
//! - comparison 3: evaluations per second of 10 ZMON conditions, each
//!   compiled once, beside CPython 3's `eval` of the same expressions with
//!   the same bindings (`--conditions-only`);
//! - comparison 4: the tasks per second one worker sustains and the CPU it
//!   spends per task, with the scheduler's and Redis's part beside it;
//!   then end to end (the scheduler's enqueueing and the worker running at
//!   once) checks per second and CPU per check, beside the Redis ceiling
//!   measured in the same run with `redis-benchmark`, i.e. its operations
//!   per second divided by the Redis commands one check costs
//!   (`--worker-only`).
//!
//! Figures are medians of `--runs N` runs (default 5) with min and max;
//! the runs alternate ours and theirs. `--redis-benchmark PATH` (default
//! `redis-benchmark` on `PATH`; missing: the ceiling is skipped with a
//! note) and `--python PATH` (default `python3`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use zmon_bench::proc::{self, find_program};
use zmon_bench::table::{median, median_ratio, num, print_report, ratio_row, row, target};
use zmon_bus::Bus;
use zmon_bus::testing::TestKeySpace;
use zmon_checks::{ConditionInput, History, compile, evaluate_condition};
use zmon_core::Task;
use zmon_core::alert::{AlertDefinition, Parameter};
use zmon_core::check::CheckDefinition;
use zmon_core::time::{Clock, SystemClock};
use zmon_worker::WorkerConfig;

struct Options {
    runs: usize,
    conditions: bool,
    worker: bool,
    redis_benchmark: Option<PathBuf>,
    python: String,
}

impl Options {
    fn parse() -> Self {
        let args: Vec<String> = std::env::args().collect();
        let value = |name: &str| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .cloned()
        };
        let flag = |name: &str| args.iter().any(|a| a == name);
        Self {
            runs: value("--runs")
                .and_then(|v| v.parse().ok())
                .unwrap_or(5usize)
                .max(1),
            conditions: !flag("--worker-only"),
            worker: !flag("--conditions-only"),
            redis_benchmark: find_program(
                &value("--redis-benchmark").unwrap_or_else(|| "redis-benchmark".into()),
            ),
            python: value("--python").unwrap_or_else(|| "python3".into()),
        }
    }
}

// ---------------------------------------------------------------- comparison 3

/// The fixed set: the seed alert's condition, ZMON's short forms (`>100`
/// gets `value ` prepended), indexing, builtins, a method, `not`, `is
/// None`, `in`. Each with the value (and parameters) it is evaluated on.
fn conditions() -> Vec<(&'static str, Value, Value)> {
    let none = json!({});
    vec![
        ("value > 100", json!(150), none.clone()),
        (">100", json!(150), none.clone()),
        (
            "capture(longitude=float(value)) > longitude_param",
            json!(15.3),
            json!({"longitude_param": {"value": 0.0, "type": "float"}}),
        ),
        (
            "value['load'] > 5 and value['x'] < 3",
            json!({"load": 7.5, "x": 1}),
            none.clone(),
        ),
        ("len(value) > 0", json!([1, 2, 3]), none.clone()),
        ("abs(value - 5) > 2", json!(9), none.clone()),
        (
            "max(value.values()) > 90",
            json!({"a": 50, "b": 95, "c": 10}),
            none.clone(),
        ),
        ("not value", json!(0), none.clone()),
        ("value is None or value > 9", json!(12), none.clone()),
        (
            "value['status'] in [500, 502, 503]",
            json!({"status": 502, "time": 0.2}),
            none,
        ),
    ]
}

const EVALUATIONS: usize = 100_000;

/// Evaluations per second of each condition (compiled once) and whether
/// it raised the alert.
fn ours_once(set: &[(&str, Value, Value)]) -> Result<Vec<(f64, bool)>, String> {
    let entity = Map::new();
    let mut out = Vec::new();
    for (condition, value, params) in set {
        let compiled = compile(condition).map_err(|e| format!("{condition}: {e}"))?;
        let parameters: BTreeMap<String, Parameter> = serde_json::from_value(params.clone())
            .map_err(|e| format!("{condition}: parameters: {e}"))?;
        let input = || ConditionInput {
            value,
            entity: &entity,
            parameters: &parameters,
            history: History::default(),
            timeout: Duration::from_secs(1),
        };
        let first = evaluate_condition(&compiled, input());
        if let Some(error) = first.error {
            return Err(format!("{condition}: {error}"));
        }
        let started = Instant::now();
        for _ in 0..EVALUATIONS {
            std::hint::black_box(evaluate_condition(&compiled, input()));
        }
        out.push((
            EVALUATIONS as f64 / started.elapsed().as_secs_f64(),
            first.is_alert,
        ));
    }
    Ok(out)
}

/// CPython as ZMON's worker evaluates a condition: `value ` prepended to
/// a condition starting with an operator, compiled once, `eval` with the
/// value, the parameters and `capture` in the context. The context is
/// built once, not per evaluation as ZMON does, which favours CPython.
const CPYTHON: &str = r#"
import json, re, sys, time
set_ = json.loads(sys.argv[1])
n = int(sys.argv[2])
for condition, value, params in set_:
    if re.match(r"^[<>!=\[]|i[ns] ", condition):
        condition = "value " + condition
    code = compile(condition, "<condition>", "eval")
    captures = {}
    def capture(value=None, **kw):
        if kw:
            (k, v), = kw.items()
        else:
            k, v = "capture_%d" % (len(captures) + 1), value
        captures[k] = v
        return v
    ctx = {"__builtins__": {}, "capture": capture, "value": value,
           "float": float, "int": int, "str": str, "bool": bool, "len": len,
           "abs": abs, "min": min, "max": max, "sum": sum, "round": round,
           "sorted": sorted, "list": list, "any": any, "all": all}
    ctx.update({k: p["value"] for k, p in params.items()})
    alert = bool(eval(code, ctx))
    t = time.perf_counter()
    for _ in range(n):
        eval(code, ctx)
    print(json.dumps([n / (time.perf_counter() - t), alert]))
"#;

fn cpython_once(python: &str, set: &[(&str, Value, Value)]) -> Result<Vec<(f64, bool)>, String> {
    let out = Command::new(python)
        .args([
            "-c",
            CPYTHON,
            &json!(set).to_string(),
            &EVALUATIONS.to_string(),
        ])
        .output()
        .map_err(|e| format!("{python}: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| format!("{l:?}: {e}")))
        .collect()
}

fn comparison_3(opts: &Options, notes: &mut Vec<String>) -> Vec<String> {
    let set = conditions();
    let n = set.len();
    let (mut ours, mut theirs) = (vec![Vec::new(); n], vec![Vec::new(); n]);
    // All ten back to back: total evaluations over total time, i.e. the
    // rate of a mix with one of each.
    let (mut ours_all, mut theirs_all) = (Vec::new(), Vec::new());
    let harmonic =
        |rates: &[(f64, bool)]| n as f64 / rates.iter().map(|(r, _)| 1.0 / r).sum::<f64>();
    for _ in 0..opts.runs {
        match ours_once(&set) {
            Ok(rates) => {
                for (i, (rate, _)) in rates.iter().enumerate() {
                    ours[i].push(*rate);
                }
                ours_all.push(harmonic(&rates));
                match cpython_once(&opts.python, &set) {
                    Ok(py) if py.len() == n => {
                        for (i, ((rate, alert), (_, ours_alert))) in
                            py.iter().zip(&rates).enumerate()
                        {
                            if alert != ours_alert {
                                notes.push(format!(
                                    "{}: CPython says alert={alert}, ours {ours_alert}",
                                    set[i].0
                                ));
                            }
                            theirs[i].push(*rate);
                        }
                        theirs_all.push(harmonic(&py));
                    }
                    Ok(_) => notes.push("CPython did not evaluate every condition".into()),
                    Err(e) => notes.push(format!("CPython failed: {e}")),
                }
            }
            Err(e) => {
                notes.push(format!("our engine failed: {e}"));
                break;
            }
        }
    }
    let mut rows = Vec::new();
    for (i, (condition, _, _)) in set.iter().enumerate() {
        rows.push(row(
            &format!("`{condition}`, ours, evaluations/s"),
            "/s",
            &ours[i],
        ));
        rows.push(row(
            &format!("`{condition}`, CPython, evaluations/s"),
            "/s",
            &theirs[i],
        ));
        rows.extend(ratio_row(
            &format!("`{condition}`, ours ÷ CPython"),
            &ours[i],
            &theirs[i],
        ));
    }
    rows.push(row(
        "all 10 (one of each), ours, evaluations/s",
        "/s",
        &ours_all,
    ));
    rows.push(row(
        "all 10 (one of each), CPython, evaluations/s",
        "/s",
        &theirs_all,
    ));
    rows.push(row(
        "all 10, ours, µs per evaluation",
        "µs",
        &ours_all.iter().map(|r| 1e6 / r).collect::<Vec<_>>(),
    ));
    rows.extend(ratio_row("all 10, ours ÷ CPython", &ours_all, &theirs_all));
    let slowest = set
        .iter()
        .enumerate()
        .filter_map(|(i, (c, _, _))| Some((*c, median_ratio(&ours[i], &theirs[i])?)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    rows.push(target(
        3,
        "evaluations/s of the 10 conditions (one of each), ours ÷ CPython `eval`",
        median_ratio(&ours_all, &theirs_all),
        "×",
        "≥ 2×",
        |r| r >= 2.0,
    ));
    if let Some((condition, ratio)) = slowest {
        rows.push(target(
            3,
            &format!("the slowest of the 10 alone (`{condition}`), ours ÷ CPython"),
            Some(ratio),
            "×",
            "≥ 2×",
            |r| r >= 2.0,
        ));
    }
    rows
}

// ---------------------------------------------------------------- comparison 4

fn trivial_definitions() -> Result<(CheckDefinition, AlertDefinition), serde_json::Error> {
    let check: CheckDefinition = serde_json::from_value(
        json!({"id": 1, "name": "trivial", "description": "",
        "technical_details": null, "potential_analysis": null, "potential_impact": null, "potential_solution": null,
        "owning_team": "t", "entities": [{"type": "host"}], "interval": 60, "command": "3 * 4", "status": "ACTIVE",
        "source_url": null, "last_modified_by": "b", "last_modified": 0}),
    )?;
    let alert: AlertDefinition = serde_json::from_value(
        json!({"id": 1, "name": "twelve", "description": "d",
        "team": "t", "responsible_team": "t", "entities": [], "entities_exclude": [], "condition": ">10",
        "notifications": [], "check_definition_id": 1, "status": "ACTIVE", "priority": 1, "last_modified": 0,
        "last_modified_by": "b", "period": "", "template": false, "parent_id": null, "parameters": {}, "tags": []}),
    )?;
    Ok((check, alert))
}

async fn redis_info(space: &TestKeySpace, section: &str) -> Option<String> {
    let mut conn = space.connection().await.ok()?;
    redis::cmd("INFO")
        .arg(section)
        .query_async(&mut conn)
        .await
        .ok()
}

async fn redis_pid(space: &TestKeySpace) -> Option<u32> {
    redis_info(space, "server")
        .await?
        .lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .and_then(|p| p.trim().parse().ok())
}

/// Calls per command so far, from `INFO commandstats`. Commands a Lua
/// script runs are counted too, each as one call.
async fn command_calls(space: &TestKeySpace) -> BTreeMap<String, u64> {
    let Some(info) = redis_info(space, "commandstats").await else {
        return BTreeMap::new();
    };
    info.lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest.split(',').find_map(|f| f.strip_prefix("calls="))?;
            Some((name.to_string(), calls.parse().ok()?))
        })
        .collect()
}

/// What one run measured; CPU in µs per task.
struct Run {
    per_second: f64,
    enqueue_cpu_us: f64,
    worker_cpu_us: f64,
    redis_cpu_us: f64,
    /// Redis commands per task, by command.
    commands: BTreeMap<String, f64>,
}

impl Run {
    fn commands_per_task(&self) -> f64 {
        self.commands.values().sum()
    }
}

fn self_cpu() -> f64 {
    proc::cpu_seconds(std::process::id()).unwrap_or(f64::NAN)
}

/// `n` trivial checks (one alert each) on 1 000 entities, through a real
/// worker (concurrency 64) on a key space of its own. `overlap`: the
/// scheduler's part (building and queueing the tasks in batches of 1 000)
/// runs while the worker drains the queue, and the clock and CPU cover
/// both (end to end); otherwise everything is queued first and the worker
/// is measured alone.
async fn pipeline_run(n: usize, overlap: bool) -> Result<Run, String> {
    let space = TestKeySpace::new("zmon-bench-pipeline");
    let bus: Arc<dyn Bus> = Arc::new(space.bus().map_err(|e| e.to_string())?);
    let redis = redis_pid(&space).await.ok_or("no Redis process id")?;
    let (check, alert) = trivial_definitions().map_err(|e| e.to_string())?;
    let docs: Vec<Map<String, Value>> = (0..1_000)
        .filter_map(|i| {
            json!({"id": format!("h{i}"), "type": "host"})
                .as_object()
                .cloned()
        })
        .collect();
    let enqueue = {
        let bus = bus.clone();
        async move {
            let now = SystemClock.now().timestamp_micros() as f64 / 1e6;
            let mut queued = 0;
            while queued < n {
                let batch: Vec<Task> = docs
                    .iter()
                    .take(n - queued)
                    .map(|e| Task::scheduled(&check, e, &[&alert], now))
                    .collect();
                queued += batch.len();
                bus.enqueue("default", &batch)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(())
        }
    };

    let commands_before = command_calls(&space).await;
    let redis_before = proc::cpu_seconds(redis).unwrap_or(f64::NAN);
    let cpu = self_cpu();
    let started = Instant::now();
    let producer = if overlap {
        Some(tokio::spawn(enqueue))
    } else {
        enqueue.await?;
        None
    };
    let enqueue_cpu = if overlap { 0.0 } else { self_cpu() - cpu };
    let cpu = self_cpu();
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
    .map_err(|e| e.to_string())?;
    let worker_started = if overlap { started } else { Instant::now() };
    let metrics = worker.metrics();
    let stop = worker.stopper();
    let running = tokio::spawn(worker.run());
    let done_line = format!(r#"zmon_worker_tasks_total{{outcome="ok"}} {n}"#);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !metrics.render().lines().any(|l| l == done_line) {
        if Instant::now() > deadline {
            stop.stop();
            return Err(format!("{n} tasks not done after 120 s"));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = worker_started.elapsed().as_secs_f64();
    let worker_cpu = self_cpu() - cpu;
    let redis_cpu = proc::cpu_seconds(redis).unwrap_or(f64::NAN) - redis_before;
    let commands_after = command_calls(&space).await;
    stop.stop();
    let _ = running.await;
    if let Some(p) = producer {
        p.await.map_err(|e| e.to_string())??;
    }
    let per_task = |x: f64| x * 1e6 / n as f64;
    let commands = commands_after
        .iter()
        // Our own INFO calls are not the pipeline's.
        .filter(|(name, _)| name.as_str() != "info")
        .map(|(name, after)| {
            let before = commands_before.get(name).copied().unwrap_or(0);
            (name.clone(), after.saturating_sub(before) as f64 / n as f64)
        })
        .filter(|(_, per)| *per > 0.0)
        .collect();
    Ok(Run {
        per_second: n as f64 / elapsed,
        enqueue_cpu_us: per_task(enqueue_cpu),
        worker_cpu_us: per_task(worker_cpu),
        redis_cpu_us: per_task(redis_cpu),
        commands,
    })
}

/// The redis-benchmark commands: the kinds a check's round trips use
/// (queue moves, sets, hashes, plain keys).
const REDIS_BENCHMARK_TESTS: &str = "set,get,lpush,lpop,sadd,hset";
/// A database number of its own, so its fixed key names (`key:__rand_int__`,
/// `mylist`, …) cannot meet anyone's keys; they are deleted afterwards.
const REDIS_BENCHMARK_DB: &str = "9";
const REDIS_BENCHMARK_KEYS: &[&str] = &[
    "key:__rand_int__",
    "counter:__rand_int__",
    "mylist",
    "myset",
    "myhash",
];

/// The median over the tested commands of redis-benchmark's requests/s
/// (50 clients, no pipelining, its defaults).
fn redis_benchmark(path: &std::path::Path) -> Result<f64, String> {
    let out = Command::new(path)
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            "6379",
            "--dbnum",
            REDIS_BENCHMARK_DB,
            "-n",
            "50000",
            "-t",
            REDIS_BENCHMARK_TESTS,
            "--csv",
        ])
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let rates: Vec<f64> = text
        .lines()
        .filter_map(|l| l.split(',').nth(1))
        .filter_map(|v| v.trim_matches('"').parse().ok())
        .collect();
    if let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:6379/{REDIS_BENCHMARK_DB}"))
        && let Ok(mut conn) = client.get_connection()
    {
        let _: redis::RedisResult<()> =
            redis::cmd("DEL").arg(REDIS_BENCHMARK_KEYS).query(&mut conn);
    }
    median(&rates).ok_or_else(|| format!("redis-benchmark output not understood:\n{text}"))
}

async fn comparison_4(opts: &Options, notes: &mut Vec<String>) -> Vec<String> {
    const N: usize = 20_000;
    let (mut split, mut overlapped, mut ceiling_ops) = (Vec::new(), Vec::new(), Vec::new());
    // One warm-up run: Redis loads the scripts, the allocator grows.
    if let Err(e) = pipeline_run(2_000, true).await {
        notes.push(format!("pipeline warm-up failed: {e}"));
        return Vec::new();
    }
    for _ in 0..opts.runs {
        match pipeline_run(N, false).await {
            Ok(r) => split.push(r),
            Err(e) => notes.push(format!("worker run failed: {e}")),
        }
        match pipeline_run(N, true).await {
            Ok(r) => overlapped.push(r),
            Err(e) => notes.push(format!("end-to-end run failed: {e}")),
        }
        if let Some(path) = &opts.redis_benchmark {
            match redis_benchmark(path) {
                Ok(ops) => ceiling_ops.push(ops),
                Err(e) => notes.push(e),
            }
        }
    }
    if opts.redis_benchmark.is_none() {
        notes.push("redis-benchmark not found (--redis-benchmark PATH): no Redis ceiling.".into());
    }
    let col = |xs: &[Run], f: fn(&Run) -> f64| xs.iter().map(f).collect::<Vec<_>>();
    let mut rows = vec![
        row(
            "one worker, tasks/s (trivial check, 1 alert; queue filled first)",
            "/s",
            &col(&split, |r| r.per_second),
        ),
        row(
            "scheduler part: build + queue, CPU µs/task",
            "µs",
            &col(&split, |r| r.enqueue_cpu_us),
        ),
        row(
            "worker: claim, run, evaluate, record, CPU µs/task",
            "µs",
            &col(&split, |r| r.worker_cpu_us),
        ),
        row(
            "Redis server, CPU µs/task",
            "µs",
            &col(&split, |r| r.redis_cpu_us),
        ),
        row(
            "sum (scheduler + worker + Redis), CPU µs/task",
            "µs",
            &col(&split, |r| {
                r.enqueue_cpu_us + r.worker_cpu_us + r.redis_cpu_us
            }),
        ),
    ];
    let e2e = col(&overlapped, |r| r.per_second);
    let e2e_cpu = col(&overlapped, |r| r.worker_cpu_us + r.redis_cpu_us);
    let redis_cpu = col(&overlapped, |r| r.redis_cpu_us);
    let commands = col(&overlapped, Run::commands_per_task);
    rows.extend([
        row(
            "end to end (scheduler → Redis → worker → alert state), checks/s",
            "/s",
            &e2e,
        ),
        row(
            "end to end, CPU µs per check (scheduler + worker + Redis)",
            "µs",
            &e2e_cpu,
        ),
        row("end to end, of which Redis, CPU µs per check", "µs", &redis_cpu),
        row(
            "Redis commands per check (`INFO commandstats`, in-script ones included)",
            "",
            &commands,
        ),
        row(
            &format!("redis-benchmark ops/s (median of {REDIS_BENCHMARK_TESTS}; 50 clients, no pipelining)"),
            "/s",
            &ceiling_ops,
        ),
    ]);
    let ceiling: Vec<f64> = match median(&commands) {
        Some(per_check) if per_check > 0.0 => {
            ceiling_ops.iter().map(|ops| ops / per_check).collect()
        }
        _ => Vec::new(),
    };
    rows.push(row(
        "Redis ceiling: ops/s ÷ commands per check, checks/s",
        "/s",
        &ceiling,
    ));
    rows.extend(ratio_row("end to end ÷ Redis ceiling", &e2e, &ceiling));
    // The same ceiling seen from Redis's CPU: if it had one core to itself.
    let cpu_ceiling: Vec<f64> = redis_cpu.iter().map(|us| 1e6 / us).collect();
    rows.push(row(
        "Redis CPU ceiling: 1 s ÷ Redis CPU per check, checks/s",
        "/s",
        &cpu_ceiling,
    ));
    rows.extend(ratio_row(
        "end to end ÷ Redis CPU ceiling",
        &e2e,
        &cpu_ceiling,
    ));
    if let Some(typical) = overlapped.get(overlapped.len() / 2) {
        let mix: Vec<String> = typical
            .commands
            .iter()
            .map(|(name, per)| format!("{name} {}", num(*per)))
            .collect();
        notes.push(format!(
            "Redis commands per check, by command (one run): {}",
            mix.join(", ")
        ));
    }
    rows.push(target(
        4,
        "end-to-end checks/s ÷ Redis ceiling (redis-benchmark ops/s ÷ commands per check)",
        median_ratio(&e2e, &ceiling).map(|r| r * 100.0),
        " %",
        "≥ 25 %",
        |pct| pct >= 25.0,
    ));
    rows
}

#[tokio::main]
async fn main() {
    zmon_checks::install_crypto_provider();
    let opts = Options::parse();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut notes = Vec::new();
    let mut rows = Vec::new();
    if opts.conditions {
        rows.extend(comparison_3(&opts, &mut notes));
    }
    if opts.worker {
        rows.extend(comparison_4(&opts, &mut notes).await);
    }
    println!("## Check pipeline ({cores} cores, release build)\n");
    print_report(&rows, &notes);
}
