//! A direct evaluator for the common shape of conditions.
//!
//! Most ZMON conditions are a comparison of `value`, a capture, a few
//! builtins and parameters (`capture(x=float(value)) > limit`). Those are
//! evaluated straight from the parsed Python, calling the same helper
//! functions the Rhai translation calls, so the result is the same; only
//! the engine's per-call overhead (scope, function resolution) is gone.
//! Anything else (lambdas, methods, probes, history helpers) runs in Rhai.

use std::cell::OnceCell;
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
    /// A dict method: `value.values()`, `value.get('a', 0)`.
    Method(DictMethod, Box<Fast>, Vec<Fast>),
    Capture(Option<String>, Box<Fast>),
}

/// The dict methods conditions use most; string methods run in Rhai.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DictMethod {
    Get,
    Keys,
    Values,
    Items,
}

impl DictMethod {
    /// The method, if `arity` positional arguments suit it.
    fn parse(name: &str, arity: usize) -> Option<Self> {
        match (name, arity) {
            ("get", 1 | 2) => Some(Self::Get),
            ("keys", 0) => Some(Self::Keys),
            ("values", 0) => Some(Self::Values),
            ("items", 0) => Some(Self::Items),
            _ => None,
        }
    }

    /// The helper the Rhai translation calls, for error messages.
    fn helper(self) -> &'static str {
        match self {
            Self::Get => "py_get",
            Self::Keys => "py_keys",
            Self::Values => "py_values",
            Self::Items => "py_items",
        }
    }
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
        Expr::List(items) => {
            let items: Vec<Fast> = items.iter().map(compile).collect::<Option<_>>()?;
            // A literal list (`in [500, 502, 503]`) is built once, here.
            let constants: Option<rhai::Array> = items
                .iter()
                .map(|i| match i {
                    Fast::Const(c) => Some(c.clone()),
                    _ => None,
                })
                .collect();
            match constants {
                Some(array) => Fast::Const(Dynamic::from_array(array)),
                None => Fast::List(items),
            }
        }
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
            if let Expr::Attr(receiver, method) = func.as_ref() {
                let method = DictMethod::parse(method, args.len())?;
                if !kwargs.is_empty() {
                    return None;
                }
                let args = args.iter().map(compile).collect::<Option<_>>()?;
                return Some(Fast::Method(method, boxed(receiver)?, args));
            }
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

/// What a fast condition sees. `value` stays JSON: `value['load']` or
/// `len(value)` read it where it lies, and the whole value is converted
/// for the engine's helpers only when the condition uses it whole (once).
pub struct Env<'a> {
    value: &'a Value,
    value_dynamic: OnceCell<Dynamic>,
    entity: &'a Map<String, Value>,
    params: &'a Map<String, Value>,
    captures: &'a mut Map<String, Value>,
}

impl<'a> Env<'a> {
    pub fn new(
        value: &'a Value,
        entity: &'a Map<String, Value>,
        params: &'a Map<String, Value>,
        captures: &'a mut Map<String, Value>,
    ) -> Self {
        Self {
            value,
            value_dynamic: OnceCell::new(),
            entity,
            params,
            captures,
        }
    }

    fn value(&self) -> Dynamic {
        self.value_dynamic
            .get_or_init(|| convert::to_dynamic(self.value))
            .clone()
    }
}

/// A part of the condition's input, still as JSON.
#[derive(Clone, Copy)]
enum Json<'a> {
    Value(&'a Value),
    Object(&'a Map<String, Value>),
}

impl<'a> Json<'a> {
    fn object(self) -> Option<&'a Map<String, Value>> {
        match self {
            Self::Object(m) | Self::Value(Value::Object(m)) => Some(m),
            Self::Value(_) => None,
        }
    }

    /// `self[key]` for a constant key, where the index finds something;
    /// everything else (errors included) is left to the helpers.
    fn index(self, key: &Dynamic) -> Option<&'a Value> {
        if let Some(m) = self.object() {
            return m.get(key.read_lock::<ImmutableString>()?.as_str());
        }
        let Self::Value(Value::Array(items)) = self else {
            return None;
        };
        let i = key.as_int().ok()?;
        let at = if i < 0 {
            i.checked_add(items.len() as i64)?
        } else {
            i
        };
        items.get(usize::try_from(at).ok()?)
    }

    fn to_dynamic(self) -> Dynamic {
        match self {
            Self::Value(v) => convert::to_dynamic(v),
            Self::Object(m) => Dynamic::from_map(convert::map_to_rhai(m)),
        }
    }
}

/// The JSON an expression names when it is `value`, `entity` or a chain of
/// constant indexes into them that all exist.
fn json_at<'a>(expr: &Fast, env: &Env<'a>) -> Option<Json<'a>> {
    match expr {
        Fast::Value => Some(Json::Value(env.value)),
        Fast::Entity => Some(Json::Object(env.entity)),
        Fast::Index(obj, idx) => {
            let Fast::Const(key) = idx.as_ref() else {
                return None;
            };
            json_at(obj, env)?.index(key).map(Json::Value)
        }
        _ => None,
    }
}

/// `len()` of JSON, as the helper counts: characters, items or keys.
fn json_len(json: Json<'_>) -> Option<Dynamic> {
    let len = match json {
        Json::Object(m) | Json::Value(Value::Object(m)) => m.len(),
        Json::Value(Value::Array(items)) => items.len(),
        Json::Value(Value::String(s)) => s.chars().count(),
        Json::Value(_) => return None,
    };
    Some(Dynamic::from(len as rhai::INT))
}

fn dict_method(method: DictMethod, receiver: Dynamic, args: Vec<Dynamic>) -> Result<Dynamic> {
    let Some(map) = receiver.read_lock::<RhaiMap>() else {
        return Err(rhai::EvalAltResult::ErrorFunctionNotFound(
            format!("{} ({})", method.helper(), receiver.type_name()),
            rhai::Position::NONE,
        )
        .into());
    };
    let key = |map: &RhaiMap| -> Result<Dynamic> {
        let Some(key) = args.first().and_then(|k| k.read_lock::<ImmutableString>()) else {
            return Err(rhai::EvalAltResult::ErrorFunctionNotFound(
                format!("{} (map, non-string key)", method.helper()),
                rhai::Position::NONE,
            )
            .into());
        };
        Ok(map
            .get(key.as_str())
            .cloned()
            .unwrap_or_else(|| args.get(1).cloned().unwrap_or(Dynamic::UNIT)))
    };
    Ok(match method {
        DictMethod::Get => key(&map)?,
        DictMethod::Keys => Dynamic::from_array(
            map.keys()
                .map(|k| Dynamic::from(ImmutableString::from(k.as_str())))
                .collect(),
        ),
        DictMethod::Values => Dynamic::from_array(map.values().cloned().collect()),
        DictMethod::Items => Dynamic::from_array(
            map.iter()
                .map(|(k, v)| {
                    Dynamic::from_array(vec![
                        Dynamic::from(ImmutableString::from(k.as_str())),
                        v.clone(),
                    ])
                })
                .collect(),
        ),
    })
}

/// A dict method straight on JSON; `None` (not a dict, a key that is not
/// a string) leaves it to [`dict_method`] and its errors.
fn json_dict_method(method: DictMethod, json: Json<'_>, args: &[Dynamic]) -> Option<Dynamic> {
    let map = json.object()?;
    let string = |v: &str| Dynamic::from(ImmutableString::from(v));
    Some(match method {
        DictMethod::Get => {
            let key = args.first()?.read_lock::<ImmutableString>()?;
            match map.get(key.as_str()) {
                Some(v) => convert::to_dynamic(v),
                None => args.get(1).cloned().unwrap_or(Dynamic::UNIT),
            }
        }
        DictMethod::Keys => Dynamic::from_array(map.keys().map(|k| string(k)).collect()),
        DictMethod::Values => Dynamic::from_array(map.values().map(convert::to_dynamic).collect()),
        DictMethod::Items => Dynamic::from_array(
            map.iter()
                .map(|(k, v)| Dynamic::from_array(vec![string(k), convert::to_dynamic(v)]))
                .collect(),
        ),
    })
}

type Error = Box<rhai::EvalAltResult>;
type Result<T> = std::result::Result<T, Error>;

fn call(builtin: Builtin, args: Vec<Dynamic>) -> Result<Dynamic> {
    let mut args = args.into_iter();
    let first = args.next();
    let second = args.next();
    let one = |name: &str| -> Result<Dynamic> {
        first.ok_or_else(|| format!("{name}() is missing an argument").into())
    };
    match builtin {
        Builtin::Float => py::py_float(one("float")?).map(Dynamic::from),
        Builtin::Int => py::py_int(one("int")?).map(Dynamic::from),
        Builtin::Str => Ok(Dynamic::from(py::py_str(&one("str")?))),
        Builtin::Bool => Ok(Dynamic::from(truthy(&one("bool")?))),
        Builtin::Len => py::py_len(one("len")?).map(Dynamic::from),
        Builtin::Abs => py::abs(one("abs")?),
        Builtin::Min => py::extreme(one("min")?, std::cmp::Ordering::Less, "min()"),
        Builtin::Max => py::extreme(one("max")?, std::cmp::Ordering::Greater, "max()"),
        Builtin::Round => py::round(one("round")?, second.unwrap_or(Dynamic::UNIT)),
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
        CmpOp::In => py::contains_ref(l, r)?,
        CmpOp::NotIn => !py::contains_ref(l, r)?,
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
        Fast::Value => env.value(),
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
            for (i, (op, right)) in rest.iter().enumerate() {
                // Constants (a literal list above all) are compared where
                // they lie, not copied per evaluation.
                let evaluated;
                let right = match right {
                    Fast::Const(c) => c,
                    other => {
                        evaluated = eval(other, env)?;
                        &evaluated
                    }
                };
                if !compare(*op, &left, right)? {
                    return Ok(Dynamic::from(false));
                }
                if i + 1 < rest.len() {
                    left = right.clone();
                }
            }
            Dynamic::from(true)
        }
        Fast::Index(obj, idx) => match json_at(expr, env) {
            Some(found) => found.to_dynamic(),
            None => py::index(eval(obj, env)?, eval(idx, env)?)?,
        },
        Fast::IfElse(cond, then, otherwise) => {
            if truthy(&eval(cond, env)?) {
                eval(then, env)?
            } else {
                eval(otherwise, env)?
            }
        }
        Fast::Call(Builtin::Len, args)
            if let Some(len) = args
                .first()
                .filter(|_| args.len() == 1)
                .and_then(|a| json_at(a, env))
                .and_then(json_len) =>
        {
            len
        }
        Fast::Method(method, receiver, args) => {
            let args = args
                .iter()
                .map(|a| eval(a, env))
                .collect::<Result<Vec<_>>>()?;
            match json_at(receiver, env).and_then(|j| json_dict_method(*method, j, &args)) {
                Some(v) => v,
                None => dict_method(*method, eval(receiver, env)?, args)?,
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
        "value.get('a')",
        "value.get('a', 0) > 0",
        "value.get(1)",
        "max(value.values()) > 1",
        "'a' in value.keys()",
        "len(value.items()) == 2",
        "value.items()[0][1]",
        "value['b'][-1] == 2",
        "value['b'][5]",
        "value[1]",
        "len(value['a'])",
        "len(entity) == 2",
        "entity.get('type') == 'host'",
        "{'a': value}.get('a') == value",
        "value in [1, 'a', None]",
        "value not in [[1, 2, 3], {'a': 1}]",
        "0 < value < 10 < 11",
        "value < [1, 2][0] + 5",
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
            "value.lower() == 'x'",
            "value.get(k='a')",
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
