//! The small plugins: `containers`, `ports`, `irq`, `wifi`, and the ones we
//! keep empty (`amps`, `folders`, `gpu`).

use std::collections::HashMap;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::Ctx;
use crate::host::PortTarget;
use crate::host::read;

/// CPU nanoseconds and memory bytes of a container from its cgroup, in
/// the layouts of cgroup v2 (systemd and cgroupfs drivers) and v1.
fn cgroup_usage(ctx: &Ctx, id: &str) -> (Option<u64>, Option<u64>) {
    let cg = ctx.root.sys.join("fs/cgroup");
    for dir in [
        cg.join(format!("system.slice/docker-{id}.scope")),
        cg.join("docker").join(id),
    ] {
        if let Some(stat) = read::string(&dir.join("cpu.stat")) {
            let usec = stat.lines().find_map(|l| {
                l.strip_prefix("usage_usec ")
                    .and_then(|v| v.trim().parse::<u64>().ok())
            });
            let mem = read::number(&dir.join("memory.current"));
            return (usec.map(|u| u * 1000), mem);
        }
    }
    (
        read::number(&cg.join("cpuacct/docker").join(id).join("cpuacct.usage")),
        read::number(
            &cg.join("memory/docker")
                .join(id)
                .join("memory.usage_in_bytes"),
        ),
    )
}

/// Containers of a Docker-compatible engine, in Glances' v4 list shape.
/// CPU and memory come from the containers' cgroups; `cpu.total` is 0
/// on a container's first sight (Glances shows null there, which breaks
/// clients that sum it).
pub fn containers(ctx: &Ctx, prev: &mut HashMap<String, u64>) -> Value {
    let list = ctx.probe.containers();
    let mut next = HashMap::new();
    let out = list
        .iter()
        .map(|c| {
            let id = c["Id"].as_str().unwrap_or("");
            let name = c["Names"][0].as_str().unwrap_or("").trim_start_matches('/');
            let (cpu_ns, mem) = cgroup_usage(ctx, id);
            let cpu = match (cpu_ns, prev.get(id)) {
                (Some(now), Some(before)) if ctx.tsu > 0.0 => {
                    now.saturating_sub(*before) as f64 / 1e9 / ctx.tsu * 100.0
                }
                _ => 0.0,
            };
            if let Some(ns) = cpu_ns {
                next.insert(id.to_string(), ns);
            }
            let mem = mem.unwrap_or(0);
            json!({
                "name": name,
                "id": id,
                "image": [c["Image"]],
                "status": c["State"],
                "created": c["Created"],
                "command": c["Command"],
                "uptime": c["Status"],
                "engine": "docker",
                "cpu": {"total": cpu},
                "memory": {"usage": mem},
                "cpu_percent": cpu,
                "memory_usage": mem,
                "key": "name",
            })
        })
        .collect();
    *prev = next;
    Value::Array(out)
}

/// Configured TCP targets; `status` is the connect time in seconds, or
/// `false` when the port did not answer within its timeout.
pub fn ports(targets: &[PortTarget]) -> Value {
    Value::Array(
        targets
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let status = probe_tcp(&t.host, t.port, t.timeout)
                    .map_or(json!(false), |rtt| json!(rtt.as_secs_f64()));
                json!({
                    "host": t.host,
                    "port": t.port,
                    "description": t.description,
                    "refresh": 30,
                    "timeout": t.timeout.as_secs_f64(),
                    "rtt_warning": null,
                    "indice": format!("port_{i}"),
                    "status": status,
                    "key": "indice",
                })
            })
            .collect(),
    )
}

fn probe_tcp(host: &str, port: u16, timeout: Duration) -> Option<Duration> {
    let addr = (host, port).to_socket_addrs().ok()?.next()?;
    let start = Instant::now();
    TcpStream::connect_timeout(&addr, timeout).ok()?;
    Some(start.elapsed())
}

/// Interrupt lines with their rate over all CPUs since the last update
/// (0 on a line's first sight).
pub fn irq(ctx: &Ctx, prev: &mut HashMap<String, u64>) -> Value {
    let text = read::string(&ctx.root.proc.join("interrupts")).unwrap_or_default();
    let mut out = Vec::new();
    let mut next = HashMap::new();
    for line in text.lines().skip(1) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let total: u64 = rest
            .split_ascii_whitespace()
            .map_while(|v| v.parse::<u64>().ok())
            .sum();
        let name = name.trim();
        let rate = prev
            .get(name)
            .map_or(0.0, |p| (total.saturating_sub(*p) as f64 / ctx.tsu).floor());
        next.insert(name.to_string(), total);
        out.push(json!({"irq_line": name, "irq_rate": rate, "key": "irq_line"}));
    }
    *prev = next;
    Value::Array(out)
}

/// Wireless links from `/proc/net/wireless` (quality and signal level).
pub fn wifi(ctx: &Ctx) -> Value {
    let text = read::string(&ctx.root.proc.join("net/wireless")).unwrap_or_default();
    let mut out = Vec::new();
    for line in text.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let cols: Vec<f64> = rest
            .split_ascii_whitespace()
            .map(|c| c.trim_end_matches('.').parse().unwrap_or(0.0))
            .collect();
        out.push(json!({
            "ssid": name.trim(),
            "quality_link": cols.get(1).copied().unwrap_or(0.0),
            "quality_level": cols.get(2).copied().unwrap_or(0.0),
            "key": "ssid",
        }));
    }
    Value::Array(out)
}
