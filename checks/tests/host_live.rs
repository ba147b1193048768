//! Runs the sampler on this machine and checks shapes and sanity.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::Value;
use zmon_checks::host::{HostMonitor, PLUGINS, SamplerConfig};

fn wait_for(deadline: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + deadline;
    while Instant::now() < until {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

#[test]
fn the_sampler_publishes_sane_snapshots_on_this_machine() {
    let monitor = HostMonitor::start(SamplerConfig {
        tick: Duration::from_millis(200),
        priming: Duration::from_millis(100),
        ..SamplerConfig::default()
    });
    let s = monitor.latest();
    for name in PLUGINS {
        let v = s
            .plugin(name)
            .unwrap_or_else(|| panic!("{name} is missing"));
        match *name {
            "uptime" | "version" | "psutilversion" => assert!(v.is_string(), "{name}"),
            "alert" | "amps" | "containers" | "diskio" | "folders" | "fs" | "gpu" | "irq"
            | "network" | "percpu" | "ports" | "processlist" | "programlist" | "sensors"
            | "wifi" => {
                let list = v
                    .as_array()
                    .unwrap_or_else(|| panic!("{name} is not a list"));
                for e in list {
                    assert!(e.is_object(), "{name}");
                    if *name != "alert" {
                        let key = e["key"].as_str().unwrap_or_else(|| panic!("{name} key"));
                        assert!(e.get(key).is_some(), "{name} entry lacks {key}");
                    }
                }
            }
            _ => assert!(v.is_object(), "{name} is not a dict"),
        }
    }
    assert_eq!(s.plugins.len(), PLUGINS.len());
    let total = s.plugin("cpu").unwrap()["total"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&total));
    assert!(s.plugin("mem").unwrap()["total"].as_u64().unwrap() > 0);
    assert!(s.plugin("load").unwrap()["min1"].as_f64().unwrap() >= 0.0);
    assert!(s.plugin("processcount").unwrap()["total"].as_u64().unwrap() >= 1);
    let me = i64::from(std::process::id());
    let procs = s.plugin("processlist").and_then(Value::as_array).unwrap();
    assert!(
        procs.iter().any(|p| p["pid"].as_i64() == Some(me)),
        "our own pid"
    );
    assert!(!s.plugin("fs").and_then(Value::as_array).unwrap().is_empty());
    for n in s.plugin("network").and_then(Value::as_array).unwrap() {
        assert!(n["time_since_update"].as_f64().unwrap() > 0.0);
        assert!(n.get("bytes_recv_rate_per_sec").is_some());
    }
    let all: serde_json::Map<String, Value> = serde_json::from_slice(s.all_json()).unwrap();
    assert!(all.contains_key("cpu"));
    assert!(!s.all_gzip().is_empty());
    assert!(s.views("cpu").unwrap()["total"]["decoration"].is_string());
    assert!(s.facts.mem_total > 0);
    assert_eq!(s.facts.agent_version, env!("CARGO_PKG_VERSION"));

    let first = s.seq;
    assert!(
        wait_for(Duration::from_secs(5), || monitor.latest().seq > first),
        "a second snapshot within the deadline"
    );
    assert!(wait_for(Duration::from_secs(5), || {
        monitor
            .plugin_history("cpu", None)
            .and_then(|h| h.get("user").and_then(Value::as_array).map(Vec::len))
            .unwrap_or(0)
            >= 2
    }));
    monitor.stop();
}

#[test]
fn dropping_the_last_handle_ends_the_sampler() {
    let monitor = HostMonitor::start(SamplerConfig {
        tick: Duration::from_millis(50),
        priming: Duration::from_millis(10),
        ..SamplerConfig::default()
    });
    drop(monitor);
    let gone = wait_for(Duration::from_secs(10), || {
        let tasks = std::fs::read_dir("/proc/self/task").unwrap();
        !tasks.flatten().any(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == "host-sampler")
        })
    });
    assert!(gone, "the host-sampler thread exits");
}
