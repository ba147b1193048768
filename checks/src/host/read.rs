//! Small file readers. `/proc` and `/sys` files vanish under us all the
//! time (processes exit, devices go), so readers return `Option` and the
//! callers skip what is gone.

use std::path::Path;

pub fn string(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

pub fn trimmed(path: &Path) -> Option<String> {
    string(path).map(|s| s.trim().to_string())
}

pub fn number<T: std::str::FromStr>(path: &Path) -> Option<T> {
    string(path)?.trim().parse().ok()
}

/// `KEY=value` lines (os-release), with optional quotes.
pub fn env_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// Rounds to one decimal, as Python's `round(x, 1)` (close enough for
/// values that are themselves ratios of integers).
pub fn round1(x: f64) -> f64 {
    if x.is_finite() {
        (x * 10.0).round() / 10.0
    } else {
        0.0
    }
}
