//! `network` from `/proc/net/dev` and `/sys/class/net`.

use serde_json::{Map, Value, json};

use super::Ctx;
use crate::host::rates::Rates;
use crate::host::read;

/// One `/proc/net/dev` line.
#[derive(Debug, Clone)]
pub struct NetDev {
    pub name: String,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

pub fn net_dev(ctx: &Ctx) -> Vec<NetDev> {
    let Some(text) = read::string(&ctx.root.proc.join("net/dev")) else {
        return Vec::new();
    };
    text.lines()
        .skip(2)
        .filter_map(|line| {
            let (name, rest) = line.split_once(':')?;
            let cols: Vec<u64> = rest
                .split_ascii_whitespace()
                .map(|c| c.parse().unwrap_or(0))
                .collect();
            Some(NetDev {
                name: name.trim().to_string(),
                rx_bytes: *cols.first()?,
                tx_bytes: *cols.get(8)?,
            })
        })
        .collect()
}

/// Glances' default `hide=docker.*,lo` (down interfaces are hidden too).
fn hidden(name: &str) -> bool {
    name == "lo" || name.starts_with("docker")
}

pub fn collect(ctx: &Ctx, devs: &[NetDev], rates: &mut Rates) -> Value {
    let mut out = Vec::with_capacity(devs.len());
    for d in devs {
        if hidden(&d.name) {
            continue;
        }
        let class = ctx.root.sys.join("class/net").join(&d.name);
        // IFF_UP, as psutil's `isup`.
        let flags = read::trimmed(&class.join("flags"))
            .and_then(|f| u64::from_str_radix(f.trim_start_matches("0x"), 16).ok())
            .unwrap_or(0);
        // Glances' default `hide_no_up=True`: a down interface says
        // nothing and only adds noise to dashboards.
        if flags & 1 == 0 {
            continue;
        }
        // Mb/s; the kernel says -1 (or fails to read) for virtual links.
        let mbps: i64 = read::number(&class.join("speed")).unwrap_or(0);
        let mut entry = Map::new();
        entry.insert("interface_name".into(), json!(d.name));
        entry.insert("alias".into(), Value::Null);
        rates.apply(
            &d.name,
            &[
                ("bytes_recv", d.rx_bytes),
                ("bytes_sent", d.tx_bytes),
                ("bytes_all", d.rx_bytes + d.tx_bytes),
            ],
            ctx.tsu,
            &mut entry,
        );
        // Glances multiplies by 1048576; a megabit is 10^6 bits.
        entry.insert("speed".into(), json!(mbps.max(0) as u64 * 1_000_000));
        entry.insert("is_up".into(), json!(true));
        entry.insert("key".into(), json!("interface_name"));
        out.push(Value::Object(entry));
    }
    rates.finish();
    Value::Array(out)
}

/// Nezha's filter: virtual interfaces do not count toward traffic.
pub fn physical(name: &str) -> bool {
    const VIRTUAL: &[&str] = &["lo", "tun", "docker", "veth", "br-", "vmbr", "vnet", "kube"];
    !VIRTUAL.iter().any(|v| name.contains(v))
}
