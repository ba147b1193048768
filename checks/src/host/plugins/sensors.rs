//! `sensors` from hwmon (temperatures, fans) and power supplies.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Value, json};

use super::Ctx;
use crate::host::read;

fn sorted_dir(path: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// Input files such as `temp1_input`, in index order.
fn inputs(dir: &Path, prefix: &str) -> Vec<String> {
    let mut idx: Vec<u32> = sorted_dir(dir)
        .iter()
        .filter_map(|p| {
            let n = p.file_name()?.to_str()?;
            n.strip_prefix(prefix)?.strip_suffix("_input")?.parse().ok()
        })
        .collect();
    idx.sort_unstable();
    idx.into_iter().map(|i| format!("{prefix}{i}")).collect()
}

pub fn collect(ctx: &Ctx) -> Value {
    let mut out = Vec::new();
    let mut labels: HashMap<String, u32> = HashMap::new();
    let mut push = |label: String,
                    unit: &str,
                    value: i64,
                    warning: Option<i64>,
                    critical: Option<i64>,
                    kind: &str| {
        // Glances gives duplicate labels an index so `label` stays a key.
        let n = labels.entry(label.clone()).or_insert(0);
        *n += 1;
        let label = if *n > 1 {
            format!("{label} {}", *n - 1)
        } else {
            label
        };
        out.push(json!({
            "label": label,
            "unit": unit,
            "value": value,
            "warning": warning,
            "critical": critical,
            "type": kind,
            "key": "label",
        }));
    };
    let mut temps = 0;
    for chip in sorted_dir(&ctx.root.sys.join("class/hwmon")) {
        let chip_name = read::trimmed(&chip.join("name")).unwrap_or_else(|| "hwmon".into());
        for dir in [chip.clone(), chip.join("device")] {
            for (i, t) in inputs(&dir, "temp").iter().enumerate() {
                let Some(milli) = read::number::<i64>(&dir.join(format!("{t}_input"))) else {
                    continue;
                };
                let label = read::trimmed(&dir.join(format!("{t}_label")))
                    .filter(|l| !l.is_empty())
                    .unwrap_or_else(|| format!("{chip_name} {i}"));
                let high = read::number::<i64>(&dir.join(format!("{t}_max"))).map(|v| v / 1000);
                let crit = read::number::<i64>(&dir.join(format!("{t}_crit"))).map(|v| v / 1000);
                let kind = if chip_name == "drivetemp" {
                    "temperature_hdd"
                } else {
                    "temperature_core"
                };
                push(label, "C", milli / 1000, high, crit, kind);
                temps += 1;
            }
            for (i, f) in inputs(&dir, "fan").iter().enumerate() {
                let Some(rpm) = read::number::<i64>(&dir.join(format!("{f}_input"))) else {
                    continue;
                };
                let label = read::trimmed(&dir.join(format!("{f}_label")))
                    .filter(|l| !l.is_empty())
                    .unwrap_or_else(|| format!("{chip_name} {i}"));
                push(label, "R", rpm, None, None, "fan_speed");
            }
        }
    }
    if temps == 0 {
        for zone in sorted_dir(&ctx.root.sys.join("class/thermal")) {
            let Some(milli) = read::number::<i64>(&zone.join("temp")) else {
                continue;
            };
            let label = read::trimmed(&zone.join("type")).unwrap_or_else(|| "thermal".into());
            push(label, "C", milli / 1000, None, None, "temperature_core");
        }
    }
    for supply in sorted_dir(&ctx.root.sys.join("class/power_supply")) {
        if read::trimmed(&supply.join("type")).as_deref() != Some("Battery") {
            continue;
        }
        let Some(capacity) = read::number::<i64>(&supply.join("capacity")) else {
            continue;
        };
        let name = supply
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("BAT")
            .to_string();
        push(format!("BAT {name}"), "%", capacity, None, None, "battery");
    }
    Value::Array(out)
}
