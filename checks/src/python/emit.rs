//! Writes Rhai source for a parsed Python expression.
//!
//! Python semantics that Rhai lacks are kept through helper functions
//! (`py_div` for true division, `py_truthy` for truthiness, …) registered
//! by the engine. `and`/`or` keep Python's short-circuit and value
//! semantics (`x or 0` yields `x` when it is truthy).

use super::TranslateError;
use super::parser::{BinOp, CmpOp, Expr};

/// Rhai source and whether it is known to be a boolean.
struct Code {
    text: String,
    boolean: bool,
}

impl Code {
    fn value(text: String) -> Self {
        Self {
            text,
            boolean: false,
        }
    }

    fn boolean(text: String) -> Self {
        Self {
            text,
            boolean: true,
        }
    }

    fn truthy(&self) -> String {
        if self.boolean {
            self.text.clone()
        } else {
            format!("py_truthy({})", self.text)
        }
    }
}

/// Words Rhai reserves; a Python name equal to one cannot be translated.
const RHAI_RESERVED: &[&str] = &[
    "true",
    "false",
    "let",
    "const",
    "if",
    "else",
    "switch",
    "do",
    "while",
    "loop",
    "until",
    "for",
    "in",
    "continue",
    "break",
    "return",
    "throw",
    "try",
    "catch",
    "fn",
    "private",
    "import",
    "export",
    "as",
    "global",
    "Fn",
    "call",
    "curry",
    "is_shared",
    "is_def_var",
    "is_def_fn",
    "this",
    "type_of",
    "print",
    "debug",
    "eval",
    "var",
    "static",
    "shared",
    "with",
    "is",
    "module",
    "package",
    "super",
    "thread",
    "spawn",
    "go",
    "await",
    "async",
    "sync",
    "yield",
    "default",
    "void",
    "null",
    "nil",
    "new",
    "use",
    "case",
    "public",
    "protected",
    "extern",
    "def",
    "goto",
    "exit",
    "match",
];

/// Python builtins with a Rhai counterpart of the same meaning.
const PY_BUILTINS: &[(&str, &str)] = &[
    ("float", "py_float"),
    ("int", "py_int"),
    ("long", "py_int"),
    ("str", "py_str"),
    ("unicode", "py_str"),
    ("bool", "py_truthy"),
    ("len", "py_len"),
    ("abs", "py_abs"),
    ("sum", "py_sum"),
    ("sorted", "py_sorted"),
    ("list", "py_list"),
    ("avg", "py_avg"),
    ("empty", "py_empty"),
    ("any", "py_any"),
    ("all", "py_all"),
];

/// Python methods of strings and dicts, spelled as their helpers.
const PY_METHODS: &[(&str, &str)] = &[
    ("get", "py_get"),
    ("keys", "py_keys"),
    ("values", "py_values"),
    ("items", "py_items"),
    ("lower", "py_lower"),
    ("upper", "py_upper"),
    ("strip", "py_strip"),
    ("lstrip", "py_lstrip"),
    ("rstrip", "py_rstrip"),
    ("startswith", "py_startswith"),
    ("endswith", "py_endswith"),
    ("split", "py_split"),
    ("replace", "py_replace"),
    ("join", "py_join"),
    ("count", "py_count"),
    ("find", "py_find"),
];

/// Condition helpers with ZMON's parameter names, so keyword arguments land
/// in the right position. `None` marks a required parameter.
type Params = &'static [(&'static str, Option<&'static str>)];

const SIGNATURES: &[(&str, Params)] = &[
    ("value_series", &[("count", Some("1"))]),
    ("alert_series", &[("f", None), ("n", None)]),
    (
        "monotonic",
        &[
            ("count", Some("2")),
            ("increasing", Some("true")),
            ("strictly", Some("false")),
        ],
    ),
    ("entity_values", &[("count", Some("1"))]),
    ("entity_results", &[("count", Some("1"))]),
    (
        "timeseries_avg",
        &[("time_spec", None), ("key", Some("()"))],
    ),
    (
        "timeseries_delta",
        &[("time_spec", None), ("key", Some("()"))],
    ),
    (
        "timeseries_median",
        &[("time_spec", None), ("key", Some("()"))],
    ),
    (
        "timeseries_first",
        &[("time_spec", None), ("key", Some("()"))],
    ),
    (
        "timeseries_min",
        &[("time_spec", None), ("key", Some("()"))],
    ),
    (
        "timeseries_max",
        &[("time_spec", None), ("key", Some("()"))],
    ),
    (
        "timeseries_sum",
        &[("time_spec", None), ("key", Some("()"))],
    ),
    (
        "timeseries_percentile",
        &[("time_spec", None), ("percent", None), ("key", Some("()"))],
    ),
    ("round", &[("number", None), ("ndigits", Some("()"))]),
];

fn name(n: &str, column: usize) -> Result<String, TranslateError> {
    if n.contains("__") {
        return Err(TranslateError::at(
            column,
            format!("names with '__' are not allowed ('{n}')"),
        ));
    }
    if RHAI_RESERVED.contains(&n) {
        return Err(TranslateError::at(
            column,
            format!("'{n}' is a reserved word"),
        ));
    }
    Ok(n.to_string())
}

pub fn rhai_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let code = c as u32;
                if code <= 0xFFFF {
                    out.push_str(&format!("\\u{code:04X}"));
                } else {
                    out.push_str(&format!("\\U{code:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn float_literal(f: f64) -> String {
    let text = format!("{f:?}");
    if text.contains('e') && !text.contains('.') {
        text.replacen('e', ".0e", 1)
    } else {
        text
    }
}

pub fn emit(expr: &Expr, column: usize) -> Result<String, TranslateError> {
    Ok(code(expr, column)?.text)
}

fn list(items: &[Expr], column: usize) -> Result<String, TranslateError> {
    let parts: Result<Vec<String>, _> = items
        .iter()
        .map(|i| code(i, column).map(|c| c.text))
        .collect();
    Ok(parts?.join(", "))
}

fn code(expr: &Expr, column: usize) -> Result<Code, TranslateError> {
    Ok(match expr {
        Expr::Int(i) if *i < 0 => Code::value(format!("({i})")),
        Expr::Int(i) => Code::value(i.to_string()),
        Expr::Float(f) if *f < 0.0 => Code::value(format!("({})", float_literal(*f))),
        Expr::Float(f) => Code::value(float_literal(*f)),
        Expr::Str(s) => Code::value(rhai_string(s)),
        Expr::Bool(b) => Code::boolean(b.to_string()),
        Expr::None => Code::value("()".into()),
        Expr::Name(n) => Code::value(name(n, column)?),
        Expr::List(items) => Code::value(format!("[{}]", list(items, column)?)),
        Expr::Dict(entries) => {
            let mut parts = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let Expr::Str(key) = k else {
                    return Err(TranslateError::at(
                        column,
                        "dict keys must be string literals",
                    ));
                };
                parts.push(format!("{}: {}", rhai_string(key), code(v, column)?.text));
            }
            Code::value(format!("#{{{}}}", parts.join(", ")))
        }
        Expr::Neg(inner) => Code::value(format!("py_neg({})", code(inner, column)?.text)),
        Expr::Not(inner) => Code::boolean(format!("!({})", code(inner, column)?.truthy())),
        Expr::Binary(op, l, r) => {
            let (l, r) = (code(l, column)?.text, code(r, column)?.text);
            Code::value(match op {
                BinOp::Add => format!("py_add({l}, {r})"),
                BinOp::Sub => format!("py_sub({l}, {r})"),
                BinOp::Mul => format!("py_mul({l}, {r})"),
                BinOp::Div => format!("py_div({l}, {r})"),
                BinOp::FloorDiv => format!("py_floordiv({l}, {r})"),
                BinOp::Mod => format!("py_mod({l}, {r})"),
                BinOp::Pow => format!("py_pow({l}, {r})"),
            })
        }
        Expr::And(l, r) | Expr::Or(l, r) => {
            let is_and = matches!(expr, Expr::And(..));
            let (l, r) = (code(l, column)?, code(r, column)?);
            if l.boolean && r.boolean {
                let op = if is_and { "&&" } else { "||" };
                Code::boolean(format!("({} {op} {})", l.text, r.text))
            } else if is_and {
                Code::value(format!(
                    "{{ let py_v = {}; if py_truthy(py_v) {{ {} }} else {{ py_v }} }}",
                    l.text, r.text
                ))
            } else {
                Code::value(format!(
                    "{{ let py_v = {}; if py_truthy(py_v) {{ py_v }} else {{ {} }} }}",
                    l.text, r.text
                ))
            }
        }
        Expr::Compare(first, rest) => {
            let mut left = code(first, column)?.text;
            let mut parts = Vec::with_capacity(rest.len());
            for (op, right) in rest {
                let right = code(right, column)?.text;
                parts.push(match op {
                    CmpOp::Lt => format!("({left} < {right})"),
                    CmpOp::Le => format!("({left} <= {right})"),
                    CmpOp::Gt => format!("({left} > {right})"),
                    CmpOp::Ge => format!("({left} >= {right})"),
                    CmpOp::Eq | CmpOp::Is => format!("({left} == {right})"),
                    CmpOp::Ne | CmpOp::IsNot => format!("({left} != {right})"),
                    CmpOp::In => format!("py_in({left}, {right})"),
                    CmpOp::NotIn => format!("!py_in({left}, {right})"),
                });
                left = right;
            }
            Code::boolean(if parts.len() == 1 {
                parts.remove(0)
            } else {
                format!("({})", parts.join(" && "))
            })
        }
        Expr::Call {
            func,
            args,
            kwargs,
            column,
        } => call(func, args, kwargs, *column)?,
        Expr::Attr(obj, attr) => {
            let attr = name(attr, column)?;
            Code::value(format!("{}.{attr}", code(obj, column)?.text))
        }
        // Python raises on a missing key or index; plain Rhai indexing
        // would yield `()` and let `() > 3` quietly be false.
        Expr::Index(obj, index) => Code::value(format!(
            "py_index({}, {})",
            code(obj, column)?.text,
            code(index, column)?.text
        )),
        Expr::IfElse {
            cond,
            then,
            otherwise,
        } => Code::value(format!(
            "(if {} {{ {} }} else {{ {} }})",
            code(cond, column)?.truthy(),
            code(then, column)?.text,
            code(otherwise, column)?.text
        )),
        Expr::Lambda(params, body) => {
            let params: Result<Vec<String>, _> = params.iter().map(|p| name(p, column)).collect();
            Code::value(format!(
                "|{}| {}",
                params?.join(", "),
                code(body, column)?.text
            ))
        }
    })
}

fn options_map(kwargs: &[(String, Expr)], column: usize) -> Result<String, TranslateError> {
    let mut parts = Vec::with_capacity(kwargs.len());
    for (k, v) in kwargs {
        parts.push(format!("{}: {}", rhai_string(k), code(v, column)?.text));
    }
    Ok(format!("#{{{}}}", parts.join(", ")))
}

fn call(
    func: &Expr,
    args: &[Expr],
    kwargs: &[(String, Expr)],
    column: usize,
) -> Result<Code, TranslateError> {
    let mut positional: Vec<String> = Vec::with_capacity(args.len() + 1);
    for a in args {
        positional.push(code(a, column)?.text);
    }
    match func {
        Expr::Name(f) if f == "capture" => match (args.len(), kwargs.len()) {
            (1, 0) => Ok(Code::value(format!("capture({})", positional[0]))),
            (0, 1) => Ok(Code::value(format!(
                "capture({}, {})",
                rhai_string(&kwargs[0].0),
                code(&kwargs[0].1, column)?.text
            ))),
            _ => Err(TranslateError::at(
                column,
                "capture() takes one value, or one name=value",
            )),
        },
        Expr::Name(f) if f == "min" || f == "max" => {
            if !kwargs.is_empty() || positional.is_empty() {
                return Err(TranslateError::at(
                    column,
                    format!("{f}() takes one iterable or several values"),
                ));
            }
            let arg = if positional.len() == 1 {
                positional.remove(0)
            } else {
                format!("[{}]", positional.join(", "))
            };
            Ok(Code::value(format!("py_{f}({arg})")))
        }
        Expr::Name(f) if SIGNATURES.iter().any(|(n, _)| n == f) => {
            let (_, params) = SIGNATURES
                .iter()
                .find(|(n, _)| n == f)
                .copied()
                .unwrap_or(("", &[]));
            if positional.len() > params.len() {
                return Err(TranslateError::at(
                    column,
                    format!("{f}() takes at most {} arguments", params.len()),
                ));
            }
            let mut slots: Vec<Option<String>> = positional.into_iter().map(Some).collect();
            slots.resize(params.len(), None);
            for (k, v) in kwargs {
                let Some(i) = params.iter().position(|(p, _)| p == k) else {
                    return Err(TranslateError::at(
                        column,
                        format!("{f}() has no argument '{k}'"),
                    ));
                };
                if slots[i].is_some() {
                    return Err(TranslateError::at(column, format!("{f}() got '{k}' twice")));
                }
                slots[i] = Some(code(v, column)?.text);
            }
            let mut filled = Vec::with_capacity(params.len());
            for (slot, (param, default)) in slots.into_iter().zip(params.iter()) {
                match (slot, default) {
                    (Some(v), _) => filled.push(v),
                    (None, Some(d)) => filled.push((*d).to_string()),
                    (None, None) => {
                        return Err(TranslateError::at(
                            column,
                            format!("{f}() needs the argument '{param}'"),
                        ));
                    }
                }
            }
            let rhai_name = if f == "round" { "py_round" } else { f.as_str() };
            Ok(Code::value(format!("{rhai_name}({})", filled.join(", "))))
        }
        Expr::Name(f) => {
            let rhai_name = PY_BUILTINS
                .iter()
                .find(|(py, _)| py == f)
                .map(|(_, r)| (*r).to_string());
            let is_builtin = rhai_name.is_some();
            let rhai_name = match rhai_name {
                Some(n) => n,
                None => name(f, column)?,
            };
            if !kwargs.is_empty() {
                if is_builtin {
                    return Err(TranslateError::at(
                        column,
                        format!("{f}() takes no keyword arguments"),
                    ));
                }
                positional.push(options_map(kwargs, column)?);
            }
            let code = format!("{rhai_name}({})", positional.join(", "));
            Ok(if rhai_name == "py_truthy" {
                Code::boolean(code)
            } else {
                Code::value(code)
            })
        }
        Expr::Attr(obj, method) => {
            let method = PY_METHODS
                .iter()
                .find(|(py, _)| py == method)
                .map(|(_, r)| (*r).to_string())
                .map_or_else(|| name(method, column), Ok)?;
            if !kwargs.is_empty() {
                positional.push(options_map(kwargs, column)?);
            }
            Ok(Code::value(format!(
                "{}.{method}({})",
                code(obj, column)?.text,
                positional.join(", ")
            )))
        }
        other => {
            if !kwargs.is_empty() {
                positional.push(options_map(kwargs, column)?);
            }
            Ok(Code::value(format!(
                "call({}, {})",
                code(other, column)?.text,
                positional.join(", ")
            )))
        }
    }
}
