//! Small formatting helpers shared by the pages.

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// A duration as people read it at a glance: `42s`, `3m 12s`, `5h 04m`, `2d 3h`.
pub fn age(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// ZMON's priorities: 1 red, 2 orange, 3 yellow (anything else is 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Critical,
    Warning,
    Notice,
}

impl Severity {
    pub fn of(priority: Option<i32>) -> Self {
        match priority {
            Some(1) => Severity::Critical,
            Some(2) => Severity::Warning,
            _ => Severity::Notice,
        }
    }

    /// CSS class (the colour); the label says the same in words.
    pub fn class(self) -> &'static str {
        match self {
            Severity::Critical => "red",
            Severity::Warning => "orange",
            Severity::Notice => "yellow",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "Critical (priority 1)",
            Severity::Warning => "Warning (priority 2)",
            Severity::Notice => "Notice (priority 3)",
        }
    }
}

/// A JSON value as a short text for tables: strings unquoted, the rest
/// compact, cut at `max` characters.
pub fn short_value(value: &serde_json::Value, max: usize) -> String {
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Trimmed text, or `None` when blank (the API then applies its default
/// or says the field is mandatory).
pub fn optional_text(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The first value of a field in form pairs (repeated fields come as
/// pairs in order); empty when absent.
pub fn form_field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// A JSON list of entity filters from a form field; `None` when blank.
/// What cannot be parsed is recorded under `field` in `errors`.
pub fn entity_filters(
    field: &str,
    text: &str,
    errors: &mut std::collections::BTreeMap<String, String>,
) -> Option<Vec<zmon_core::EntityFilter>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    serde_json::from_str(text)
        .map_err(|e| {
            errors.insert(
                field.to_string(),
                format!("a JSON list of filters, e.g. [{{\"type\": \"host\"}}], is expected: {e}"),
            )
        })
        .ok()
}

/// Which of `fields` an API error message is about (`condition: …`,
/// `notifications[2]: …`, `team is mandatory`), so a form can show it
/// beside that field.
pub fn error_field(message: &str, fields: &[&'static str]) -> Option<&'static str> {
    let head: String = message
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    fields.iter().copied().find(|f| *f == head)
}

/// Only same-site paths are followed after login (no `//evil`, no URLs).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_at_a_glance() {
        assert_eq!(age(-3.0), "0s");
        assert_eq!(age(42.9), "42s");
        assert_eq!(age(192.0), "3m 12s");
        assert_eq!(age(5.0 * 3600.0 + 240.0), "5h 04m");
        assert_eq!(age(2.0 * 86_400.0 + 3.0 * 3600.0), "2d 3h");
    }

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some("/alerts/3?x=1")), "/alerts/3?x=1");
        assert_eq!(safe_next(Some("//evil.example.com")), "/");
        assert_eq!(safe_next(Some("https://evil.example.com")), "/");
        assert_eq!(safe_next(Some("/\\evil.example.com")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn values_are_shortened_and_encoded() {
        assert_eq!(short_value(&serde_json::json!("abc"), 10), "abc");
        assert_eq!(short_value(&serde_json::json!({"a": 1}), 10), "{\"a\":1}");
        assert_eq!(short_value(&serde_json::json!("abcdefghijkl"), 5), "abcd…");
        assert_eq!(url_encode("/a b?c=d&é"), "%2Fa%20b%3Fc%3Dd%26%C3%A9");
    }
}
