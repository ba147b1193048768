//! Glances' events list, fed by the `_LOG` decorations and shown by the
//! `alert` plugin.

use serde_json::{Value, json};

use super::ClearEvents;

/// Events shorter than this are dropped on close, and an event of the
/// same type closed less than this ago is reopened instead of duplicated.
const MIN_DURATION: f64 = 6.0;
const MAX_EVENTS: usize = 10;

#[derive(Debug, Clone)]
struct Event {
    begin: f64,
    end: f64,
    state: &'static str,
    kind: String,
    min: f64,
    max: f64,
    sum: f64,
    count: u64,
    top: Vec<String>,
}

impl Event {
    fn observe(&mut self, state: &'static str, value: f64, top: &[String]) {
        self.top = top.to_vec();
        if state == "CRITICAL" {
            self.state = state;
        }
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.sum += value;
        self.count += 1;
    }

    fn ongoing(&self) -> bool {
        self.end < 0.0
    }
}

/// Newest first, as Glances lists them.
#[derive(Debug, Default)]
pub struct Events {
    list: Vec<Event>,
}

impl Events {
    /// One decorated observation: `state` is the decoration without `_LOG`;
    /// `top` names the processes that use most of the resource now.
    pub fn observe(
        &mut self,
        now: f64,
        state: &'static str,
        kind: &str,
        value: f64,
        top: &[String],
    ) {
        let open = self.list.iter().position(|e| e.kind == kind && e.ongoing());
        let alarming = matches!(state, "WARNING" | "CRITICAL");
        match (open, alarming) {
            (Some(i), true) => self.list[i].observe(state, value, top),
            (Some(i), false) => {
                self.list[i].end = now;
                if now - self.list[i].begin < MIN_DURATION {
                    self.list.remove(i);
                }
            }
            (None, true) => {
                let recent = self
                    .list
                    .iter()
                    .position(|e| e.kind == kind && now - e.end < MIN_DURATION);
                if let Some(i) = recent {
                    self.list[i].end = -1.0;
                    self.list[i].observe(state, value, top);
                    return;
                }
                self.list.insert(
                    0,
                    Event {
                        begin: now,
                        end: -1.0,
                        state,
                        kind: kind.to_string(),
                        min: value,
                        max: value,
                        sum: value,
                        count: 1,
                        top: top.to_vec(),
                    },
                );
                self.list.truncate(MAX_EVENTS);
            }
            (None, false) => {}
        }
    }

    pub fn clear(&mut self, which: ClearEvents) {
        self.list
            .retain(|e| e.ongoing() || (which == ClearEvents::Warning && e.state != "WARNING"));
    }

    pub fn to_json(&self) -> Value {
        Value::Array(
            self.list
                .iter()
                .map(|e| {
                    let sort = if e.kind.starts_with("MEM") {
                        "memory_percent"
                    } else {
                        "cpu_percent"
                    };
                    json!({
                        "begin": e.begin,
                        "end": e.end,
                        "state": e.state,
                        "type": e.kind,
                        "min": e.min,
                        "max": e.max,
                        "sum": e.sum,
                        "count": e.count,
                        "avg": e.sum / e.count.max(1) as f64,
                        "top": e.top,
                        "desc": "",
                        "sort": sort,
                        "global_msg": format!("{} {}", e.kind, e.state),
                    })
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_events_are_dropped_and_recent_ones_reopened() {
        let mut ev = Events::default();
        ev.observe(0.0, "WARNING", "MEM", 75.0, &[]);
        ev.observe(2.0, "OK", "MEM", 40.0, &[]);
        assert_eq!(ev.to_json().as_array().map(Vec::len), Some(0), "under 6 s");
        ev.observe(10.0, "WARNING", "MEM", 75.0, &[]);
        ev.observe(12.0, "CRITICAL", "MEM", 95.0, &["java".to_string()]);
        ev.observe(20.0, "OK", "MEM", 40.0, &[]);
        ev.observe(23.0, "WARNING", "MEM", 80.0, &[]);
        let json = ev.to_json();
        assert_eq!(
            json.as_array().map(Vec::len),
            Some(1),
            "reopened within 6 s"
        );
        assert_eq!(json[0]["end"], -1.0);
        assert_eq!(json[0]["state"], "CRITICAL");
        assert_eq!(json[0]["max"], 95.0);
        assert_eq!(json[0]["count"], 3);
        assert_eq!(json[0]["top"], serde_json::json!([]), "the latest top wins");
    }

    #[test]
    fn clear_keeps_ongoing_events() {
        let mut ev = Events::default();
        ev.observe(0.0, "WARNING", "MEM", 75.0, &[]);
        ev.observe(10.0, "OK", "MEM", 40.0, &[]);
        ev.observe(20.0, "CRITICAL", "LOAD", 6.0, &[]);
        ev.clear(ClearEvents::Warning);
        assert_eq!(ev.to_json().as_array().map(Vec::len), Some(1));
        ev.clear(ClearEvents::All);
        assert_eq!(ev.to_json()[0]["type"], "LOAD");
    }
}
