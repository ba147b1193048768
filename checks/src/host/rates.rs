//! Glances' rate fields (`X`, `X_gauge`, `X_rate_per_sec`), with one fix:
//! every entry always carries all three plus `time_since_update`, even on
//! its first appearance, so clients that divide by `time_since_update`
//! never miss a key.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

/// The previous cumulative counters of every entry of one plugin.
#[derive(Debug, Default)]
pub struct Rates {
    prev: HashMap<String, Vec<u64>>,
    next: HashMap<String, Vec<u64>>,
}

impl Rates {
    /// Adds the rate fields of one entry (`key` names it, e.g. `eth0`) to
    /// `out`. `tsu` is the seconds since the plugin's previous update.
    pub fn apply(
        &mut self,
        key: &str,
        fields: &[(&str, u64)],
        tsu: f64,
        out: &mut Map<String, Value>,
    ) {
        let previous = self.prev.get(key);
        let mut current = Vec::with_capacity(fields.len());
        for (i, (name, value)) in fields.iter().enumerate() {
            let before = previous.and_then(|p| p.get(i)).copied();
            // As Glances: a zero counter on either side gives no delta
            // (a device that just appeared, or a counter that is unused).
            let delta = match before {
                Some(b) if b > 0 && *value > 0 => value.saturating_sub(b),
                _ => 0,
            };
            let rate = if tsu > 0.0 {
                (delta as f64 / tsu).floor()
            } else {
                0.0
            };
            out.insert((*name).to_string(), json!(delta));
            out.insert(format!("{name}_gauge"), json!(value));
            out.insert(format!("{name}_rate_per_sec"), json!(rate));
            current.push(*value);
        }
        out.insert("time_since_update".into(), json!(tsu));
        self.next.insert(key.to_string(), current);
    }

    /// Ends a plugin update: entries not seen this time are forgotten, so a
    /// device that comes back starts afresh.
    pub fn finish(&mut self) {
        self.prev = std::mem::take(&mut self.next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sight_has_every_key_and_zero_rates() {
        let mut rates = Rates::default();
        let mut out = Map::new();
        rates.apply("eth0", &[("bytes_recv", 1000)], 2.0, &mut out);
        assert_eq!(out["bytes_recv"], 0);
        assert_eq!(out["bytes_recv_gauge"], 1000);
        assert_eq!(out["bytes_recv_rate_per_sec"], 0.0);
        assert_eq!(out["time_since_update"], 2.0);
        rates.finish();
        let mut out = Map::new();
        rates.apply("eth0", &[("bytes_recv", 4001)], 2.0, &mut out);
        assert_eq!(out["bytes_recv"], 3001);
        assert_eq!(
            out["bytes_recv_rate_per_sec"], 1500.0,
            "floor division as Glances"
        );
    }

    #[test]
    fn a_counter_reset_gives_zero_not_a_wrap() {
        let mut rates = Rates::default();
        let mut out = Map::new();
        rates.apply("sda", &[("read_bytes", 5000)], 1.0, &mut out);
        rates.finish();
        rates.apply("sda", &[("read_bytes", 10)], 1.0, &mut out);
        assert_eq!(out["read_bytes"], 0);
    }
}
