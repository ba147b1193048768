//! `diskio` from `/proc/diskstats`.

use procfs_core::{DiskStats, FromRead};
use serde_json::{Map, Value, json};

use super::Ctx;
use crate::host::rates::Rates;

/// Glances hides loop devices and, by default, ram disks.
fn hidden(name: &str) -> bool {
    name.starts_with("loop") || name.starts_with("ram")
}

pub fn collect(ctx: &Ctx, rates: &mut Rates) -> Value {
    let Ok(stats) = DiskStats::from_file(ctx.root.proc.join("diskstats")) else {
        return Value::Array(Vec::new());
    };
    let mut out = Vec::with_capacity(stats.0.len());
    for d in stats.0 {
        if hidden(&d.name) {
            continue;
        }
        let mut entry = Map::new();
        entry.insert("disk_name".into(), json!(d.name));
        entry.insert("key".into(), json!("disk_name"));
        rates.apply(
            &d.name,
            &[
                ("read_count", d.reads),
                ("write_count", d.writes),
                // The kernel counts 512-byte sectors whatever the device's.
                ("read_bytes", d.sectors_read * 512),
                ("write_bytes", d.sectors_written * 512),
                ("read_time", d.time_reading),
                ("write_time", d.time_writing),
            ],
            ctx.tsu,
            &mut entry,
        );
        let latency = |time: &str, count: &str| {
            let t = entry.get(time).and_then(Value::as_f64).unwrap_or(0.0);
            let c = entry.get(count).and_then(Value::as_f64).unwrap_or(0.0);
            if c > 0.0 { (t / c).trunc() as u64 } else { 0 }
        };
        let rl = latency("read_time_rate_per_sec", "read_count_rate_per_sec");
        let wl = latency("write_time_rate_per_sec", "write_count_rate_per_sec");
        entry.insert("read_latency".into(), json!(rl));
        entry.insert("write_latency".into(), json!(wl));
        out.push(Value::Object(entry));
    }
    rates.finish();
    Value::Array(out)
}
