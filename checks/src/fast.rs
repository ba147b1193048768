//! A direct evaluator for the common shape of conditions.
//!
//! Most ZMON conditions are a comparison of `value`, a capture, a few
//! builtins and parameters (`capture(x=float(value)) > limit`). Those are
//! evaluated straight from the parsed Python, calling the same helper
//! functions the Rhai translation calls, so the result is the same; only
//! the engine's per-call overhead (scope, function resolution) is gone.
//! Anything else (lambdas, methods, probes, history helpers) runs in Rhai.

use std::cmp::Ordering;

use rhai::{Dynamic, ImmutableString, Map as RhaiMap};
use serde_json::{Map, Value};

use crate::builtins::history::unnamed_capture;
use crate::builtins::python as py;
use crate::builtins::truthy;
use crate::convert;
use crate::python::Expr;
use crate::python::parser::{BinOp, CmpOp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Float,
    Int,
    Str,
    Bool,
    Len,
    Abs,
    Min,
    Max,
    Round,
    Sum,
    Avg,
    Sorted,
    List,
    Any,
    All,
    Empty,
}

impl Builtin {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "float" => Self::Float,
            "int" | "long" => Self::Int,
            "str" | "unicode" => Self::Str,
            "bool" => Self::Bool,
            "len" => Self::Len,
            "abs" => Self::Abs,
            "min" => Self::Min,
            "max" => Self::Max,
            "round" => Self::Round,
            "sum" => Self::Sum,
            "avg" => Self::Avg,
            "sorted" => Self::Sorted,
            "list" => Self::List,
            "any" => Self::Any,
            "all" => Self::All,
            "empty" => Self::Empty,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub enum Fast {
    Const(Dynamic),
    Value,
    Entity,
    Params,
    /// A parameter, looked up by name when evaluated.
    Name(String),
    List(Vec<Fast>),
    Dict(Vec<(ImmutableString, Fast)>),
    Neg(Box<Fast>),
    Not(Box<Fast>),
    Binary(BinOp, Box<Fast>, Box<Fast>),
    And(Box<Fast>, Box<Fast>),
    Or(Box<Fast>, Box<Fast>),
    Compare(Box<Fast>, Vec<(CmpOp, Fast)>),
    Index(Box<Fast>, Box<Fast>),
    IfElse(Box<Fast>, Box<Fast>, Box<Fast>),
    Call(Builtin, Vec<Fast>),
    Capture(Option<String>, Box<Fast>),
}

/// The fast form of an expression, if every part of it has one.
pub fn compile(expr: &Expr) -> Option<Fast> {
    let boxed = |e: &Expr| compile(e).map(Box::new);
    Some(match expr {
        Expr::Int(i) => Fast::Const(Dynamic::from(*i)),
        Expr::Float(f) => Fast::Const(Dynamic::from(*f)),
        Expr::Str(s) => Fast::Const(Dynamic::from(ImmutableString::from(s.as_str()))),
        Expr::Bool(b) => Fast::Const(Dynamic::from(*b)),
        Expr::None => Fast::Const(Dynamic::UNIT),
        Expr::Name(n) => match n.as_str() {
            "value" => Fast::Value,
            "entity" => Fast::Entity,
            "params" => Fast::Params,
            _ if n.contains("__") => return None,
            _ => Fast::Name(n.clone()),
        },
        Expr::List(items) => Fast::List(items.iter().map(compile).collect::<Option<_>>()?),
        Expr::Dict(entries) => Fast::Dict(
            entries
                .iter()
                .map(|(k, v)| match k {
                    Expr::Str(key) => compile(v).map(|v| (ImmutableString::from(key.as_str()), v)),
                    _ => None,
                })
                .collect::<Option<_>>()?,
        ),
        Expr::Neg(e) => Fast::Neg(boxed(e)?),
        Expr::Not(e) => Fast::Not(boxed(e)?),
        Expr::Binary(op, l, r) => Fast::Binary(*op, boxed(l)?, boxed(r)?),
        Expr::And(l, r) => Fast::And(boxed(l)?, boxed(r)?),
        Expr::Or(l, r) => Fast::Or(boxed(l)?, boxed(r)?),
        Expr::Compare(first, rest) => Fast::Compare(
            boxed(first)?,
            rest.iter()
                .map(|(op, e)| compile(e).map(|f| (*op, f)))
                .collect::<Option<_>>()?,
        ),
        Expr::Index(obj, idx) => Fast::Index(boxed(obj)?, boxed(idx)?),
        Expr::IfElse {
            cond,
            then,
            otherwise,
        } => Fast::IfElse(boxed(cond)?, boxed(then)?, boxed(otherwise)?),
        Expr::Call {
            func, args, kwargs, ..
        } => {
            let Expr::Name(name) = func.as_ref() else {
                return None;
            };
            if name == "capture" {
                return match (args.as_slice(), kwargs.as_slice()) {
                    ([value], []) => Some(Fast::Capture(None, boxed(value)?)),
                    ([], [(key, value)]) => Some(Fast::Capture(Some(key.clone()), boxed(value)?)),
                    _ => None,
                };
            }
            let builtin = Builtin::parse(name)?;
            if !kwargs.is_empty() {
                return None;
            }
            let mut compiled: Vec<Fast> = args.iter().map(compile).collect::<Option<_>>()?;
            if matches!(builtin, Builtin::Min | Builtin::Max) && compiled.len() > 1 {
                compiled = vec![Fast::List(compiled)];
            }
            Fast::Call(builtin, compiled)
        }
        Expr::Attr(..) | Expr::Lambda(..) => return None,
    })
}

/// What a fast condition sees.
pub struct Env<'a> {
    pub value: Dynamic,
    pub entity: &'a Map<String, Value>,
    pub params: &'a Map<String, Value>,
    pub captures: &'a mut Map<String, Value>,
}

type Error = Box<rhai::EvalAltResult>;
type Result<T> = std::result::Result<T, Error>;

fn arg(args: &[Dynamic], i: usize, name: &str) -> Result<Dynamic> {
    args.get(i)
        .cloned()
        .ok_or_else(|| format!("{name}() is missing an argument").into())
}

fn call(builtin: Builtin, args: Vec<Dynamic>) -> Result<Dynamic> {
    let one = |name: &str| arg(&args, 0, name);
    match builtin {
        Builtin::Float => py::py_float(one("float")?).map(Dynamic::from),
        Builtin::Int => py::py_int(one("int")?).map(Dynamic::from),
        Builtin::Str => Ok(Dynamic::from(py::py_str(&one("str")?))),
        Builtin::Bool => Ok(Dynamic::from(truthy(&one("bool")?))),
        Builtin::Len => py::py_len(one("len")?).map(Dynamic::from),
        Builtin::Abs => py::abs(one("abs")?),
        Builtin::Min => py::extreme(one("min")?, std::cmp::Ordering::Less, "min()"),
        Builtin::Max => py::extreme(one("max")?, std::cmp::Ordering::Greater, "max()"),
        Builtin::Round => py::round(one("round")?, args.get(1).cloned().unwrap_or(Dynamic::UNIT)),
        Builtin::Sum => py::sum(one("sum")?),
        Builtin::Avg => py::avg(one("avg")?),
        Builtin::Sorted => py::sorted(one("sorted")?).map(Dynamic::from_array),
        Builtin::List => py::items(&one("list")?, "list()").map(Dynamic::from_array),
        Builtin::Any => {
            py::items(&one("any")?, "any()").map(|l| Dynamic::from(l.iter().any(truthy)))
        }
        Builtin::All => {
            py::items(&one("all")?, "all()").map(|l| Dynamic::from(l.iter().all(truthy)))
        }
        Builtin::Empty => Ok(Dynamic::from(!truthy(&one("empty")?))),
    }
}

/// How Rhai orders two values: numbers, strings and booleans in order,
/// values of different types (and None) never, and lists or dicts not at
/// all. NaN is unordered and unequal to everything, as in Python; Rhai's
/// own operators get that wrong when an int meets a NaN.
fn order(op: CmpOp, l: &Dynamic, r: &Dynamic) -> Result<Option<Ordering>> {
    if let (Ok(x), Ok(y)) = (l.as_int(), r.as_int()) {
        return Ok(Some(x.cmp(&y)));
    }
    if py::is_number(l) && py::is_number(r) {
        let as_float = |v: &Dynamic| {
            v.as_float()
                .unwrap_or_else(|_| v.as_int().unwrap_or(0) as f64)
        };
        return Ok(as_float(l).partial_cmp(&as_float(r)));
    }
    if let (Some(x), Some(y)) = (
        l.read_lock::<ImmutableString>(),
        r.read_lock::<ImmutableString>(),
    ) {
        return Ok(Some(x.as_str().cmp(y.as_str())));
    }
    if let (Ok(x), Ok(y)) = (l.as_bool(), r.as_bool()) {
        return Ok(Some(x.cmp(&y)));
    }
    if l.type_id() == r.type_id() && !l.is_unit() {
        return Err(rhai::EvalAltResult::ErrorFunctionNotFound(
            format!("{} ({}, {})", symbol(op), l.type_name(), r.type_name()),
            rhai::Position::NONE,
        )
        .into());
    }
    Ok(None)
}

fn symbol(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
        CmpOp::Eq | CmpOp::Is => "==",
        CmpOp::Ne | CmpOp::IsNot => "!=",
        CmpOp::In => "in",
        CmpOp::NotIn => "not in",
    }
}

fn compare(op: CmpOp, l: &Dynamic, r: &Dynamic) -> Result<bool> {
    use Ordering::*;
    Ok(match op {
        CmpOp::Eq | CmpOp::Is => equal(l, r),
        CmpOp::Ne | CmpOp::IsNot => !equal(l, r),
        CmpOp::Lt => order(op, l, r)? == Some(Less),
        CmpOp::Le => matches!(order(op, l, r)?, Some(Less | Equal)),
        CmpOp::Gt => order(op, l, r)? == Some(Greater),
        CmpOp::Ge => matches!(order(op, l, r)?, Some(Greater | Equal)),
        CmpOp::In => py::contains(l.clone(), r.clone())?,
        CmpOp::NotIn => !py::contains(l.clone(), r.clone())?,
    })
}

/// Rhai's `==`: numbers by value (NaN equals nothing), then the helpers'
/// structural equality.
fn equal(l: &Dynamic, r: &Dynamic) -> bool {
    if py::is_number(l) && py::is_number(r) {
        return order(CmpOp::Eq, l, r).ok().flatten() == Some(Ordering::Equal);
    }
    py::equal(l, r)
}

/// Joined strings and lists obey the sandbox's size limits, as in Rhai.
fn within_limits(v: Dynamic) -> Result<Dynamic> {
    let engine = crate::engine::shared();
    let too_large = |what: &str| {
        Err(rhai::EvalAltResult::ErrorDataTooLarge(what.into(), rhai::Position::NONE).into())
    };
    if let Some(s) = v.read_lock::<ImmutableString>()
        && s.chars().count() > engine.max_string_size()
    {
        return too_large("Length of string");
    }
    if let Some(a) = v.read_lock::<rhai::Array>()
        && a.len() > engine.max_array_size()
    {
        return too_large("Size of array");
    }
    Ok(v)
}

pub fn eval(expr: &Fast, env: &mut Env<'_>) -> Result<Dynamic> {
    Ok(match expr {
        Fast::Const(c) => c.clone(),
        Fast::Value => env.value.clone(),
        Fast::Entity => Dynamic::from_map(convert::map_to_rhai(env.entity)),
        Fast::Params => Dynamic::from_map(convert::map_to_rhai(env.params)),
        Fast::Name(n) => match env.params.get(n) {
            Some(v) => convert::to_dynamic(v),
            None => {
                return Err(rhai::EvalAltResult::ErrorVariableNotFound(
                    n.clone(),
                    rhai::Position::NONE,
                )
                .into());
            }
        },
        Fast::List(items) => {
            Dynamic::from_array(items.iter().map(|i| eval(i, env)).collect::<Result<_>>()?)
        }
        Fast::Dict(entries) => {
            let mut map = RhaiMap::new();
            for (k, v) in entries {
                map.insert(k.as_str().into(), eval(v, env)?);
            }
            Dynamic::from_map(map)
        }
        Fast::Neg(e) => py::neg(eval(e, env)?)?,
        Fast::Not(e) => Dynamic::from(!truthy(&eval(e, env)?)),
        Fast::Binary(op, l, r) => {
            let (l, r) = (eval(l, env)?, eval(r, env)?);
            match op {
                BinOp::Add => py::add(l, r).and_then(within_limits),
                BinOp::Sub => py::sub(l, r),
                BinOp::Mul => py::mul(l, r),
                BinOp::Div => py::div(l, r).map(Dynamic::from),
                BinOp::FloorDiv => py::floordiv(l, r),
                BinOp::Mod => py::modulo(l, r),
                BinOp::Pow => py::power(l, r),
            }?
        }
        Fast::And(l, r) => {
            let l = eval(l, env)?;
            if truthy(&l) { eval(r, env)? } else { l }
        }
        Fast::Or(l, r) => {
            let l = eval(l, env)?;
            if truthy(&l) { l } else { eval(r, env)? }
        }
        Fast::Compare(first, rest) => {
            let mut left = eval(first, env)?;
            for (op, right) in rest {
                let right = eval(right, env)?;
                if !compare(*op, &left, &right)? {
                    return Ok(Dynamic::from(false));
                }
                left = right;
            }
            Dynamic::from(true)
        }
        Fast::Index(obj, idx) => py::index(eval(obj, env)?, eval(idx, env)?)?,
        Fast::IfElse(cond, then, otherwise) => {
            if truthy(&eval(cond, env)?) {
                eval(then, env)?
            } else {
                eval(otherwise, env)?
            }
        }
        Fast::Call(builtin, args) => {
            let args = args
                .iter()
                .map(|a| eval(a, env))
                .collect::<Result<Vec<_>>>()?;
            call(*builtin, args)?
        }
        Fast::Capture(name, e) => {
            let value = eval(e, env)?;
            let key = match name {
                Some(n) => n.clone(),
                None => unnamed_capture(env.captures),
            };
            env.captures
                .insert(key, convert::to_json(&value).unwrap_or(Value::Null));
            value
        }
    })
}

#[cfg(test)]
mod tests {
    //! The fast path must agree with Rhai on every condition it takes.
    use std::collections::BTreeMap;
    use std::time::Duration;

    use serde_json::{Map, Value, json};
    use zmon_core::alert::Parameter;

    use crate::compile::compile;
    use crate::context::History;
    use crate::eval::{ConditionInput, ConditionOutcome, evaluate_condition};

    const CONDITIONS: &[&str] = &[
        "value > 5",
        "value >= 5.0",
        "value < limit",
        "capture(x=float(value)) > limit",
        "capture(value) and capture(value)",
        "value == 5",
        "value != '5'",
        "value == True",
        "value is None",
        "value is not None",
        "value in [1, 2, 'a']",
        "'a' in value",
        "'a' not in value",
        "value['a'] > 1",
        "value[0] == 1",
        "value[-1]",
        "len(value) > 2",
        "not value",
        "-value < 0",
        "value + 1 > 2",
        "value + value",
        "value - 1",
        "value * 2 > 3",
        "value / 2 > 1",
        "value // 2 == 1",
        "value % 3 == 1",
        "value ** 2 > 10",
        "1 < value < 10",
        "abs(value) > 1",
        "min(value) < 1",
        "max(value, 3) > 4",
        "min(1, value)",
        "round(value) == 2",
        "round(value, 1) > 2.5",
        "sum(value) > 3",
        "avg(value) > 1",
        "sorted(value)[0] == 1",
        "any(value)",
        "all(value)",
        "empty(value)",
        "list(value)",
        "int(value) > 1",
        "str(value) == '5'",
        "bool(value)",
        "value if value else 3",
        "value or 'fallback'",
        "value and 'yes'",
        "{'a': value}['a'] == value",
        "True and [value, 1][0]",
        "value < value",
        "value <= value",
        "(value is None) < True",
        "value + 'x'",
        "entity['id'] == 'host-1'",
        "entity['type'] in ['host', 'pod']",
        "params['limit'] < value",
        "unknown > 1",
        "value['missing']",
        "value > 'text'",
        "value < [1]",
        "value == [1, 2, 3]",
        "value == {'a': 1}",
        "float()",
    ];

    fn values() -> Vec<Value> {
        vec![
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(1),
            json!(3),
            json!(5),
            json!(7.5),
            json!(-2),
            json!(9_223_372_036_854_775_807i64),
            json!(""),
            json!("5"),
            json!("abc"),
            json!([]),
            json!([1, 2, 3]),
            json!([1, "a", null]),
            json!({}),
            json!({"a": 1, "b": [1, 2]}),
            json!({"a": "x"}),
        ]
    }

    fn run(condition: &str, value: &Value, fast: bool) -> ConditionOutcome {
        let mut compiled = compile(condition).expect("condition compiles");
        if !fast {
            compiled.fast = None;
        }
        let mut entity = Map::new();
        entity.insert("id".into(), json!("host-1"));
        entity.insert("type".into(), json!("host"));
        let mut parameters = BTreeMap::new();
        parameters.insert(
            "limit".to_string(),
            serde_json::from_value::<Parameter>(json!({"value": 4, "type": "int"}))
                .expect("parameter"),
        );
        evaluate_condition(
            &compiled,
            ConditionInput {
                value,
                entity: &entity,
                parameters: &parameters,
                history: History::default(),
                timeout: Duration::from_secs(1),
            },
        )
    }

    #[test]
    fn every_listed_condition_takes_the_fast_path() {
        for condition in CONDITIONS {
            let compiled = compile(condition).expect("condition compiles");
            assert!(compiled.fast.is_some(), "{condition} should be fast");
        }
        for slow in [
            "value.get('a')",
            "alert_series(lambda v: v > 1, 3)",
            "timeseries_avg('5m') > 1",
        ] {
            let compiled = compile(slow).expect("condition compiles");
            assert!(compiled.fast.is_none(), "{slow} should run in Rhai");
        }
    }

    #[test]
    fn joining_obeys_the_sandbox_size_limits() {
        let big = Value::String("x".repeat(3 * 1024 * 1024));
        for fast in [true, false] {
            let outcome = run("len(value + value) > 0", &big, fast);
            let error = outcome.error.unwrap_or_default();
            assert!(error.contains("too large"), "fast={fast}: {error}");
        }
    }

    #[test]
    fn nan_follows_python() {
        for (condition, expected) in [
            ("float('nan') <= value", false),
            ("float('nan') > value", false),
            ("float('nan') == float('nan')", false),
            ("value != float('nan')", true),
        ] {
            for value in [json!(0), json!(7.5)] {
                let outcome = run(condition, &value, true);
                assert_eq!(outcome.error, None, "{condition}");
                assert_eq!(outcome.is_alert, expected, "{condition} with {value}");
            }
        }
    }

    #[test]
    fn the_fast_path_agrees_with_rhai() {
        let mut disagreements = Vec::new();
        for condition in CONDITIONS {
            for value in values() {
                let fast = run(condition, &value, true);
                let rhai = run(condition, &value, false);
                let same = fast.is_alert == rhai.is_alert
                    && fast.error.is_some() == rhai.error.is_some()
                    && (fast.error.is_some() || fast.captures == rhai.captures);
                if !same {
                    disagreements.push(format!(
                        "{condition} with {value}: fast {fast:?} / rhai {rhai:?}"
                    ));
                }
            }
        }
        assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    }
}
