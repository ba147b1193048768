//! `system`, `uptime`, `now`, `ip` and `quicklook`.

use std::net::IpAddr;

use chrono::Local;
use serde_json::{Value, json};

use super::Ctx;
use crate::host::read;

pub struct OsRelease {
    pub id: String,
    pub version_id: String,
    pub name: String,
}

pub fn os_release(ctx: &Ctx) -> OsRelease {
    let text = read::string(&ctx.root.etc.join("os-release"))
        .or_else(|| read::string(&ctx.root.etc.join("../usr/lib/os-release")))
        .unwrap_or_default();
    OsRelease {
        id: read::env_value(&text, "ID").unwrap_or_default(),
        version_id: read::env_value(&text, "VERSION_ID").unwrap_or_default(),
        name: read::env_value(&text, "NAME").unwrap_or_default(),
    }
}

pub fn system(ctx: &Ctx, os: &OsRelease) -> Value {
    let u = ctx.probe.uname();
    let platform = if u.machine.contains("64") {
        "64bit"
    } else {
        "32bit"
    };
    let distro = format!("{} {}", os.name, os.version_id).trim().to_string();
    let os_name = if u.sysname.is_empty() {
        "Linux".to_string()
    } else {
        u.sysname
    };
    json!({
        "os_name": os_name,
        "hostname": ctx.probe.hostname(),
        "platform": platform,
        "linux_distro": distro,
        "os_version": u.release,
        "hr_name": format!("{distro} {platform} / {os_name} {}", u.release),
    })
}

/// Python's `str(timedelta(seconds=n))`: `"3:04:05"`, `"1 day, 0:00:05"`,
/// `"8 days, 18:39:26"`.
pub fn timedelta(seconds: u64) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    let hms = format!("{}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    match days {
        0 => hms,
        1 => format!("1 day, {hms}"),
        d => format!("{d} days, {hms}"),
    }
}

pub fn now(ctx: &Ctx) -> Value {
    let local = ctx.now.wall.with_timezone(&Local);
    json!({
        "iso": local.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        "custom": local.format("%Y-%m-%d %H:%M:%S %Z").to_string(),
    })
}

/// Glances: the last up, non-loopback interface with an IPv4 address.
pub fn ip(ctx: &Ctx, addrs: &[crate::host::probe::IfAddr]) -> Value {
    let chosen = addrs
        .iter()
        .rfind(|a| a.up && a.interface != "lo" && matches!(a.addr, IpAddr::V4(_)));
    match chosen {
        Some(a) => {
            let bits = u32::MAX
                .checked_shl(32 - u32::from(a.prefix_len.min(32)))
                .unwrap_or(0);
            let mask = std::net::Ipv4Addr::from(bits);
            json!({
                "address": a.addr.to_string(),
                "mask": mask.to_string(),
                "mask_cidr": a.prefix_len,
                "gateway": gateway(ctx),
                "public_address": "",
                "public_info_human": "",
            })
        }
        None => json!({}),
    }
}

/// The default route's gateway from `/proc/net/route`.
fn gateway(ctx: &Ctx) -> Value {
    let text = read::string(&ctx.root.proc.join("net/route")).unwrap_or_default();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_ascii_whitespace().collect();
        if f.get(1) == Some(&"00000000")
            && let Some(gw) = f.get(2).and_then(|g| u32::from_str_radix(g, 16).ok())
        {
            // The kernel prints the address in host (little-endian) order.
            return json!(std::net::Ipv4Addr::from(gw.swap_bytes()).to_string());
        }
    }
    Value::Null
}

/// The CPU model as Glances' quicklook shows it.
pub fn cpu_name(ctx: &Ctx) -> String {
    let info = read::string(&ctx.root.proc.join("cpuinfo")).unwrap_or_default();
    for key in ["model name", "Model", "cpu model", "Hardware"] {
        if let Some(v) = info.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key).then(|| v.trim().to_string())
        }) {
            return v;
        }
    }
    "CPU".to_string()
}

/// `(current, max)` Hz from cpufreq, averaged over CPUs.
pub fn cpu_hz(ctx: &Ctx) -> (Option<f64>, Option<f64>) {
    let base = ctx.root.sys.join("devices/system/cpu");
    let (mut cur_sum, mut n, mut max) = (0.0, 0u32, None::<f64>);
    let Ok(dir) = std::fs::read_dir(&base) else {
        return (None, None);
    };
    for e in dir.flatten() {
        let freq = e.path().join("cpufreq");
        if let Some(cur) = read::number::<f64>(&freq.join("scaling_cur_freq")) {
            cur_sum += cur;
            n += 1;
        }
        let m = read::number::<f64>(&freq.join("scaling_max_freq"))
            .or_else(|| read::number(&freq.join("cpuinfo_max_freq")));
        if let Some(m) = m {
            max = Some(max.map_or(m, |x: f64| x.max(m)));
        }
    }
    // kHz in sysfs; Glances reports Hz.
    let cur = (n > 0).then(|| cur_sum / f64::from(n) * 1000.0);
    (cur, max.map(|m| m * 1000.0))
}
