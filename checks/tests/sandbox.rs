//! Every sandbox limit stops a hostile script with a clear error, quickly,
//! and the engine goes on serving.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use zmon_checks::{compile, run_command};

fn run(script: &str, timeout: Duration) -> (Result<Value, String>, Duration) {
    let compiled = compile(script).unwrap_or_else(|e| panic!("{script}: {e}"));
    let entity: Map<String, Value> = json!({"id": "h1", "type": "host"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let started = Instant::now();
    let result = run_command(&compiled, &entity, timeout).map_err(|e| e.0);
    (result, started.elapsed())
}

#[test]
fn an_endless_loop_stops() {
    let (result, took) = run("loop { }", Duration::from_secs(30));
    let error = result.expect_err("endless loop");
    assert!(error.contains("too many operations"), "{error}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_slow_loop_stops_at_the_deadline() {
    // Each iteration is cheap in operations but the whole exceeds the deadline.
    let (result, took) = run(
        "let x = 0; loop { x += 1; let s = `${x}`; }",
        Duration::from_millis(200),
    );
    let error = result.expect_err("deadline");
    assert!(
        error.contains("timed out") || error.contains("too many operations"),
        "{error}"
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn deep_recursion_stops() {
    let (result, _) = run("fn down(n) { down(n + 1) } down(0)", Duration::from_secs(5));
    assert!(result.expect_err("recursion").contains("nested too deeply"));
}

#[test]
fn a_huge_string_stops() {
    let (result, _) = run("let s = \"x\"; loop { s += s; }", Duration::from_secs(5));
    let error = result.expect_err("100 MB string");
    assert!(error.contains("too large"), "{error}");
}

#[test]
fn a_huge_array_stops() {
    // Rhai re-measures the array on every push, so this one usually meets
    // the deadline before the size limit; either stops it.
    let (result, took) = run("let a = []; loop { a.push(1); }", Duration::from_secs(2));
    let error = result.expect_err("huge array");
    assert!(
        ["too large", "too many operations", "timed out"]
            .iter()
            .any(|e| error.contains(e)),
        "{error}"
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
    let (result, _) = run("let a = [1]; loop { a += a; }", Duration::from_secs(5));
    assert!(result.expect_err("doubling").contains("too large"));
}

#[test]
fn no_eval_modules_or_files() {
    assert!(
        compile("eval(\"1\")").is_err() || run("eval(\"1\")", Duration::from_secs(1)).0.is_err()
    );
    assert!(compile("import \"x\" as y; 1").is_err());
    let (result, _) = run("open_file(\"/etc/passwd\")", Duration::from_secs(1));
    assert!(result.is_err());
}

#[test]
fn a_failing_builtin_reports_its_error() {
    let (result, _) = run(
        "http(\"http://127.0.0.1:1/\").code()",
        Duration::from_secs(5),
    );
    let error = result.expect_err("refused");
    assert!(error.contains("http http://127.0.0.1:1/"), "{error}");
}

#[test]
fn the_engine_keeps_serving_after_hostile_scripts() {
    let _ = run("loop { }", Duration::from_secs(1));
    let (ok, _) = run("3 * 4", Duration::from_secs(1));
    assert_eq!(ok, Ok(json!(12)));
    let (entity, _) = run("entity.id", Duration::from_secs(1));
    assert_eq!(entity, Ok(json!("h1")));
    let (python, _) = run("entity['type'] + '!'", Duration::from_secs(1));
    assert_eq!(python, Ok(json!("host!")));
}
