//! Comparison 6 of the benchmark suite: the scheduler's matching of
//! 100 000 entities against 1 000 checks with mixed filters, by the
//! plan's attribute index, beside the same by naive nested loops.
//!
//! `cargo run --release -p zmon-bench --bin matching [-- --entities N --checks M --runs R]`

use zmon_bench::table;

use std::time::Instant;

use serde_json::{Value, json};
use zmon_core::Entity;
use zmon_core::alert::AlertDefinition;
use zmon_core::check::CheckDefinition;
use zmon_core::filter::{matches_alert, matches_any};
use zmon_scheduler::{Plan, Routing};

const TYPES: &[&str] = &[
    "host", "database", "instance", "service", "queue", "bucket", "lb", "dns", "cert", "city",
];
const DCS: &[&str] = &["eu-1", "eu-2", "us-1", "us-2", "ap-1"];
const ENVS: &[&str] = &["prod", "staging", "test"];

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn entities(n: usize) -> Vec<Entity> {
    (0..n)
        .filter_map(|i| {
            Entity::from_document(json!({
                "id": format!("e{i}"),
                "type": TYPES[i % TYPES.len()],
                "dc": DCS[(i / 7) % DCS.len()],
                "env": ENVS[(i / 3) % ENVS.len()],
                "team": format!("team-{}", (i / 11) % 50),
                "port": 8000 + (i % 20),
                "tags": [format!("t{}", i % 13), "monitored"],
            }))
            .ok()
        })
        .collect()
}

/// 40 % by type, 30 % type and team, 20 % type, dc and env, 10 % two
/// filters (OR) with a number given as a string.
fn filters(i: usize) -> Value {
    let kind = TYPES[i % TYPES.len()];
    match i % 10 {
        0..=3 => json!([{"type": kind}]),
        4..=6 => json!([{"type": kind, "team": format!("team-{}", i % 50)}]),
        7 | 8 => json!([{"type": kind, "dc": DCS[i % DCS.len()], "env": ENVS[i % ENVS.len()]}]),
        _ => {
            json!([{"type": kind, "port": format!("{}", 8000 + i % 20)}, {"tags": format!("t{}", i % 13), "env": "prod"}])
        }
    }
}

fn definitions(m: usize) -> (Vec<CheckDefinition>, Vec<AlertDefinition>) {
    let mut checks = Vec::with_capacity(m);
    let mut alerts = Vec::with_capacity(m);
    for i in 0..m {
        let id = i as i64 + 1;
        let check: Result<CheckDefinition, _> = serde_json::from_value(
            json!({"id": id, "name": format!("c{i}"),
            "description": "", "technical_details": null, "potential_analysis": null, "potential_impact": null,
            "potential_solution": null, "owning_team": "t", "entities": filters(i), "interval": 60, "command": "1",
            "status": "ACTIVE", "source_url": null, "last_modified_by": "b", "last_modified": 0}),
        );
        let alert: Result<AlertDefinition, _> = serde_json::from_value(
            json!({"id": id + 100_000, "name": "a",
            "description": "d", "team": "t", "responsible_team": "t", "entities": [], "entities_exclude": [],
            "condition": ">1", "notifications": [], "check_definition_id": id, "status": "ACTIVE", "priority": 1,
            "last_modified": 0, "last_modified_by": "b", "period": "", "template": false, "parent_id": null,
            "parameters": {}, "tags": []}),
        );
        if let (Ok(c), Ok(a)) = (check, alert) {
            checks.push(c);
            alerts.push(a);
        }
    }
    (checks, alerts)
}

/// What a scheduler without an index does: every check against every
/// entity.
fn naive(checks: &[CheckDefinition], alerts: &[AlertDefinition], entities: &[Entity]) -> usize {
    let mut pairs = 0;
    for (check, alert) in checks.iter().zip(alerts) {
        for e in entities {
            let doc = e.document();
            if matches_any(&check.entities, doc)
                && matches_alert(
                    alert.entities.as_deref(),
                    alert.entities_exclude.as_deref(),
                    doc,
                )
            {
                pairs += 1;
            }
        }
    }
    pairs
}

fn main() {
    let n = arg("--entities", 100_000);
    let m = arg("--checks", 1_000);
    let runs = arg("--runs", 5).max(1);
    let entities = entities(n);
    let (checks, alerts) = definitions(m);
    // A quarter of the product (half the entities, half the checks), for
    // how the plan build grows with checks × entities.
    let quarter = (&entities[..n / 2], &checks[..m / 2], &alerts[..m / 2]);
    let routing = Routing {
        default_queue: "default".into(),
        ..Routing::default()
    };
    let (mut indexed, mut scanned, mut small) = (Vec::new(), Vec::new(), Vec::new());
    let mut counts = (0, 0);
    for _ in 0..runs {
        let started = Instant::now();
        let plan = Plan::build(&checks, &alerts, &entities, &routing);
        indexed.push(started.elapsed().as_secs_f64() * 1000.0);
        counts.0 = plan.target_count();
        drop(plan);
        let started = Instant::now();
        counts.1 = naive(&checks, &alerts, &entities);
        scanned.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        let plan = Plan::build(quarter.1, quarter.2, quarter.0, &routing);
        small.push(started.elapsed().as_secs_f64() * 1000.0);
        drop(plan);
    }
    let mut notes = Vec::new();
    if counts.0 != counts.1 {
        notes.push(format!(
            "the index selected {} pairs and the nested loops {}: the plan is wrong",
            counts.0, counts.1
        ));
    }
    println!(
        "Matching {n} entities × {m} checks ({} (check, entity) pairs), {runs} runs\n",
        counts.0
    );
    // t ∝ (checks × entities)^k from two sizes a factor 4 apart.
    let exponent = table::median_ratio(&indexed, &small).map(|r| r.ln() / 4f64.ln());
    let mut rows = vec![
        table::row("plan with the attribute index (full build)", "ms", &indexed),
        table::row("naive nested loops (matching only)", "ms", &scanned),
        table::row(
            &format!(
                "plan, {} entities × {} checks (¼ of the product)",
                n / 2,
                m / 2
            ),
            "ms",
            &small,
        ),
    ];
    rows.extend(table::ratio_row("naive ÷ indexed", &scanned, &indexed));
    rows.extend(exponent.map(|k| {
        format!(
            "| growth exponent k of the plan build, t ∝ (checks × entities)^k | {} | | |",
            table::num(k)
        )
    }));
    rows.push(table::target(
        6,
        "plan build growth exponent k in checks × entities (naive loops: 1)",
        exponent,
        "",
        "< 1 (sub-linear)",
        |k| k < 1.0,
    ));
    table::print_report(&rows, &notes);
}
