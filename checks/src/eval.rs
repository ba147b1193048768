//! Running compiled check commands and evaluating alert conditions.

use std::collections::BTreeMap;
use std::time::Duration;

use rhai::{Dynamic, EvalAltResult, Scope};
use serde_json::{Map, Value};
use zmon_core::alert::{Parameter, ParameterType};

use crate::builtins::truthy;
use crate::compile::Compiled;
use crate::context::{self, History, HostReports, ProbeOutcome, RunState};
use crate::engine::{self, TIMEOUT_TOKEN};
use crate::{convert, fast};

/// Why a check or a condition did not produce a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RunError(pub String);

fn explain(e: &EvalAltResult, timeout: Duration) -> RunError {
    let text = match e {
        EvalAltResult::ErrorTerminated(token, _) if token.to_string() == TIMEOUT_TOKEN => {
            format!("timed out after {:.1}s", timeout.as_secs_f64())
        }
        EvalAltResult::ErrorTooManyOperations(_) => {
            "stopped: the script ran too many operations (an endless loop?)".into()
        }
        EvalAltResult::ErrorStackOverflow(_) => "stopped: calls nested too deeply".into(),
        EvalAltResult::ErrorDataTooLarge(what, _) => format!("stopped: {what} is too large"),
        EvalAltResult::ErrorRuntime(value, _) => value.to_string(),
        EvalAltResult::ErrorFunctionNotFound(signature, _) if signature.starts_with("py_") => {
            python_signature(signature)
        }
        EvalAltResult::ErrorInFunctionCall(name, _, inner, _) if !name.starts_with("py_") => {
            format!("in {name}(): {}", explain(inner, timeout))
        }
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => explain(inner, timeout).0,
        other => other.to_string(),
    };
    RunError(text)
}

/// `py_upper (i64)`, a translated Python call that does not fit its
/// arguments, told in Python's words: `upper() does not take (int)`.
fn python_signature(signature: &str) -> String {
    let (name, args) = signature.split_once(' ').unwrap_or((signature, "()"));
    let name = name.trim_start_matches("py_");
    let types: Vec<&str> = args
        .trim_matches(|c| c == '(' || c == ')')
        .split(", ")
        .filter(|t| !t.is_empty())
        .map(|t| match t {
            "i64" => "int",
            "f64" => "float",
            "string" | "char" => "str",
            "array" => "list",
            "map" => "dict",
            "()" => "None",
            other => other,
        })
        .collect();
    format!("{name}() does not take ({})", types.join(", "))
}

fn to_json(value: &Dynamic) -> Result<Value, RunError> {
    convert::to_json(value).ok_or_else(|| {
        RunError(format!(
            "the result is a {}, which has no JSON form (call one of its methods, e.g. .code())",
            value.type_name()
        ))
    })
}

/// Runs a check command for one entity, bound as `entity`, and returns its
/// value as JSON.
pub fn run_command(
    compiled: &Compiled,
    entity: &Map<String, Value>,
    timeout: Duration,
) -> Result<Value, RunError> {
    run_command_with(compiled, entity, HostReports::default(), timeout)
}

/// [`run_command`] for a script that reads host reports
/// ([`crate::Needs::host_reports`]), loaded by the caller.
pub fn run_command_with(
    compiled: &Compiled,
    entity: &Map<String, Value>,
    host_reports: HostReports,
    timeout: Duration,
) -> Result<Value, RunError> {
    run_command_probing(compiled, entity, host_reports, timeout).value
}

/// A check run's value and the monitor probes it made.
#[derive(Debug, Clone)]
pub struct CommandRun {
    pub value: Result<Value, RunError>,
    pub probes: Vec<ProbeOutcome>,
}

/// [`run_command_with`], also returning the monitor probes the script made
/// (`monitor_probe`), which the worker publishes.
pub fn run_command_probing(
    compiled: &Compiled,
    entity: &Map<String, Value>,
    host_reports: HostReports,
    timeout: Duration,
) -> CommandRun {
    let mut scope = Scope::new();
    scope.push_constant("entity", Dynamic::from_map(convert::map_to_rhai(entity)));
    let state = RunState {
        entity: entity.clone(),
        host_reports,
        ..RunState::default()
    };
    let (result, state) = context::scoped(state, timeout, || {
        engine::shared().eval_ast_with_scope::<Dynamic>(&mut scope, &compiled.ast)
    });
    let value = result
        .map_err(|e| explain(&e, timeout))
        .and_then(|v| to_json(&v));
    CommandRun {
        value,
        probes: state.probes,
    }
}

/// Everything a condition sees.
#[derive(Debug, Clone)]
pub struct ConditionInput<'a> {
    pub value: &'a Value,
    pub entity: &'a Map<String, Value>,
    pub parameters: &'a BTreeMap<String, Parameter>,
    pub history: History,
    pub timeout: Duration,
}

/// The verdict on one (alert, entity).
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionOutcome {
    pub is_alert: bool,
    /// The parameters' values, then what the condition captured.
    pub captures: Map<String, Value>,
    /// Why evaluation failed; the alert is then raised (ZMON's fail-safe).
    pub error: Option<String>,
}

/// Names a parameter may not take: the condition's own variables.
const RESERVED_NAMES: &[&str] = &["value", "entity", "params"];

/// A parameter's value, cast per its type.
fn parameter_value(name: &str, p: &Parameter) -> Result<Value, RunError> {
    let wrong = || RunError(format!("parameter '{name}' does not fit its type"));
    Ok(match p.param_type {
        Some(ParameterType::Int) => match &p.value {
            Value::Number(n) => Value::from(
                n.as_i64()
                    .or_else(|| n.as_f64().map(|f| f as i64))
                    .ok_or_else(wrong)?,
            ),
            Value::String(s) => Value::from(s.trim().parse::<i64>().map_err(|_| wrong())?),
            _ => return Err(wrong()),
        },
        Some(ParameterType::Float) => match &p.value {
            Value::Number(n) => Value::from(n.as_f64().ok_or_else(wrong)?),
            Value::String(s) => Value::from(s.trim().parse::<f64>().map_err(|_| wrong())?),
            _ => return Err(wrong()),
        },
        Some(ParameterType::Str) => match &p.value {
            Value::String(s) => Value::String(s.clone()),
            other => Value::String(other.to_string()),
        },
        Some(ParameterType::Bool) => match &p.value {
            Value::Bool(b) => Value::Bool(*b),
            Value::String(s) => Value::Bool(!s.is_empty()),
            Value::Number(n) => Value::Bool(n.as_f64() != Some(0.0)),
            _ => return Err(wrong()),
        },
        _ => p.value.clone(),
    })
}

/// The parameters' values, cast per their types, in name order.
fn parameter_values(
    parameters: &BTreeMap<String, Parameter>,
) -> Result<Map<String, Value>, RunError> {
    let mut values = Map::new();
    for (name, p) in parameters {
        if RESERVED_NAMES.contains(&name.as_str()) {
            return Err(RunError(format!(
                "parameter name '{name}' clashes with a variable of the condition"
            )));
        }
        values.insert(name.clone(), parameter_value(name, p)?);
    }
    Ok(values)
}

/// Evaluates an alert condition. Any failure raises the alert, with the
/// error in the captures under `exception`, as ZMON does.
pub fn evaluate_condition(compiled: &Compiled, input: ConditionInput<'_>) -> ConditionOutcome {
    let parameters = match parameter_values(input.parameters) {
        Ok(p) => p,
        Err(e) => return failed(Map::new(), e.0),
    };
    if let Some(fast) = &compiled.fast {
        let mut captures = Map::new();
        let mut env = fast::Env::new(input.value, input.entity, &parameters, &mut captures);
        let result = fast::eval(fast, &mut env).map_err(|e| explain(&e, input.timeout));
        return verdict(result, parameters, captures);
    }
    let mut scope = Scope::new();
    for (name, v) in &parameters {
        scope.push_constant(name.as_str(), convert::to_dynamic(v));
    }
    if compiled.needs.params {
        scope.push_constant(
            "params",
            Dynamic::from_map(convert::map_to_rhai(&parameters)),
        );
    }
    scope.push_constant("value", convert::to_dynamic(input.value));
    if compiled.needs.entity {
        scope.push_constant(
            "entity",
            Dynamic::from_map(convert::map_to_rhai(input.entity)),
        );
    }
    let state = RunState {
        entity: Map::new(),
        captures: Map::new(),
        history: input.history,
        ..RunState::default()
    };
    let (result, state) = context::scoped(state, input.timeout, || {
        engine::shared().eval_ast_with_scope::<Dynamic>(&mut scope, &compiled.ast)
    });
    let result = result.map_err(|e| explain(&e, input.timeout));
    verdict(result, parameters, state.captures)
}

/// Turns a condition's result into the verdict; captures list the
/// parameters first, then what the condition captured.
fn verdict(
    result: Result<Dynamic, RunError>,
    parameters: Map<String, Value>,
    captured: Map<String, Value>,
) -> ConditionOutcome {
    let mut captures = parameters;
    captures.extend(captured);
    match result {
        Ok(v) if v.is_unit() => failed(captures, "the condition returned None".into()),
        Ok(v) => ConditionOutcome {
            is_alert: truthy(&v),
            captures,
            error: None,
        },
        Err(e) => failed(captures, e.0),
    }
}

fn failed(mut captures: Map<String, Value>, error: String) -> ConditionOutcome {
    captures.insert("exception".into(), Value::String(error.clone()));
    ConditionOutcome {
        is_alert: true,
        captures,
        error: Some(error),
    }
}
