//! Comparison 5 of the benchmark suite: `GET /api/v1/status/alert/<10
//! ids>/` with 100 raised entities each, on a real `zmon controller`
//! (fresh PostgreSQL database, Redis key space of its own, a pre-shared
//! token), beside `/health` of the same process, a trivial actix-web JSON
//! handler, under `wrk -t1 -c4 -d5s`, alternating.
//!
//! The alert state is written the way a worker writes it (`Bus::record`,
//! the same Lua script), so the route reads what production reads.
//!
//! `cargo run --release -p zmon-bench --bin api [-- --runs N --zmon PATH --wrk PATH]`

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value, json};
use zmon_bench::arg;
use zmon_bench::proc::find_program;
use zmon_bench::servers::{self, Controller};
use zmon_bench::table::{median_ratio, print_report, ratio_row, target};
use zmon_bench::wrk;
use zmon_bench::{http, proc};
use zmon_bus::{AlertUpdate, Bus, CheckRecord};
use zmon_core::AlertStatus;
use zmon_core::status::CheckResult;

const ALERTS: i64 = 10;
const ENTITIES: usize = 100;

/// Alerts 1..=10 raised on 100 hosts each, with captures and a value like
/// a host check's.
async fn populate(controller: &Controller) -> Result<(), String> {
    let bus = controller.space.bus().map_err(|e| e.to_string())?;
    let now = chrono::Utc::now().timestamp_micros() as f64 / 1e6;
    for alert_id in 1..=ALERTS {
        for e in 0..ENTITIES {
            let value = json!({"load1": 7.5 + e as f64 / 100.0, "load5": 6.1, "load15": 5.2});
            let mut captures = Map::new();
            captures.insert("load1".into(), value["load1"].clone());
            captures.insert("threshold".into(), json!(5));
            let record = CheckRecord {
                check_id: alert_id,
                entity: format!("host-{e:03}.bench.example"),
                result: CheckResult {
                    ts: now,
                    td: 0.0132,
                    value: value.clone(),
                    worker: "plocal.bench".into(),
                    exc: None,
                },
                alerts: vec![AlertUpdate {
                    alert_id,
                    captures: captures.clone(),
                    raised: Some(AlertStatus {
                        td: 0.0132,
                        downtimes: Vec::new(),
                        captures,
                        start_time: now,
                        worker: "plocal.bench".into(),
                        ts: now,
                        value,
                        exc: None,
                    }),
                }],
            };
            bus.record(&record, None).await.map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Entities per alert in the route's answer.
fn answered(controller: &Controller, path: &str) -> Result<Vec<usize>, String> {
    let (status, body) =
        http::get_with(controller.port, path, &[controller.authorization.as_str()])
            .map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!(
            "{path}: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    let answer: Map<String, Value> = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    Ok(answer
        .values()
        .map(|v| v.as_object().map_or(0, Map::len))
        .collect())
}

fn main() {
    let runs: usize = arg("--runs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(5usize)
        .max(1);
    let zmon = arg("--zmon")
        .map(PathBuf::from)
        .or_else(servers::default_zmon);
    let wrk = find_program(&arg("--wrk").unwrap_or_else(|| "wrk".into()));
    let mut notes = Vec::new();
    let (Some(zmon), Some(wrk)) = (zmon, wrk) else {
        notes.push(
            "zmon (cargo build --release -p zmon) or wrk not found (--zmon PATH, --wrk PATH): comparison 5 skipped"
                .into(),
        );
        print_report(&[], &notes);
        return;
    };
    let controller = match servers::controller(&zmon) {
        Ok(c) => c,
        Err(e) => {
            notes.push(format!("the controller did not start: {e}"));
            print_report(&[], &notes);
            return;
        }
    };
    let populated = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(populate(&controller)));
    if let Err(e) = populated {
        notes.push(format!("cannot write the alert state: {e}"));
        print_report(&[], &notes);
        return;
    }
    let ids: Vec<String> = (1..=ALERTS).map(|i| i.to_string()).collect();
    let status_path = format!("/api/v1/status/alert/{}/", ids.join(","));
    match answered(&controller, &status_path) {
        Ok(counts) if counts.len() == ALERTS as usize && counts.iter().all(|&c| c == ENTITIES) => {}
        Ok(counts) => {
            notes.push(format!(
                "the route answered {counts:?} entities per alert, not {ALERTS} × {ENTITIES}"
            ));
            print_report(&[], &notes);
            return;
        }
        Err(e) => {
            notes.push(e);
            print_report(&[], &notes);
            return;
        }
    }
    let url = |path: &str| format!("http://127.0.0.1:{}{path}", controller.port);
    // The same header on both, so the requests differ only in the route;
    // `/health` ignores it.
    let headers = [controller.authorization.as_str()];
    let (mut status, mut health) = (Vec::new(), Vec::new());
    // Warm-up of both: connection pools, the login cache, allocator.
    let _ = wrk::run(
        &wrk,
        &controller.guard,
        &url(&status_path),
        &headers,
        &mut notes,
    );
    let _ = wrk::run(
        &wrk,
        &controller.guard,
        &url("/health"),
        &headers,
        &mut notes,
    );
    for _ in 0..runs {
        status.push(wrk::run(
            &wrk,
            &controller.guard,
            &url(&status_path),
            &headers,
            &mut notes,
        ));
        std::thread::sleep(Duration::from_secs(1));
        health.push(wrk::run(
            &wrk,
            &controller.guard,
            &url("/health"),
            &headers,
            &mut notes,
        ));
        std::thread::sleep(Duration::from_secs(1));
    }
    let col = wrk::column;
    let mut rows = Vec::new();
    for (name, xs) in [
        (
            format!("`GET /api/v1/status/alert/<{ALERTS} ids>/`, {ENTITIES} entities each"),
            &status,
        ),
        ("`GET /health` (trivial JSON handler)".to_string(), &health),
    ] {
        rows.extend(wrk::rows(&name, xs));
    }
    let (s, h) = (
        col(&status, |l| l.per_second),
        col(&health, |l| l.per_second),
    );
    rows.extend(ratio_row("requests/s, status route ÷ `/health`", &s, &h));
    rows.push(target(
        5,
        "requests/s of the status route (10 alerts × 100 entities) ÷ `/health`",
        median_ratio(&s, &h).map(|r| r * 100.0),
        " %",
        "≥ 30 %",
        |pct| pct >= 30.0,
    ));
    notes.push(format!(
        "controller pid {} (RSS {} MB at the end)",
        controller.guard.pid(),
        proc::memory_mb(controller.guard.pid()).map_or("?".into(), |(r, _)| format!("{r:.1}"))
    ));
    println!("## Status API: the alert-state route beside a trivial handler\n");
    print_report(&rows, &notes);
}
