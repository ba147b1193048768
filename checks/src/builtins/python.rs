//! Python semantics the translated conditions rely on: truthiness, true
//! division, `in`, the builtins and the common string and dict methods.

use std::cmp::Ordering;

use rhai::{Array, Dynamic, Engine, FLOAT, INT, ImmutableString, Map};

use super::{FnResult, fail};

/// Python's truthiness: `None`, `False`, zero, and empty strings, lists and
/// dicts are false; everything else is true.
pub(crate) fn truthy(v: &Dynamic) -> bool {
    if v.is_unit() {
        return false;
    }
    if let Ok(b) = v.as_bool() {
        return b;
    }
    if let Ok(i) = v.as_int() {
        return i != 0;
    }
    if let Ok(f) = v.as_float() {
        return f != 0.0;
    }
    if let Some(s) = v.read_lock::<ImmutableString>() {
        return !s.is_empty();
    }
    if let Some(a) = v.read_lock::<Array>() {
        return !a.is_empty();
    }
    if let Some(m) = v.read_lock::<Map>() {
        return !m.is_empty();
    }
    true
}

pub(crate) fn number(v: &Dynamic, what: &str) -> FnResult<FLOAT> {
    if let Ok(i) = v.as_int() {
        return Ok(i as FLOAT);
    }
    if let Ok(f) = v.as_float() {
        return Ok(f);
    }
    if let Ok(b) = v.as_bool() {
        return Ok(if b { 1.0 } else { 0.0 });
    }
    fail(format!("{what} needs a number, not {}", v.type_name()))
}

pub(crate) fn is_number(v: &Dynamic) -> bool {
    v.is_int() || v.is_float()
}

/// Orders two values as Python does for numbers and for strings.
pub(crate) fn compare(a: &Dynamic, b: &Dynamic) -> FnResult<Ordering> {
    if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int()) {
        return Ok(x.cmp(&y));
    }
    if is_number(a) && is_number(b) {
        let (x, y) = (number(a, "compare")?, number(b, "compare")?);
        return Ok(x.partial_cmp(&y).unwrap_or(Ordering::Equal));
    }
    if let (Some(x), Some(y)) = (
        a.read_lock::<ImmutableString>(),
        b.read_lock::<ImmutableString>(),
    ) {
        return Ok(x.as_str().cmp(y.as_str()));
    }
    fail(format!(
        "cannot compare {} with {}",
        a.type_name(),
        b.type_name()
    ))
}

/// Python's `==` for the JSON-like values conditions handle.
pub(crate) fn equal(a: &Dynamic, b: &Dynamic) -> bool {
    if is_number(a) && is_number(b) {
        return compare(a, b).is_ok_and(|o| o == Ordering::Equal);
    }
    if a.is_unit() || b.is_unit() {
        return a.is_unit() && b.is_unit();
    }
    if let (Ok(x), Ok(y)) = (a.as_bool(), b.as_bool()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (
        a.read_lock::<ImmutableString>(),
        b.read_lock::<ImmutableString>(),
    ) {
        return *x == *y;
    }
    if let (Some(x), Some(y)) = (a.read_lock::<Array>(), b.read_lock::<Array>()) {
        return x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| equal(p, q));
    }
    if let (Some(x), Some(y)) = (a.read_lock::<Map>(), b.read_lock::<Map>()) {
        return x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)));
    }
    false
}

pub(crate) fn items(v: &Dynamic, what: &str) -> FnResult<Array> {
    if let Some(a) = v.read_lock::<Array>() {
        return Ok(a.clone());
    }
    if let Some(m) = v.read_lock::<Map>() {
        return Ok(m
            .keys()
            .map(|k| Dynamic::from(ImmutableString::from(k.as_str())))
            .collect());
    }
    if let Some(s) = v.read_lock::<ImmutableString>() {
        return Ok(s.chars().map(|c| Dynamic::from(c.to_string())).collect());
    }
    fail(format!(
        "{what} needs a list, dict or string, not {}",
        v.type_name()
    ))
}

/// [`items`] of a value the caller gives up: a list is taken, not copied.
pub(crate) fn into_items(v: Dynamic, what: &str) -> FnResult<Array> {
    if v.is_array() {
        return v
            .into_array()
            .or_else(|_| fail(format!("{what} needs a list")));
    }
    items(&v, what)
}

pub(crate) fn py_str(v: &Dynamic) -> String {
    if v.is_unit() {
        return "None".into();
    }
    if let Ok(b) = v.as_bool() {
        return if b { "True" } else { "False" }.into();
    }
    if let Some(s) = v.read_lock::<ImmutableString>() {
        return s.to_string();
    }
    v.to_string()
}

pub(crate) fn py_int(v: Dynamic) -> FnResult<INT> {
    if let Ok(i) = v.as_int() {
        return Ok(i);
    }
    if let Ok(f) = v.as_float() {
        if !f.is_finite() || f.abs() >= 9.2e18 {
            return fail(format!("int() cannot convert {f}"));
        }
        return Ok(f.trunc() as INT);
    }
    if let Ok(b) = v.as_bool() {
        return Ok(INT::from(b));
    }
    if let Some(s) = v.read_lock::<ImmutableString>() {
        return match s.trim().parse::<INT>() {
            Ok(i) => Ok(i),
            Err(_) => fail(format!("int() cannot convert '{}'", s.as_str())),
        };
    }
    fail(format!("int() cannot convert {}", v.type_name()))
}

pub(crate) fn py_float(v: Dynamic) -> FnResult<FLOAT> {
    if let Some(s) = v.read_lock::<ImmutableString>() {
        return match s.trim().to_ascii_lowercase().as_str() {
            "nan" => Ok(FLOAT::NAN),
            "inf" | "infinity" => Ok(FLOAT::INFINITY),
            "-inf" | "-infinity" => Ok(FLOAT::NEG_INFINITY),
            t => t
                .parse::<FLOAT>()
                .or_else(|_| fail(format!("float() cannot convert '{}'", s.as_str()))),
        };
    }
    number(&v, "float()")
}

pub(crate) fn py_len(v: Dynamic) -> FnResult<INT> {
    if let Some(s) = v.read_lock::<ImmutableString>() {
        return Ok(s.chars().count() as INT);
    }
    if let Some(a) = v.read_lock::<Array>() {
        return Ok(a.len() as INT);
    }
    if let Some(m) = v.read_lock::<Map>() {
        return Ok(m.len() as INT);
    }
    fail(format!(
        "len() needs a string, list or dict, not {}",
        v.type_name()
    ))
}

pub(crate) fn extreme(v: Dynamic, want: Ordering, what: &str) -> FnResult<Dynamic> {
    let list = into_items(v, what)?;
    let mut best: Option<Dynamic> = None;
    for item in list {
        best = Some(match best {
            None => item,
            Some(b) => {
                if compare(&item, &b)? == want {
                    item
                } else {
                    b
                }
            }
        });
    }
    best.map_or_else(|| fail(format!("{what} of an empty sequence")), Ok)
}

pub(crate) fn sum(v: Dynamic) -> FnResult<Dynamic> {
    let list = into_items(v, "sum()")?;
    if list.iter().all(|x| x.is_int()) {
        let mut total: INT = 0;
        for x in &list {
            total = total.saturating_add(x.as_int().unwrap_or(0));
        }
        return Ok(Dynamic::from(total));
    }
    let mut total = 0.0;
    for x in &list {
        total += number(x, "sum()")?;
    }
    Ok(Dynamic::from(total))
}

pub(crate) fn avg(v: Dynamic) -> FnResult<Dynamic> {
    let list = into_items(v, "avg()")?;
    if list.is_empty() {
        // ZMON's avg([]) is 0.
        return Ok(Dynamic::from(0 as INT));
    }
    let total = number(&sum(Dynamic::from(list.clone()))?, "avg()")?;
    Ok(Dynamic::from(total / list.len() as FLOAT))
}

pub(crate) fn sorted(v: Dynamic) -> FnResult<Array> {
    let mut list = into_items(v, "sorted()")?;
    let mut error = None;
    list.sort_by(|a, b| {
        compare(a, b).unwrap_or_else(|e| {
            error.get_or_insert(e);
            Ordering::Equal
        })
    });
    match error {
        Some(e) => Err(e),
        None => Ok(list),
    }
}

/// `+` as Python has it for the values conditions handle.
pub(crate) fn add(a: Dynamic, b: Dynamic) -> FnResult<Dynamic> {
    if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int()) {
        return Ok(x
            .checked_add(y)
            .map_or_else(|| Dynamic::from(x as FLOAT + y as FLOAT), Dynamic::from));
    }
    if is_number(&a) && is_number(&b) {
        return Ok(Dynamic::from(number(&a, "+")? + number(&b, "+")?));
    }
    if let (Some(x), Some(y)) = (
        a.read_lock::<ImmutableString>(),
        b.read_lock::<ImmutableString>(),
    ) {
        return Ok(Dynamic::from(format!("{}{}", x.as_str(), y.as_str())));
    }
    if let (Some(x), Some(y)) = (a.read_lock::<Array>(), b.read_lock::<Array>()) {
        let mut joined = x.clone();
        joined.extend(y.iter().cloned());
        return Ok(Dynamic::from_array(joined));
    }
    fail(format!(
        "unsupported operand types for +: {} and {}",
        a.type_name(),
        b.type_name()
    ))
}

pub(crate) fn sub(a: Dynamic, b: Dynamic) -> FnResult<Dynamic> {
    if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int()) {
        return Ok(x
            .checked_sub(y)
            .map_or_else(|| Dynamic::from(x as FLOAT - y as FLOAT), Dynamic::from));
    }
    Ok(Dynamic::from(number(&a, "-")? - number(&b, "-")?))
}

pub(crate) fn mul(a: Dynamic, b: Dynamic) -> FnResult<Dynamic> {
    if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int()) {
        return Ok(x
            .checked_mul(y)
            .map_or_else(|| Dynamic::from(x as FLOAT * y as FLOAT), Dynamic::from));
    }
    Ok(Dynamic::from(number(&a, "*")? * number(&b, "*")?))
}

pub(crate) fn neg(a: Dynamic) -> FnResult<Dynamic> {
    if let Ok(x) = a.as_int() {
        return Ok(Dynamic::from(x.saturating_neg()));
    }
    Ok(Dynamic::from(-number(&a, "unary -")?))
}

pub(crate) fn abs(v: Dynamic) -> FnResult<Dynamic> {
    if let Ok(i) = v.as_int() {
        return Ok(Dynamic::from(i.saturating_abs()));
    }
    Ok(Dynamic::from(number(&v, "abs()")?.abs()))
}

pub(crate) fn round(v: Dynamic, digits: Dynamic) -> FnResult<Dynamic> {
    let x = number(&v, "round()")?;
    if digits.is_unit() {
        let r = x.round();
        if !r.is_finite() || r.abs() >= 9.2e18 {
            return fail(format!("round() cannot convert {x}"));
        }
        return Ok(Dynamic::from(r as INT));
    }
    let n = digits
        .as_int()
        .map_err(|_| "round(): ndigits must be an integer".to_string())?;
    let factor = 10f64.powi(n.clamp(-300, 300) as i32);
    Ok(Dynamic::from((x * factor).round() / factor))
}

pub(crate) fn div(a: Dynamic, b: Dynamic) -> FnResult<FLOAT> {
    let (x, y) = (number(&a, "/")?, number(&b, "/")?);
    if y == 0.0 {
        return fail("division by zero");
    }
    Ok(x / y)
}

pub(crate) fn floordiv(a: Dynamic, b: Dynamic) -> FnResult<Dynamic> {
    if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int()) {
        if y == 0 {
            return fail("integer division by zero");
        }
        let q = x.wrapping_div(y);
        let floored = if (x % y != 0) && ((x < 0) != (y < 0)) {
            q - 1
        } else {
            q
        };
        return Ok(Dynamic::from(floored));
    }
    Ok(Dynamic::from(div(a, b)?.floor()))
}

pub(crate) fn modulo(a: Dynamic, b: Dynamic) -> FnResult<Dynamic> {
    if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int()) {
        if y == 0 {
            return fail("modulo by zero");
        }
        let r = x.wrapping_rem(y);
        return Ok(Dynamic::from(if r != 0 && ((r < 0) != (y < 0)) {
            r + y
        } else {
            r
        }));
    }
    let (x, y) = (number(&a, "%")?, number(&b, "%")?);
    if y == 0.0 {
        return fail("modulo by zero");
    }
    let r = x % y;
    Ok(Dynamic::from(if r != 0.0 && ((r < 0.0) != (y < 0.0)) {
        r + y
    } else {
        r
    }))
}

pub(crate) fn power(a: Dynamic, b: Dynamic) -> FnResult<Dynamic> {
    if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int())
        && (0..=u32::MAX as INT).contains(&y)
        && let Some(p) = x.checked_pow(y as u32)
    {
        return Ok(Dynamic::from(p));
    }
    Ok(Dynamic::from(number(&a, "**")?.powf(number(&b, "**")?)))
}

pub(crate) fn contains(item: Dynamic, container: Dynamic) -> FnResult<bool> {
    contains_ref(&item, &container)
}

/// [`contains`] without taking its operands, for the fast path.
pub(crate) fn contains_ref(item: &Dynamic, container: &Dynamic) -> FnResult<bool> {
    if let Some(s) = container.read_lock::<ImmutableString>() {
        return match item.read_lock::<ImmutableString>() {
            Some(needle) => Ok(s.contains(needle.as_str())),
            None => fail(format!(
                "'in <string>' needs a string, not {}",
                item.type_name()
            )),
        };
    }
    if let Some(a) = container.read_lock::<Array>() {
        return Ok(a.iter().any(|x| equal(x, item)));
    }
    if let Some(m) = container.read_lock::<Map>() {
        return Ok(item
            .read_lock::<ImmutableString>()
            .is_some_and(|k| m.contains_key(k.as_str())));
    }
    fail(format!(
        "'in' needs a string, list or dict, not {}",
        container.type_name()
    ))
}

/// `container[index]` with Python's errors for missing keys and indexes.
pub(crate) fn index(container: Dynamic, key: Dynamic) -> FnResult<Dynamic> {
    if let Some(m) = container.read_lock::<Map>() {
        let Some(k) = key.read_lock::<ImmutableString>() else {
            return fail(format!("dict keys are strings, not {}", key.type_name()));
        };
        return match m.get(k.as_str()) {
            Some(v) => Ok(v.clone()),
            None => fail(format!("KeyError: '{}'", k.as_str())),
        };
    }
    let Ok(i) = key.as_int() else {
        return fail(format!("indexes are integers, not {}", key.type_name()));
    };
    let position = |len: usize| -> Option<usize> {
        let len = len as INT;
        let at = if i < 0 { len + i } else { i };
        (0..len).contains(&at).then_some(at as usize)
    };
    if let Some(a) = container.read_lock::<Array>() {
        return match position(a.len()) {
            Some(p) => Ok(a[p].clone()),
            None => fail(format!("IndexError: list index {i} out of range")),
        };
    }
    if let Some(s) = container.read_lock::<ImmutableString>() {
        let chars: Vec<char> = s.chars().collect();
        return match position(chars.len()) {
            Some(p) => Ok(Dynamic::from(chars[p].to_string())),
            None => fail(format!("IndexError: string index {i} out of range")),
        };
    }
    fail(format!("{} cannot be indexed", container.type_name()))
}

fn strip(s: &str, chars: Option<&str>, left: bool, right: bool) -> String {
    let matches = |c: char| chars.map_or(c.is_whitespace(), |set| set.contains(c));
    let mut out = s;
    if left {
        out = out.trim_start_matches(matches);
    }
    if right {
        out = out.trim_end_matches(matches);
    }
    out.to_string()
}

pub(super) fn register(engine: &mut Engine) {
    engine
        .register_fn("py_truthy", |v: Dynamic| truthy(&v))
        .register_fn("py_int", py_int)
        .register_fn("py_float", py_float)
        .register_fn("py_str", |v: Dynamic| py_str(&v))
        .register_fn("py_len", py_len)
        .register_fn("py_abs", abs)
        .register_fn("py_min", |v: Dynamic| extreme(v, Ordering::Less, "min()"))
        .register_fn("py_max", |v: Dynamic| {
            extreme(v, Ordering::Greater, "max()")
        })
        .register_fn("py_round", round)
        .register_fn("py_sum", sum)
        .register_fn("py_avg", avg)
        .register_fn("py_sorted", sorted)
        .register_fn("py_list", |v: Dynamic| into_items(v, "list()"))
        .register_fn("py_empty", |v: Dynamic| !truthy(&v))
        .register_fn("py_any", |v: Dynamic| -> FnResult<bool> {
            Ok(items(&v, "any()")?.iter().any(truthy))
        })
        .register_fn("py_all", |v: Dynamic| -> FnResult<bool> {
            Ok(items(&v, "all()")?.iter().all(truthy))
        })
        .register_fn("py_add", add)
        .register_fn("py_sub", sub)
        .register_fn("py_mul", mul)
        .register_fn("py_neg", neg)
        .register_fn("py_div", div)
        .register_fn("py_floordiv", floordiv)
        .register_fn("py_mod", modulo)
        .register_fn("py_pow", power)
        .register_fn("py_in", contains)
        .register_fn("py_index", index)
        .register_fn("py_get", |m: Map, key: ImmutableString| {
            m.get(key.as_str()).cloned().unwrap_or(Dynamic::UNIT)
        })
        .register_fn(
            "py_get",
            |m: Map, key: ImmutableString, default: Dynamic| {
                m.get(key.as_str()).cloned().unwrap_or(default)
            },
        )
        .register_fn("py_keys", |m: Map| -> Array {
            m.keys()
                .map(|k| Dynamic::from(ImmutableString::from(k.as_str())))
                .collect()
        })
        .register_fn("py_values", |m: Map| -> Array {
            m.values().cloned().collect()
        })
        .register_fn("py_items", |m: Map| -> Array {
            m.into_iter()
                .map(|(k, v)| {
                    Dynamic::from(vec![Dynamic::from(ImmutableString::from(k.as_str())), v])
                })
                .collect()
        })
        .register_fn("py_lower", |s: ImmutableString| s.to_lowercase())
        .register_fn("py_upper", |s: ImmutableString| s.to_uppercase())
        .register_fn("py_strip", |s: ImmutableString| strip(&s, None, true, true))
        .register_fn("py_strip", |s: ImmutableString, c: ImmutableString| {
            strip(&s, Some(&c), true, true)
        })
        .register_fn("py_lstrip", |s: ImmutableString| {
            strip(&s, None, true, false)
        })
        .register_fn("py_rstrip", |s: ImmutableString| {
            strip(&s, None, false, true)
        })
        .register_fn("py_startswith", |s: ImmutableString, p: ImmutableString| {
            s.starts_with(p.as_str())
        })
        .register_fn("py_endswith", |s: ImmutableString, p: ImmutableString| {
            s.ends_with(p.as_str())
        })
        .register_fn("py_split", |s: ImmutableString| -> Array {
            s.split_whitespace()
                .map(|p| Dynamic::from(p.to_string()))
                .collect()
        })
        .register_fn(
            "py_split",
            |s: ImmutableString, sep: ImmutableString| -> FnResult<Array> {
                if sep.is_empty() {
                    return fail("split(): empty separator");
                }
                Ok(s.split(sep.as_str())
                    .map(|p| Dynamic::from(p.to_string()))
                    .collect())
            },
        )
        .register_fn(
            "py_replace",
            |s: ImmutableString, a: ImmutableString, b: ImmutableString| {
                s.replace(a.as_str(), b.as_str())
            },
        )
        .register_fn("py_join", |sep: ImmutableString, parts: Array| -> String {
            parts
                .iter()
                .map(py_str)
                .collect::<Vec<_>>()
                .join(sep.as_str())
        })
        .register_fn(
            "py_count",
            |s: ImmutableString, sub: ImmutableString| -> INT {
                if sub.is_empty() {
                    return s.chars().count() as INT + 1;
                }
                s.matches(sub.as_str()).count() as INT
            },
        )
        .register_fn(
            "py_find",
            |s: ImmutableString, sub: ImmutableString| -> INT {
                s.find(sub.as_str())
                    .map_or(-1, |byte| s[..byte].chars().count() as INT)
            },
        );
}
