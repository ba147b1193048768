//! The ZMON Python subset, translated to Rhai once when a condition or a
//! check command is saved.
//!
//! Covered: literals (`True`, `False`, `None`, numbers, strings, lists,
//! tuples, dicts), comparisons (chained too), `in`, `not in`, `is`,
//! `is not`, `and`, `or`, `not`, arithmetic (`/` is true division),
//! conditional expressions, `lambda`, calls with keyword arguments
//! (`http('/health', timeout=5)` passes `#{"timeout": 5}`), indexing,
//! attributes and methods, `capture(...)`, the Python builtins `float`,
//! `int`, `str`, `bool`, `len`, `abs`, `min`, `max`, `round`, `sum`,
//! `sorted`, `list`, `any`, `all`, and ZMON's condition helpers with their
//! parameter names. A condition starting with an operator (`>100`) compares
//! `value`, as in ZMON.
//!
//! Not covered (a clear error at save time): comprehensions, slices,
//! bitwise operators, `*args`, f-strings, sets, statements.

mod emit;
mod lexer;
pub(crate) mod parser;

use std::fmt;

pub use emit::rhai_string;
pub(crate) use parser::Expr;

/// Why a text is not a translatable Python expression, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateError {
    /// 1-based character column in the text as written.
    pub column: usize,
    pub message: String,
}

impl TranslateError {
    pub(crate) fn at(column: usize, message: impl Into<String>) -> Self {
        Self {
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for TranslateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for TranslateError {}

const VALUE_PREFIX: &str = "value ";

/// ZMON compares `value` when a condition starts with an operator:
/// `>100`, `!=True`, `in [1, 2]`, `is None`, `[0] > 3`.
fn needs_value_prefix(src: &str) -> bool {
    let t = src.trim_start();
    t.starts_with(['<', '>', '!', '=', '['])
        || ["in ", "is ", "not in "].iter().any(|p| t.starts_with(p))
}

/// Translates one Python expression to Rhai source.
pub fn translate(src: &str) -> Result<String, TranslateError> {
    emit(&parse(src)?)
}

pub(crate) fn emit(expr: &Expr) -> Result<String, TranslateError> {
    emit::emit(expr, 1)
}

/// Parses one Python expression; errors point into the text as written.
pub(crate) fn parse(src: &str) -> Result<Expr, TranslateError> {
    let prefixed = needs_value_prefix(src);
    let text = if prefixed {
        format!("{VALUE_PREFIX}{}", src.trim_start())
    } else {
        src.to_string()
    };
    let shift = if prefixed {
        VALUE_PREFIX.len() - (src.len() - src.trim_start().len())
    } else {
        0
    };
    let unshift = |e: TranslateError| TranslateError {
        column: e.column.saturating_sub(shift).max(1),
        message: e.message,
    };
    let tokens = lexer::tokenize(&text).map_err(unshift)?;
    parser::Parser::new(tokens).parse_all().map_err(unshift)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (Python, Rhai) pairs: the translation must be exactly this.
    const TRANSLATIONS: &[(&str, &str)] = &[
        ("value > 100", "(value > 100)"),
        (">100", "(value > 100)"),
        ("  >= 1.5", "(value >= 1.5)"),
        ("!=True", "(value != true)"),
        ("== None", "(value == ())"),
        ("in [1, 2]", "py_in(value, [1, 2])"),
        ("not in ('a', 'b')", "!py_in(value, [\"a\", \"b\"])"),
        ("is None", "(value == ())"),
        ("value is not None", "(value != ())"),
        ("value['k'] > 5", "(py_index(value, \"k\") > 5)"),
        ("value[0] == 'x'", "(py_index(value, 0) == \"x\")"),
        (
            "capture(longitude=float(value)) > longitude_param",
            "(capture(\"longitude\", py_float(value)) > longitude_param)",
        ),
        ("capture(value) > 3", "(capture(value) > 3)"),
        ("value > 1 and value < 5", "((value > 1) && (value < 5))"),
        ("value < 1 or value > 5", "((value < 1) || (value > 5))"),
        ("not value > 3", "!((value > 3))"),
        ("not value", "!(py_truthy(value))"),
        ("1 < value < 5", "((1 < value) && (value < 5))"),
        ("True", "true"),
        (
            "False or value",
            "{ let py_v = false; if py_truthy(py_v) { py_v } else { value } }",
        ),
        (
            "value.get('x') or 0",
            "{ let py_v = value.py_get(\"x\"); if py_truthy(py_v) { py_v } else { 0 } }",
        ),
        ("value / 2 > 1", "(py_div(value, 2) > 1)"),
        ("value // 2", "py_floordiv(value, 2)"),
        ("value % 7", "py_mod(value, 7)"),
        ("2 ** 10", "py_pow(2, 10)"),
        ("-value + 3", "py_add(py_neg(value), 3)"),
        ("value - -3", "py_sub(value, (-3))"),
        ("len(value) > 0", "(py_len(value) > 0)"),
        ("abs(value - 10) < 0.5", "(py_abs(py_sub(value, 10)) < 0.5)"),
        ("max(value) > 3", "(py_max(value) > 3)"),
        ("min(a, b, 3)", "py_min([a, b, 3])"),
        ("round(value, 2)", "py_round(value, 2)"),
        ("round(value)", "py_round(value, ())"),
        (
            "int(value) + int('3')",
            "py_add(py_int(value), py_int(\"3\"))",
        ),
        ("str(value) == '3'", "(py_str(value) == \"3\")"),
        ("bool(value)", "py_truthy(value)"),
        (
            "'a' if value else 'b'",
            "(if py_truthy(value) { \"a\" } else { \"b\" })",
        ),
        ("{'a': 1, 'b': [2]}", "#{\"a\": 1, \"b\": [2]}"),
        (
            "http('/health', timeout=5).code()",
            "http(\"/health\", #{\"timeout\": 5}).code()",
        ),
        (
            "http('/x').json()['status'] == 'UP'",
            "(py_index(http(\"/x\").json(), \"status\") == \"UP\")",
        ),
        ("entity['host']", "py_index(entity, \"host\")"),
        ("value_series(3)", "value_series(3)"),
        ("value_series()", "value_series(1)"),
        (
            "alert_series(lambda v: v > 5, 3)",
            "alert_series(|v| (v > 5), 3)",
        ),
        (
            "monotonic(count=3, strictly=True)",
            "monotonic(3, true, true)",
        ),
        (
            "timeseries_avg('5m') > 10",
            "(timeseries_avg(\"5m\", ()) > 10)",
        ),
        (
            "timeseries_percentile('1h', 0.9, key=lambda v: v['x'])",
            "timeseries_percentile(\"1h\", 0.9, |v| py_index(v, \"x\"))",
        ),
        (
            "timeseries_percentile('1h', percent=0.5)",
            "timeseries_percentile(\"1h\", 0.5, ())",
        ),
        (
            "'down' in value.lower()",
            "py_in(\"down\", value.py_lower())",
        ),
        ("value.startswith('x')", "value.py_startswith(\"x\")"),
        ("'a\\nb' + \"c\\\"d\"", "py_add(\"a\\nb\", \"c\\\"d\")"),
        ("1e3", "1000.0"),
        ("0x10 + 1L", "py_add(16, 1)"),
        ("len([]) == 0", "(py_len([]) == 0)"),
        ("()", "[]"),
        ("(1, 2)", "[1, 2]"),
        ("(value)", "value"),
        ("now()", "now()"),
        (
            "tcp('db', 5432, timeout=2).open()",
            "tcp(\"db\", 5432, #{\"timeout\": 2}).open()",
        ),
        (
            "value['a']['b'] >= params['limit']",
            "(py_index(py_index(value, \"a\"), \"b\") >= py_index(params, \"limit\"))",
        ),
        (
            "sum(value) / len(value) > 3",
            "(py_div(py_sum(value), py_len(value)) > 3)",
        ),
        ("3 * 4", "py_mul(3, 4)"),
        ("entity.load", "entity.load"),
        (
            "any(v > 1 for v in value)",
            "ERR generator expressions are not supported",
        ),
    ];

    /// (Python, part of the error message) pairs.
    const ERRORS: &[(&str, &str)] = &[
        ("", "at column 1: the expression is empty"),
        ("value >", "at column 8: expected a value, found the end"),
        ("value > (1", "expected ')', found the end"),
        (
            "len([x for x in value]) > 1",
            "list comprehensions are not supported",
        ),
        ("value[1:3]", "slices are not supported"),
        ("value & 1", "the operator '&' is not supported"),
        ("~value", "the operator '~' is not supported"),
        ("f(*args)", "*args and **kwargs are not supported"),
        ("f'{value}'", "f-strings are not supported"),
        ("{1, 2}", "sets are not supported"),
        ("value.__class__", "names with '__' are not allowed"),
        ("__import__('os')", "names with '__' are not allowed"),
        ("import os", "'import' is not allowed here"),
        ("value = 3", "expected the end of the expression, found '='"),
        (
            "capture(a=1, b=2)",
            "capture() takes one value, or one name=value",
        ),
        ("len(value, key=1)", "len() takes no keyword arguments"),
        (
            "f(a=1, 2)",
            "a positional argument follows a keyword argument",
        ),
        ("f(a=1, a=2)", "keyword argument 'a' is repeated"),
        (
            "alert_series(lambda v: v)",
            "alert_series() needs the argument 'n'",
        ),
        (
            "monotonic(1, 2, 3, 4)",
            "monotonic() takes at most 3 arguments",
        ),
        ("monotonic(up=True)", "monotonic() has no argument 'up'"),
        ("{1: 2}", "dict keys must be string literals"),
        ("let > 1", "'let' is a reserved word"),
        ("'open", "unterminated string"),
        ("value $ 3", "unexpected character '$'"),
        (">", "at column 2: expected a value, found the end"),
        ("value; 1", "expected the end of the expression, found ';'"),
    ];

    #[test]
    fn translates_the_python_subset() {
        for (python, rhai) in TRANSLATIONS {
            match (translate(python), rhai.strip_prefix("ERR ")) {
                (Ok(got), None) => assert_eq!(&got, rhai, "{python}"),
                (Err(e), Some(expected)) => assert!(e.message.contains(expected), "{python}: {e}"),
                (Ok(got), Some(_)) => panic!("{python} should fail, gave {got}"),
                (Err(e), None) => panic!("{python} should translate, failed {e}"),
            }
        }
    }

    #[test]
    fn untranslatable_input_says_where() {
        for (python, expected) in ERRORS {
            let err = translate(python).expect_err(python).to_string();
            assert!(err.contains(expected), "{python}: {err}");
        }
    }

    #[test]
    fn case_count_meets_the_contract() {
        assert!(TRANSLATIONS.len() + ERRORS.len() >= 40);
    }

    #[test]
    fn pathological_nesting_is_refused_not_overflowed() {
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(
            translate(&deep)
                .expect_err("too deep")
                .message
                .contains("nested too deeply")
        );
        let nots = format!("{}value", "not ".repeat(10_000));
        assert!(translate(&nots).is_err());
    }
}
