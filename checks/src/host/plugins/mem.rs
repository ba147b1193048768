//! `mem`, `memswap` and `load`.

use procfs_core::{FromRead, Meminfo};
use serde_json::{Value, json};

use super::Ctx;
use crate::host::read::{self, round1};

pub fn meminfo(ctx: &Ctx) -> Option<Meminfo> {
    Meminfo::from_file(ctx.root.proc.join("meminfo")).ok()
}

/// psutil ≥ 7.1: `used = total − available`.
pub fn mem(m: &Meminfo) -> Value {
    let total = m.mem_total;
    let cached = m.cached + m.s_reclaimable.unwrap_or(0);
    let mut available = m.mem_available.unwrap_or(m.mem_free + m.buffers + cached);
    if available > total {
        available = m.mem_free;
    }
    let used = total.saturating_sub(available);
    let percent = if total > 0 {
        round1(100.0 * used as f64 / total as f64)
    } else {
        0.0
    };
    json!({
        "total": total,
        "available": available,
        "percent": percent,
        "used": used,
        "free": m.mem_free,
        "active": m.active,
        "inactive": m.inactive,
        "buffers": m.buffers,
        "cached": cached,
        "shared": m.shmem.unwrap_or(0),
    })
}

pub fn memswap(ctx: &Ctx, m: &Meminfo) -> Value {
    let total = m.swap_total;
    let used = total.saturating_sub(m.swap_free);
    let percent = if total > 0 {
        round1(100.0 * used as f64 / total as f64)
    } else {
        0.0
    };
    let (mut sin, mut sout) = (0u64, 0u64);
    if let Some(vmstat) = read::string(&ctx.root.proc.join("vmstat")) {
        for line in vmstat.lines() {
            let mut it = line.split_ascii_whitespace();
            let (Some(k), Some(v)) = (it.next(), it.next()) else {
                continue;
            };
            let v: u64 = v.parse().unwrap_or(0);
            // psutil: pages of 4 KiB whatever the page size.
            match k {
                "pswpin" => sin = v * 4096,
                "pswpout" => sout = v * 4096,
                _ => {}
            }
        }
    }
    json!({
        "total": total,
        "used": used,
        "free": m.swap_free,
        "percent": percent,
        "sin": sin,
        "sout": sout,
        "time_since_update": ctx.tsu,
    })
}

/// Parsed by hand: procfs-core reads these as `f32`, which would print
/// `0.52` as `0.5199999809265137`.
pub fn load(ctx: &Ctx, cpucore: u32) -> Option<Value> {
    let text = read::string(&ctx.root.proc.join("loadavg"))?;
    let mut it = text.split_ascii_whitespace().map(|v| v.parse::<f64>().ok());
    let (Some(Some(min1)), Some(Some(min5)), Some(Some(min15))) = (it.next(), it.next(), it.next())
    else {
        return None;
    };
    Some(json!({"min1": min1, "min5": min5, "min15": min15, "cpucore": cpucore}))
}
