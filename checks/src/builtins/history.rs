//! Condition helpers over the check's history, with ZMON's semantics:
//! `capture`, `value_series`, `alert_series`, `monotonic`,
//! `timeseries_*`, `entity_values` and `entity_results`.

use rhai::{Array, Dynamic, Engine, FLOAT, FnPtr, INT, ImmutableString, Map, NativeCallContext};
use serde_json::Value;
use zmon_core::status::CheckResult;

use super::python::{number, truthy};
use super::{FnResult, fail};
use crate::{context, convert};

fn to_dynamic(v: &Value) -> FnResult<Dynamic> {
    Ok(convert::to_dynamic(v))
}

fn to_json(v: &Dynamic) -> Value {
    convert::to_json(v).unwrap_or(Value::Null)
}

fn record(name: String, value: &Dynamic) {
    let json = to_json(value);
    context::with_state(|s| {
        s.captures.insert(name, json);
    });
}

/// `capture(v)` stores `v` under `capture_1`, `capture_2`, … and returns it.
fn capture(value: Dynamic) -> Dynamic {
    let json = to_json(&value);
    context::with_state(|s| {
        let name = unnamed_capture(&s.captures);
        s.captures.insert(name, json);
    });
    value
}

/// The name of the next unnamed capture: the first free `capture_<n>`.
pub(crate) fn unnamed_capture(captures: &serde_json::Map<String, Value>) -> String {
    (1..)
        .map(|i| format!("capture_{i}"))
        .find(|name| !captures.contains_key(name))
        .unwrap_or_default()
}

fn count(n: INT) -> usize {
    usize::try_from(n).unwrap_or(0)
}

fn results() -> std::sync::Arc<Vec<CheckResult>> {
    context::with_state(|s| s.history.results.clone())
}

fn value_series(n: INT) -> FnResult<Array> {
    results()
        .iter()
        .take(count(n))
        .map(|r| to_dynamic(&r.value))
        .collect()
}

fn call(ctx: &NativeCallContext, f: &FnPtr, arg: Dynamic) -> FnResult<Dynamic> {
    f.call_within_context(ctx, (arg,))
}

/// True when `f` holds for each of the last `n` values (as many as there
/// are). An error counts as holding; all of them failing is an error.
fn alert_series(ctx: NativeCallContext, f: FnPtr, n: INT) -> FnResult<bool> {
    let history = results();
    let window: Vec<&CheckResult> = history.iter().take(count(n)).collect();
    let mut active = 0;
    let mut errors = Vec::new();
    for r in &window {
        match call(&ctx, &f, to_dynamic(&r.value)?) {
            Ok(v) if truthy(&v) => active += 1,
            Ok(_) => {}
            Err(e) => {
                active += 1;
                errors.push(e.to_string());
            }
        }
    }
    if !window.is_empty() && errors.len() == window.len() {
        return fail(format!(
            "all alert evaluations failed: {}",
            errors.join("; ")
        ));
    }
    Ok(active == window.len())
}

fn as_number(v: &Value) -> Option<FLOAT> {
    v.as_f64()
}

/// Whether the last `n` values rise (or fall), strictly or not.
fn monotonic(n: INT, increasing: bool, strictly: bool) -> FnResult<bool> {
    let history = results();
    let values: Vec<FLOAT> = history
        .iter()
        .take(count(n))
        .map(|r| as_number(&r.value).ok_or("monotonic() needs numeric values"))
        .collect::<Result<_, _>>()?;
    // Newest first: each value must be above (below) the next older one.
    Ok(values.windows(2).all(|w| match (increasing, strictly) {
        (true, true) => w[0] > w[1],
        (true, false) => w[0] >= w[1],
        (false, true) => w[0] < w[1],
        (false, false) => w[0] <= w[1],
    }))
}

/// `5m`, `1h30m`, `30s`, `2d`, `1w` in seconds.
fn time_spec(spec: &str) -> FnResult<FLOAT> {
    let mut total = 0.0;
    let mut digits = String::new();
    for c in spec.trim().chars() {
        if c.is_ascii_digit() || c == '.' {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1.0,
            'm' => 60.0,
            'h' => 3600.0,
            'd' => 86_400.0,
            'w' => 604_800.0,
            _ => return fail(format!("'{spec}' is not a time span like 5m, 1h or 30s")),
        };
        let n: FLOAT = digits
            .parse()
            .map_err(|_| format!("'{spec}' is not a time span like 5m, 1h or 30s"))?;
        total += n * unit;
        digits.clear();
    }
    if !digits.is_empty() || total <= 0.0 {
        return fail(format!("'{spec}' is not a time span like 5m, 1h or 30s"));
    }
    Ok(total)
}

/// Values of the results within `spec` of the newest one, oldest first,
/// after applying `key`.
fn window(ctx: &NativeCallContext, spec: &str, key: &Dynamic) -> FnResult<Vec<FLOAT>> {
    let span = time_spec(spec)?;
    let history = results();
    let newest = history.first().map_or(0.0, |r| r.ts);
    let mut picked: Vec<&CheckResult> = history.iter().filter(|r| r.ts >= newest - span).collect();
    picked.reverse();
    let key = key.clone().try_cast::<FnPtr>();
    let mut out = Vec::with_capacity(picked.len());
    for r in picked {
        let v = to_dynamic(&r.value)?;
        let v = match &key {
            Some(f) => call(ctx, f, v)?,
            None => v,
        };
        let n = v
            .as_float()
            .or_else(|_| v.as_int().map(|i| i as FLOAT))
            .map_err(|_| format!("timeseries values must be numbers, not {}", v.type_name()))?;
        out.push(n);
    }
    Ok(out)
}

fn percentile(sorted: &[FLOAT], p: FLOAT) -> Option<FLOAT> {
    if sorted.is_empty() {
        return None;
    }
    let k = (sorted.len() - 1) as FLOAT * p.clamp(0.0, 1.0);
    let (f, c) = (k.floor(), k.ceil());
    let (fi, ci) = (f as usize, c as usize);
    if fi == ci {
        return Some(sorted[fi]);
    }
    Some(sorted[fi] * (c - k) + sorted[ci] * (k - f))
}

fn aggregate(name: &str, values: &[FLOAT], p: FLOAT) -> Dynamic {
    let some = |v: Option<FLOAT>| v.map_or(Dynamic::UNIT, Dynamic::from);
    match name {
        "avg" => {
            some((!values.is_empty()).then(|| values.iter().sum::<FLOAT>() / values.len() as FLOAT))
        }
        "delta" => Dynamic::from(match (values.first(), values.last()) {
            (Some(a), Some(b)) => b - a,
            _ => 0.0,
        }),
        "first" => some(values.first().copied()),
        "min" => some(values.iter().copied().reduce(FLOAT::min)),
        "max" => some(values.iter().copied().reduce(FLOAT::max)),
        "sum" => Dynamic::from(values.iter().sum::<FLOAT>()),
        _ => {
            let mut sorted = values.to_vec();
            sorted.sort_by(|a, b| a.total_cmp(b));
            some(percentile(&sorted, if name == "median" { 0.5 } else { p }))
        }
    }
}

fn timeseries(
    ctx: &NativeCallContext,
    name: &str,
    spec: &str,
    key: &Dynamic,
    p: FLOAT,
) -> FnResult<Dynamic> {
    let values = window(ctx, spec, key)?;
    let result = aggregate(name, &values, p);
    // ZMON shows these in the captures, e.g. "delta(5m)": 13.5.
    record(format!("{name}({spec})"), &result);
    Ok(result)
}

fn entity_data(n: INT, values_only: bool) -> FnResult<Array> {
    let all = context::with_state(|s| s.history.entity_results.clone());
    let mut out = Array::new();
    for (entity, results) in all.iter() {
        for r in results.iter().take(count(n)) {
            if values_only {
                out.push(to_dynamic(&r.value)?);
            } else {
                let mut m = Map::new();
                m.insert("entity_id".into(), Dynamic::from(entity.clone()));
                m.insert("ts".into(), Dynamic::from(r.ts));
                m.insert("td".into(), Dynamic::from(r.td));
                m.insert("value".into(), to_dynamic(&r.value)?);
                m.insert("worker".into(), Dynamic::from(r.worker.clone()));
                out.push(Dynamic::from(m));
            }
        }
    }
    Ok(out)
}

pub(super) fn register(engine: &mut Engine) {
    engine
        .register_fn("capture", capture)
        .register_fn("capture", |name: ImmutableString, value: Dynamic| {
            record(name.to_string(), &value);
            value
        })
        .register_fn("value_series", || value_series(1))
        .register_fn("value_series", value_series)
        .register_fn("alert_series", alert_series)
        .register_fn("monotonic", || monotonic(2, true, false))
        .register_fn("monotonic", |n: INT| monotonic(n, true, false))
        .register_fn("monotonic", monotonic)
        .register_fn("entity_values", || entity_data(1, true))
        .register_fn("entity_values", |n: INT| entity_data(n, true))
        .register_fn("entity_results", || entity_data(1, false))
        .register_fn("entity_results", |n: INT| entity_data(n, false));
    for name in ["avg", "delta", "median", "first", "min", "max", "sum"] {
        let fname = format!("timeseries_{name}");
        engine.register_fn(
            &fname,
            move |ctx: NativeCallContext, spec: ImmutableString| {
                timeseries(&ctx, name, &spec, &Dynamic::UNIT, 0.5)
            },
        );
        engine.register_fn(
            &fname,
            move |ctx: NativeCallContext, spec: ImmutableString, key: Dynamic| {
                timeseries(&ctx, name, &spec, &key, 0.5)
            },
        );
    }
    engine.register_fn(
        "timeseries_percentile",
        |ctx: NativeCallContext, spec: ImmutableString, p: Dynamic| {
            let p = number(&p, "timeseries_percentile()")?;
            timeseries(&ctx, "percentile", &spec, &Dynamic::UNIT, p)
        },
    );
    engine.register_fn(
        "timeseries_percentile",
        |ctx: NativeCallContext, spec: ImmutableString, p: Dynamic, key: Dynamic| {
            let p = number(&p, "timeseries_percentile()")?;
            timeseries(&ctx, "percentile", &spec, &key, p)
        },
    );
}
