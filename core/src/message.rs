//! Alert titles: the definition's name with capture values filled in.
//!
//! `{key}` becomes the values captured under `key` on the given entities
//! (keys compare case-insensitively, distinct values joined by `, `),
//! `{key:.2f}` formats numbers to two decimals, and `{entities}` lists the
//! entity ids. Placeholders with no value stay as written. Strings are
//! inserted without JSON quotes (ZMON kept the quotes; nobody wanted them).

use serde_json::{Map, Value};

pub fn format_alert_title(template: &str, captures: &[(&str, &Map<String, Value>)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let placeholder = &after[..close];
        match render(placeholder, captures) {
            Some(text) => out.push_str(&text),
            None => {
                out.push('{');
                out.push_str(placeholder);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

fn render(placeholder: &str, captures: &[(&str, &Map<String, Value>)]) -> Option<String> {
    let (name, spec) = placeholder.split_once(':').unwrap_or((placeholder, ""));
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let mut values: Vec<String> = Vec::new();
    if name == "entities" {
        values = captures.iter().map(|(id, _)| id.to_string()).collect();
    } else {
        for (_, map) in captures {
            let found = map
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v);
            if let Some(v) = found {
                let text = format_value(v, spec);
                if !values.contains(&text) {
                    values.push(text);
                }
            }
        }
    }
    (!values.is_empty()).then(|| values.join(", "))
}

fn format_value(value: &Value, spec: &str) -> String {
    let decimals = spec
        .strip_prefix('.')
        .and_then(|s| s.strip_suffix('f'))
        .and_then(|n| n.parse::<usize>().ok());
    match (value, decimals) {
        (Value::Number(n), Some(d)) => match n.as_f64() {
            Some(f) => format!("{f:.d$}", d = d.min(17)),
            None => n.to_string(),
        },
        (Value::String(s), _) => s.clone(),
        (other, _) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn fills_captures_entities_and_precision() {
        let a = map(json!({"mycapture": 123.456789, "city": "Kinshasa"}));
        let b = map(json!({"MyCapture": 1, "city": "Kinshasa"}));
        let caps = [("cd-kinshasa", &a), ("cn-peking", &b)];
        assert_eq!(
            format_alert_title("My alert {mycapture:.2f}", &caps[..1]),
            "My alert 123.46"
        );
        assert_eq!(
            format_alert_title("{city} on {entities}", &caps),
            "Kinshasa on cd-kinshasa, cn-peking"
        );
        assert_eq!(
            format_alert_title("v={mycapture}", &caps),
            "v=123.456789, 1"
        );
    }

    #[test]
    fn unknown_and_broken_placeholders_stay() {
        let a = map(json!({"x": 1}));
        let caps = [("e1", &a)];
        assert_eq!(format_alert_title("{nope} {x}", &caps), "{nope} 1");
        assert_eq!(format_alert_title("open {x", &caps), "open {x");
        assert_eq!(format_alert_title("{} {x}", &caps), "{} 1");
        assert_eq!(
            format_alert_title("City Longitude >0", &[]),
            "City Longitude >0"
        );
    }
}
