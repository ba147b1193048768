//! Ring buffers of the series Glances keeps, one point per sampler tick.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Number, Value};

/// One series: timestamped points, oldest first.
type Series = VecDeque<(DateTime<Utc>, Number)>;

/// Every series of every plugin, each capped at `size` points.
#[derive(Debug)]
pub struct HistoryStore {
    size: usize,
    plugins: BTreeMap<String, BTreeMap<String, Series>>,
}

impl HistoryStore {
    /// `size` 0 keeps nothing, as Glances' `history_size=0` does.
    pub fn new(size: usize) -> Self {
        Self {
            size,
            plugins: BTreeMap::new(),
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Appends one point to `plugin`'s series `name` (`user`, or
    /// `eth0_bytes_recv_rate_per_sec` for list plugins), dropping the oldest
    /// point when the series is full.
    pub fn push(&mut self, plugin: &str, name: &str, at: DateTime<Utc>, value: Number) {
        if self.size == 0 {
            return;
        }
        // Look up before inserting: the series exist after the first tick,
        // and `entry` would allocate both keys on every push.
        if !self.plugins.contains_key(plugin) {
            self.plugins.insert(plugin.to_string(), BTreeMap::new());
        }
        let Some(by_name) = self.plugins.get_mut(plugin) else {
            return;
        };
        if !by_name.contains_key(name) {
            by_name.insert(name.to_string(), VecDeque::new());
        }
        let Some(series) = by_name.get_mut(name) else {
            return;
        };
        while series.len() >= self.size {
            series.pop_front();
        }
        series.push_back((at, value));
    }

    /// `{series: [[iso, value], ...]}` with the last `nb` points of each
    /// series (`nb` 0 or `None`: all). `None` when the plugin keeps no
    /// history.
    pub fn plugin_history(&self, plugin: &str, nb: Option<usize>) -> Option<Map<String, Value>> {
        let series = self.plugins.get(plugin)?;
        Some(
            series
                .iter()
                .map(|(name, points)| (name.clone(), points_json(points, nb)))
                .collect(),
        )
    }

    /// `[[iso, value], ...]` of one series, or `None` if it is absent.
    pub fn item_history(&self, plugin: &str, item: &str, nb: Option<usize>) -> Option<Value> {
        let points = self.plugins.get(plugin)?.get(item)?;
        Some(points_json(points, nb))
    }
}

fn points_json(points: &Series, nb: Option<usize>) -> Value {
    let skip = match nb {
        Some(nb) if nb > 0 => points.len().saturating_sub(nb),
        _ => 0,
    };
    Value::Array(
        points
            .iter()
            .skip(skip)
            .map(|(at, value)| {
                Value::Array(vec![
                    Value::String(at.to_rfc3339_opts(SecondsFormat::Micros, false)),
                    Value::Number(value.clone()),
                ])
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn keeps_the_newest_points_up_to_the_size() {
        let mut store = HistoryStore::new(3);
        for i in 0..5 {
            store.push("cpu", "user", at(i), Number::from(i));
        }
        let series = store.item_history("cpu", "user", None).unwrap_or_default();
        let values: Vec<i64> = series
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p[1].as_i64())
            .collect();
        assert_eq!(values, [2, 3, 4]);
        assert_eq!(
            series[0][0], "2023-11-14T22:13:22.000000+00:00",
            "UTC ISO 8601 with an explicit offset, as Glances writes it"
        );
    }

    #[test]
    fn nb_returns_the_last_points_and_zero_returns_all() {
        let mut store = HistoryStore::new(10);
        for i in 0..4 {
            store.push("load", "min1", at(i), Number::from(i));
        }
        let last2 = store.plugin_history("load", Some(2)).unwrap_or_default();
        assert_eq!(last2["min1"].as_array().map(Vec::len), Some(2));
        assert_eq!(last2["min1"][1][1], 3);
        let all = store.plugin_history("load", Some(0)).unwrap_or_default();
        assert_eq!(all["min1"].as_array().map(Vec::len), Some(4));
        assert!(store.plugin_history("mem", None).is_none());
        assert!(store.item_history("load", "min5", None).is_none());
    }

    #[test]
    fn size_zero_keeps_nothing() {
        let mut store = HistoryStore::new(0);
        store.push("cpu", "user", at(0), Number::from(1));
        assert!(store.plugin_history("cpu", None).is_none());
    }
}
