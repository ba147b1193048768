//! Glances' default limits (`conf/glances.conf` and the built-in
//! defaults): numbers as floats, everything else as lists of strings.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::PLUGINS;

fn levels(m: &mut Map<String, Value>, prefix: &str, careful: f64, warning: f64, critical: f64) {
    m.insert(format!("{prefix}_careful"), json!(careful));
    m.insert(format!("{prefix}_warning"), json!(warning));
    m.insert(format!("{prefix}_critical"), json!(critical));
}

/// Limits of every plugin for a host with `cpucore` logical CPUs.
pub fn defaults(cpucore: u32, history_size: usize) -> BTreeMap<String, Value> {
    let ncpu = f64::from(cpucore.max(1));
    PLUGINS
        .iter()
        .map(|&plugin| {
            let mut m = Map::new();
            m.insert("history_size".into(), json!(history_size as f64));
            m.insert(format!("{plugin}_disable"), json!(["False"]));
            match plugin {
                "cpu" => {
                    levels(&mut m, "cpu_user", 50.0, 70.0, 90.0);
                    levels(&mut m, "cpu_system", 50.0, 70.0, 90.0);
                    levels(&mut m, "cpu_steal", 50.0, 70.0, 90.0);
                    let c = 100.0 / ncpu;
                    levels(&mut m, "cpu_iowait", 0.8 * c, 0.9 * c, c);
                    levels(&mut m, "cpu_total", 65.0, 75.0, 85.0);
                    m.insert("cpu_total_log".into(), json!(["True"]));
                    let s = 50_000.0 * ncpu;
                    levels(&mut m, "cpu_ctx_switches", 0.8 * s, 0.9 * s, s);
                }
                "percpu" => {
                    levels(&mut m, "percpu_user", 50.0, 70.0, 90.0);
                    levels(&mut m, "percpu_system", 50.0, 70.0, 90.0);
                    levels(&mut m, "percpu_iowait", 50.0, 70.0, 90.0);
                }
                "load" => levels(&mut m, "load", 0.7, 1.0, 5.0),
                "mem" | "memswap" => levels(&mut m, plugin, 50.0, 70.0, 90.0),
                "fs" => {
                    levels(&mut m, "fs", 50.0, 70.0, 90.0);
                    m.insert("fs_hide".into(), json!(["/boot.*", ".*/snap.*"]));
                }
                "network" => {
                    levels(&mut m, "network_rx", 70.0, 80.0, 90.0);
                    levels(&mut m, "network_tx", 70.0, 80.0, 90.0);
                    m.insert("network_hide".into(), json!(["docker.*", "lo"]));
                }
                "diskio" => {
                    levels(&mut m, "diskio_rx_latency", 10.0, 20.0, 50.0);
                    levels(&mut m, "diskio_tx_latency", 10.0, 20.0, 50.0);
                    m.insert("diskio_hide".into(), json!(["loop.*", "ram.*"]));
                }
                "sensors" => {
                    levels(&mut m, "sensors_temperature_core", 45.0, 65.0, 80.0);
                    levels(&mut m, "sensors_temperature_hdd", 45.0, 52.0, 60.0);
                    levels(&mut m, "sensors_battery", 70.0, 80.0, 90.0);
                }
                "quicklook" => {
                    levels(&mut m, "quicklook_cpu", 50.0, 70.0, 90.0);
                    levels(&mut m, "quicklook_mem", 50.0, 70.0, 90.0);
                    levels(&mut m, "quicklook_swap", 50.0, 70.0, 90.0);
                    levels(&mut m, "quicklook_load", 70.0, 100.0, 500.0);
                }
                "processlist" => {
                    levels(&mut m, "processlist_cpu", 50.0, 70.0, 90.0);
                    levels(&mut m, "processlist_mem", 50.0, 70.0, 90.0);
                    m.insert("processlist_status_critical".into(), json!(["Z", "D"]));
                    m.insert("processlist_status_ok".into(), json!(["R", "W", "P", "I"]));
                }
                _ => {}
            }
            (plugin.to_string(), Value::Object(m))
        })
        .collect()
}
