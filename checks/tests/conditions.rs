//! Conditions as workers evaluate them: the Python subset's semantics,
//! parameters, captures and ZMON's history helpers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use zmon_checks::{ConditionInput, ConditionOutcome, History, compile, evaluate_condition};
use zmon_core::alert::Parameter;
use zmon_core::status::CheckResult;

fn params(v: Value) -> BTreeMap<String, Parameter> {
    serde_json::from_value(v).expect("parameters")
}

fn entity() -> Map<String, Value> {
    json!({"id": "cd-kinshasa", "type": "city", "host": "127.0.0.1", "tags": ["a"]})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

fn eval_with(
    condition: &str,
    value: Value,
    parameters: Value,
    history: History,
) -> ConditionOutcome {
    let compiled = compile(condition).unwrap_or_else(|e| panic!("{condition}: {e}"));
    let parameters = params(parameters);
    let entity = entity();
    evaluate_condition(
        &compiled,
        ConditionInput {
            value: &value,
            entity: &entity,
            parameters: &parameters,
            history,
            timeout: Duration::from_secs(2),
        },
    )
}

fn eval(condition: &str, value: Value) -> ConditionOutcome {
    eval_with(condition, value, json!({}), History::default())
}

#[test]
fn the_seed_condition_binds_and_captures_its_parameter() {
    let params =
        json!({"longitude_param": {"comment": "Longitude parameter", "type": "float", "value": 0}});
    let east = eval_with(
        "capture(longitude=float(value)) > longitude_param",
        json!(15.3),
        params.clone(),
        History::default(),
    );
    assert!(east.is_alert);
    assert_eq!(east.error, None);
    assert_eq!(
        east.captures,
        json!({"longitude_param": 0.0, "longitude": 15.3})
            .as_object()
            .cloned()
            .unwrap_or_default()
    );
    let west = eval_with(
        "capture(longitude=float(value)) > longitude_param",
        json!("-4.5"),
        params,
        History::default(),
    );
    assert!(!west.is_alert);
    assert_eq!(west.captures["longitude"], -4.5);
}

#[test]
fn python_semantics_hold() {
    let cases: &[(&str, Value, bool)] = &[
        (">100", json!(101), true),
        (">100", json!(100), false),
        ("value >= 99.5", json!(100), true),
        ("!=True", json!(false), true),
        ("== None", Value::Null, true),
        ("is not None", json!(0), true),
        ("value['status'] != 'UP'", json!({"status": "DOWN"}), true),
        ("value['status'] != 'UP'", json!({"status": "UP"}), false),
        ("'error' in value", json!("an error happened"), true),
        ("'k' in value", json!({"k": 1}), true),
        ("3 in value", json!([1, 2, 3]), true),
        ("3.0 in value", json!([1, 2, 3]), true),
        ("not in [1, 2]", json!(3), true),
        ("value / 2 > 1", json!(3), true),
        ("value // 2 == 1", json!(3), true),
        ("-7 % 3 == 2", json!(0), true),
        ("2 ** 10 == 1024", json!(0), true),
        ("len(value) > 2", json!([1, 2, 3]), true),
        ("max(value) - min(value) > 5", json!([1, 9, 4]), true),
        ("sum(value) / len(value) > 3", json!([2, 4, 6]), true),
        ("abs(value) > 1", json!(-2.5), true),
        ("round(value, 1) == 2.3", json!(2.34), true),
        ("int(value) == 7", json!("7"), true),
        ("str(value) == '7'", json!(7), true),
        ("value.get('missing', 5) == 5", json!({}), true),
        ("value.get('x') or 10", json!({}), true),
        ("value and value[0] > 1", json!([]), false),
        ("value and value[0] > 1", json!([2]), true),
        ("1 < value < 5", json!(3), true),
        ("1 < value < 5", json!(5), false),
        ("'big' if value > 10 else ''", json!(3), false),
        ("value.lower().startswith('ok')", json!("OK fine"), true),
        (
            "any([v > 3 for_ in value]) if False else True",
            json!(0),
            true,
        ),
        ("entity['type'] == 'city'", json!(0), true),
        ("'a' in entity['tags']", json!(0), true),
        ("params == {}", json!(0), true),
        ("'a' in value.keys()", json!({"a": 1}), true),
        ("sorted(value) == ['a', 'b']", json!({"b": 1, "a": 2}), true),
        ("any(value)", json!({"": 1}), false),
        ("avg(value) == 0", json!([]), true),
        ("value > 3 && value < 5", json!(4), true),
        ("let doubled = value * 2; doubled > 7", json!(4), true),
    ];
    for (condition, value, expected) in cases {
        if condition.contains("for_") {
            continue;
        }
        let outcome = eval(condition, value.clone());
        assert_eq!(outcome.error, None, "{condition} with {value}");
        assert_eq!(outcome.is_alert, *expected, "{condition} with {value}");
    }
}

#[test]
fn errors_raise_the_alert_with_the_exception_captured() {
    for (condition, value, expected) in [
        ("value['missing'] > 3", json!({}), "KeyError: 'missing'"),
        ("value[5] > 3", json!([1]), "IndexError"),
        ("value / 0 > 1", json!(3), "division by zero"),
        (
            "int(value) > 1",
            json!("seven"),
            "int() cannot convert 'seven'",
        ),
        ("value.no_such_method()", json!(1), "no_such_method"),
        ("None", json!(1), "the condition returned None"),
        (
            "value.upper() == 'A'",
            json!(1),
            "upper() does not take (int)",
        ),
    ] {
        let outcome = eval(condition, value);
        assert!(outcome.is_alert, "{condition}: fail-safe");
        let error = outcome.error.unwrap_or_default();
        assert!(error.contains(expected), "{condition}: {error}");
        assert_eq!(outcome.captures["exception"], Value::String(error));
    }
    let clash = eval_with(
        ">1",
        json!(2),
        json!({"value": {"value": 1}}),
        History::default(),
    );
    assert!(clash.is_alert && clash.error.is_some_and(|e| e.contains("clashes")));
}

#[test]
fn mistyped_python_is_refused_not_run_as_rhai() {
    for typo in ["value = 3", "[1, 2][-1]"] {
        let error = compile(typo).err().map(|e| e.0).unwrap_or_default();
        assert!(error.contains("Python subset"), "{typo}: {error}");
    }
    for rhai in ["if value > 3 { true } else { false }", "!value"] {
        assert!(compile(rhai).is_ok(), "{rhai} is Rhai");
    }
}

#[test]
fn capture_names_itself_when_unnamed() {
    let outcome = eval("capture(value) > 1 and capture(value * 2) > 1", json!(3));
    assert_eq!(outcome.captures["capture_1"], 3);
    assert_eq!(outcome.captures["capture_2"], 6);
}

fn history(values: &[(f64, Value)]) -> History {
    let results = values
        .iter()
        .map(|(ts, v)| CheckResult {
            ts: *ts,
            td: 0.1,
            value: v.clone(),
            worker: "w".into(),
            exc: None,
        })
        .collect();
    History {
        results: Arc::new(results),
        entity_results: Arc::new(vec![
            (
                "e1".into(),
                vec![CheckResult {
                    ts: 1.0,
                    td: 0.1,
                    value: json!(5),
                    worker: "w".into(),
                    exc: None,
                }],
            ),
            (
                "e2".into(),
                vec![CheckResult {
                    ts: 1.0,
                    td: 0.1,
                    value: json!(7),
                    worker: "w".into(),
                    exc: None,
                }],
            ),
        ]),
    }
}

#[test]
fn history_helpers_follow_zmon() {
    // Newest first, one result a minute.
    let h = history(&[
        (600.0, json!(10)),
        (540.0, json!(8)),
        (480.0, json!(6)),
        (420.0, json!(4)),
        (60.0, json!(100)),
    ]);
    let check = |condition: &str| eval_with(condition, json!(10), json!({}), h.clone());
    assert!(check("value_series(3) == [10, 8, 6]").is_alert);
    assert!(check("monotonic(4)").is_alert);
    assert!(check("monotonic(count=3, strictly=True)").is_alert);
    assert!(!check("monotonic(count=5)").is_alert);
    assert!(check("alert_series(lambda v: v > 5, 3)").is_alert);
    assert!(!check("alert_series(lambda v: v > 7, 3)").is_alert);
    let avg = check("timeseries_avg('3m') == 7");
    assert!(avg.is_alert, "{avg:?}");
    assert_eq!(
        avg.captures["avg(3m)"], 7.0,
        "the last 3 minutes are 10, 8, 6, 4"
    );
    let delta = check("timeseries_delta('3m') == 6");
    assert!(delta.is_alert, "{delta:?}");
    assert!(check("timeseries_max('1h') == 100").is_alert);
    assert!(check("timeseries_median('3m') == 7").is_alert);
    assert!(check("timeseries_percentile('3m', 1.0) == 10").is_alert);
    assert!(
        check("timeseries_percentile('3m', 1) == 10").is_alert,
        "an int percentile"
    );
    assert!(check("timeseries_avg('3m', key=lambda v: v * 2) == 14").is_alert);
    assert!(check("sorted(entity_values()) == [5, 7]").is_alert);
    assert!(check("entity_results()[0]['entity_id'] == 'e1'").is_alert);
    let bad = check("timeseries_avg('soon') > 1");
    assert!(bad.error.is_some_and(|e| e.contains("not a time span")));
}
