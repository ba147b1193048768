//! Direct conversions between JSON values and Rhai values.
//!
//! These run for every check value, parameter and capture, so they avoid
//! the general serde path, which costs several times more.

use rhai::{Array, Dynamic, FLOAT, INT, ImmutableString, Map as RhaiMap};
use serde_json::{Map, Number, Value};

pub fn to_dynamic(value: &Value) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Dynamic::from(i as INT),
            None => Dynamic::from(n.as_f64().unwrap_or(FLOAT::NAN)),
        },
        Value::String(s) => Dynamic::from(ImmutableString::from(s.as_str())),
        Value::Array(items) => Dynamic::from_array(items.iter().map(to_dynamic).collect()),
        Value::Object(map) => Dynamic::from_map(map_to_rhai(map)),
    }
}

pub fn map_to_rhai(map: &Map<String, Value>) -> RhaiMap {
    map.iter()
        .map(|(k, v)| (k.as_str().into(), to_dynamic(v)))
        .collect()
}

/// `None` for values JSON cannot hold (functions, custom types).
pub fn to_json(value: &Dynamic) -> Option<Value> {
    if value.is_unit() {
        return Some(Value::Null);
    }
    if let Ok(b) = value.as_bool() {
        return Some(Value::Bool(b));
    }
    if let Ok(i) = value.as_int() {
        return Some(Value::from(i));
    }
    if let Ok(f) = value.as_float() {
        // NaN and infinities have no JSON form; ZMON wrote them as null.
        return Some(Number::from_f64(f).map_or(Value::Null, Value::Number));
    }
    if let Some(s) = value.read_lock::<ImmutableString>() {
        return Some(Value::String(s.to_string()));
    }
    if let Some(items) = value.read_lock::<Array>() {
        return items
            .iter()
            .map(to_json)
            .collect::<Option<Vec<_>>>()
            .map(Value::Array);
    }
    if let Some(map) = value.read_lock::<RhaiMap>() {
        let mut out = Map::with_capacity(map.len());
        for (k, v) in map.iter() {
            out.insert(k.to_string(), to_json(v)?);
        }
        return Some(Value::Object(out));
    }
    if let Ok(c) = value.as_char() {
        return Some(Value::String(c.to_string()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_json() {
        let v =
            json!({"a": [1, 2.5, "x", true, null, {"b": -3}], "big": 9_007_199_254_740_993_i64});
        assert_eq!(to_json(&to_dynamic(&v)), Some(v));
        assert_eq!(to_json(&Dynamic::from(FLOAT::NAN)), Some(Value::Null));
    }
}
