//! Reads a notification entry (`send_mail('a@b.c', repeat=5*60)`) into a
//! [`NotificationSpec`]: one call of a known function with literal
//! arguments (strings, numbers, booleans, `None`, lists, dicts) and simple
//! arithmetic, evaluated here once. Anything else is an error that says
//! what and where.

use serde_json::{Map, Number, Value};
use zmon_core::notification::{self, NotificationSpec, NotifyKind};

use crate::python::parser::BinOp;
use crate::python::{self, Expr};

/// Why an entry cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotificationError(pub String);

fn error(message: impl Into<String>) -> NotificationError {
    NotificationError(message.into())
}

pub fn parse(src: &str) -> Result<NotificationSpec, NotificationError> {
    let expr = python::parse(src).map_err(|e| error(e.to_string()))?;
    match expr {
        Expr::Bool(_) => Ok(NotificationSpec::nothing(src.trim())),
        Expr::Call {
            func, args, kwargs, ..
        } => {
            let Expr::Name(name) = *func else {
                return Err(error("must call a notification function by name"));
            };
            call(&name, &args, &kwargs)
        }
        _ => Err(error(
            "must be a call such as send_mail('team@example.org') (or True/False)",
        )),
    }
}

fn call(
    name: &str,
    args: &[Expr],
    kwargs: &[(String, Expr)],
) -> Result<NotificationSpec, NotificationError> {
    let spec = notification::function(name).ok_or_else(|| {
        error(format!(
            "unknown notification function '{name}'; known: {}",
            notification::function_names().join(", ")
        ))
    })?;
    let mut options = Map::new();
    let mut recipients = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        let value = literal(arg)?;
        if spec.variadic {
            recipients.extend(recipient_strings(name, value)?);
        } else {
            let param = spec.params.get(i).ok_or_else(|| {
                error(format!(
                    "{name}() takes at most {} positional arguments",
                    spec.params.len()
                ))
            })?;
            options.insert((*param).to_string(), value);
        }
    }
    for (key, arg) in kwargs {
        if !spec.params.contains(&key.as_str()) {
            return Err(error(format!(
                "{name}() got an unexpected keyword argument '{key}'; it takes {}",
                spec.params.join(", ")
            )));
        }
        if options.contains_key(key) {
            return Err(error(format!(
                "{name}() got multiple values for argument '{key}'"
            )));
        }
        options.insert(key.clone(), literal(arg)?);
    }
    let parsed = NotificationSpec {
        kind: spec.kind,
        function: name.to_string(),
        recipients,
        options,
    };
    check(name, &parsed)?;
    Ok(parsed)
}

/// Mail and SMS recipients: strings, or lists of strings.
fn recipient_strings(name: &str, value: Value) -> Result<Vec<String>, NotificationError> {
    let bad = || error(format!("{name}(): recipients must be strings"));
    match value {
        Value::String(s) => Ok(vec![s]),
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(bad()),
            })
            .collect(),
        _ => Err(bad()),
    }
}

/// What each function needs to be deliverable at all.
fn check(name: &str, spec: &NotificationSpec) -> Result<(), NotificationError> {
    if let Some(repeat) = spec.options.get("repeat")
        && !repeat.as_f64().is_some_and(|r| r >= 0.0)
    {
        return Err(error(format!(
            "{name}(): repeat must be a number of seconds (0 or more)"
        )));
    }
    match spec.kind {
        NotifyKind::Mail | NotifyKind::Sms if spec.recipients.is_empty() => {
            Err(error(format!("{name}() needs at least one recipient")))
        }
        NotifyKind::Mail | NotifyKind::Sms
            if spec.recipients.iter().any(|r| r.trim().is_empty()) =>
        {
            Err(error(format!("{name}(): a recipient is blank")))
        }
        NotifyKind::OpsGenie if !spec.options.contains_key("teams") => {
            Err(error(format!("{name}() needs teams=[...]")))
        }
        NotifyKind::Http => match spec.option_str("format") {
            None | Some("zmon" | "alertmanager") => Ok(()),
            Some(other) => Err(error(format!(
                "{name}(): format '{other}' is not 'zmon' or 'alertmanager'"
            ))),
        },
        _ => Ok(()),
    }
}

/// Evaluates a literal expression.
fn literal(expr: &Expr) -> Result<Value, NotificationError> {
    Ok(match expr {
        Expr::Int(i) => Value::from(*i),
        Expr::Float(f) => Number::from_f64(*f)
            .map(Value::Number)
            .ok_or_else(|| error("numbers must be finite"))?,
        Expr::Str(s) => Value::String(s.clone()),
        Expr::Bool(b) => Value::Bool(*b),
        Expr::None => Value::Null,
        Expr::List(items) => Value::Array(items.iter().map(literal).collect::<Result<_, _>>()?),
        Expr::Dict(pairs) => {
            let mut map = Map::new();
            for (k, v) in pairs {
                let Value::String(key) = literal(k)? else {
                    return Err(error("dictionary keys must be strings"));
                };
                map.insert(key, literal(v)?);
            }
            Value::Object(map)
        }
        Expr::Neg(inner) => match literal(inner)? {
            Value::Number(n) => match n.as_i64() {
                Some(i) => Value::from(-i),
                None => number(-n.as_f64().unwrap_or(0.0))?,
            },
            _ => return Err(error("only numbers can be negated")),
        },
        Expr::Binary(op, a, b) => arithmetic(*op, literal(a)?, literal(b)?)?,
        _ => {
            return Err(error(
                "arguments must be literals (strings, numbers, True/False/None, lists, dicts) or arithmetic on numbers",
            ));
        }
    })
}

fn number(f: f64) -> Result<Value, NotificationError> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| error("arithmetic must give a finite number"))
}

fn arithmetic(op: BinOp, a: Value, b: Value) -> Result<Value, NotificationError> {
    if let (BinOp::Add, Value::String(x), Value::String(y)) = (op, &a, &b) {
        return Ok(Value::String(format!("{x}{y}")));
    }
    let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) else {
        return Err(error("arithmetic needs numbers (or + on two strings)"));
    };
    let integers = a.as_i64().zip(b.as_i64());
    let result = match (op, integers) {
        (BinOp::Add, Some((x, y))) => x.checked_add(y).map(Value::from),
        (BinOp::Sub, Some((x, y))) => x.checked_sub(y).map(Value::from),
        (BinOp::Mul, Some((x, y))) => x.checked_mul(y).map(Value::from),
        (BinOp::FloorDiv, Some((x, y))) if y != 0 => Some(Value::from(x.div_euclid(y))),
        (BinOp::Mod, Some((x, y))) if y != 0 => Some(Value::from(x.rem_euclid(y))),
        _ => None,
    };
    if let Some(v) = result {
        return Ok(v);
    }
    match op {
        BinOp::Add => number(x + y),
        BinOp::Sub => number(x - y),
        BinOp::Mul => number(x * y),
        BinOp::Div | BinOp::FloorDiv | BinOp::Mod if y == 0.0 => Err(error("division by zero")),
        BinOp::Div => number(x / y),
        BinOp::FloorDiv => number((x / y).floor()),
        BinOp::Mod => number(x.rem_euclid(y)),
        BinOp::Pow => number(x.powf(y)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ok(src: &str) -> NotificationSpec {
        parse(src).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    #[test]
    fn reads_zmons_entries() {
        let mail = ok("send_mail('team@example.org', 'group:db', repeat=5*60)");
        assert_eq!(mail.kind, NotifyKind::Mail);
        assert_eq!(mail.recipients, ["team@example.org", "group:db"]);
        assert_eq!(mail.repeat_secs(), 300);
        assert!(mail.per_entity());
        let email =
            ok("send_email(['a@x.org', 'b@x.org'], subject='{entities} down', per_entity=False)");
        assert_eq!(email.recipients, ["a@x.org", "b@x.org"]);
        assert!(!email.per_entity());
        assert_eq!(email.option_str("subject"), Some("{entities} down"));
        let slack = ok("send_slack(channel='#ops')");
        assert_eq!(slack.kind, NotifyKind::Slack);
        assert_eq!(slack.option_str("channel"), Some("#ops"));
        let pd = ok("notify_pagerduty(routing_key='abc', per_entity=True)");
        assert!(pd.per_entity() && pd.tracks_incidents());
        assert_eq!(
            ok("send_sms('active:db-oncall')").recipients,
            ["active:db-oncall"]
        );
        let http =
            ok("notify_http('https://hooks.example.org/x', headers={'X-Team': 'db'}, timeout=2.5)");
        assert_eq!(http.option_str("url"), Some("https://hooks.example.org/x"));
        assert_eq!(http.options["headers"], json!({"X-Team": "db"}));
        assert_eq!(
            ok("notify_opsgenie(teams=['db'], priority='P2')").kind,
            NotifyKind::OpsGenie
        );
        assert_eq!(ok("True").kind, NotifyKind::Nothing);
        assert_eq!(
            ok("send_mail('a@b.c', repeat=-(-60) + 2**2 - 4 // 3)").repeat_secs(),
            63
        );
    }

    #[test]
    fn refuses_what_cannot_be_sent() {
        for (src, expected) in [
            (
                "send_hipchat(room='x')",
                "unknown notification function 'send_hipchat'",
            ),
            ("send_mail()", "needs at least one recipient"),
            (
                "send_mail('a@b.c', colour='red')",
                "unexpected keyword argument 'colour'",
            ),
            ("send_slack('w', '#c', 'm', 1, 2)", "at most 4 positional"),
            ("send_slack(channel=foo)", "arguments must be literals"),
            (
                "send_mail('a@b.c', repeat='soon')",
                "repeat must be a number",
            ),
            ("send_mail('a@b.c', repeat=1/0)", "division by zero"),
            ("notify_opsgenie()", "needs teams"),
            ("notify_http(format='xml')", "format 'xml'"),
            ("send_slack(channel='#a', channel='#b')", ""),
            ("send_mail('a@b.c'", "column"),
            ("42", "must be a call"),
            ("os.system('rm')", "by name"),
        ] {
            let err = parse(src).expect_err(src).to_string();
            assert!(err.contains(expected), "{src}: {err}");
        }
    }
}
