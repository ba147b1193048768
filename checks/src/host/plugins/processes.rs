//! `processlist`, `programlist` and `processcount` from one `/proc` scan.
//!
//! `stat`, `statm` and `io` are read every tick; `cmdline` and `status`
//! (for the user name and gids) only when a process is first seen and then
//! every `process_details_tick`, because they are the costly part of a
//! scan and rarely change.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use procfs_core::FromRead;
use procfs_core::process::{Io, Stat, StatM};
use serde_json::{Map, Value, json};

use super::Ctx;
use crate::host::read;

#[derive(Debug, Clone, Default)]
struct Details {
    cmdline: Vec<String>,
    username: String,
    gids: [u32; 3],
}

#[derive(Debug)]
struct Known {
    /// Tells a reused pid from the process we knew.
    starttime: u64,
    cpu_ticks: u64,
    io: Option<(u64, u64)>,
    details: Details,
}

#[derive(Debug, Default)]
pub struct ProcState {
    known: HashMap<i32, Known>,
    users: HashMap<u32, String>,
    details_at: Option<Duration>,
}

pub struct Scan {
    pub processlist: Value,
    pub programlist: Value,
    pub processcount: Value,
}

/// `uid → name` from `<etc>/passwd`.
fn load_users(ctx: &Ctx) -> HashMap<u32, String> {
    read::string(&ctx.root.etc.join("passwd"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let uid = f.nth(1)?.parse().ok()?;
            Some((uid, name.to_string()))
        })
        .collect()
}

fn read_details(ctx: &Ctx, pid: i32, users: &HashMap<u32, String>) -> Details {
    let dir = ctx.root.proc.join(pid.to_string());
    let cmdline = std::fs::read(dir.join("cmdline"))
        .map(|raw| {
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default();
    let mut details = Details {
        cmdline,
        ..Details::default()
    };
    let status = read::string(&dir.join("status")).unwrap_or_default();
    for line in status.lines() {
        let ids = |rest: &str| -> Vec<u32> {
            rest.split_ascii_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect()
        };
        if let Some(rest) = line.strip_prefix("Uid:") {
            let uid = ids(rest).first().copied().unwrap_or(0);
            details.username = users.get(&uid).cloned().unwrap_or_else(|| uid.to_string());
        } else if let Some(rest) = line.strip_prefix("Gid:") {
            let g = ids(rest);
            details.gids = [
                g.first().copied().unwrap_or(0),
                g.get(1).copied().unwrap_or(0),
                g.get(2).copied().unwrap_or(0),
            ];
        }
    }
    details
}

pub fn scan(ctx: &Ctx, state: &mut ProcState, mem_total: u64, details_every: Duration) -> Scan {
    let refresh_details = state
        .details_at
        .is_none_or(|at| ctx.now.mono.saturating_sub(at) >= details_every);
    if refresh_details {
        state.users = load_users(ctx);
        state.details_at = Some(ctx.now.mono);
    }
    let clk = ctx.probe.clock_ticks().max(1) as f64;
    let page = ctx.probe.page_size().max(1);
    let mut known = HashMap::with_capacity(state.known.len() + 16);
    let mut list = Vec::with_capacity(state.known.len() + 16);
    let (mut running, mut sleeping, mut threads) = (0u64, 0u64, 0i64);
    let entries = std::fs::read_dir(&ctx.root.proc)
        .into_iter()
        .flatten()
        .flatten();
    for e in entries {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let dir = e.path();
        // A process may exit between the directory listing and the reads.
        let Ok(stat) = Stat::from_file(dir.join("stat")) else {
            continue;
        };
        let statm = StatM::from_file(dir.join("statm")).ok();
        let io = Io::from_file(dir.join("io")).ok();
        let previous = state
            .known
            .remove(&pid)
            .filter(|k| k.starttime == stat.starttime);
        let ticks = stat.utime + stat.stime;
        let cpu_percent = match &previous {
            Some(p) if ctx.tsu > 0.0 => {
                100.0 * ticks.saturating_sub(p.cpu_ticks) as f64 / clk / ctx.tsu
            }
            _ => 0.0,
        };
        let details = match previous.as_ref() {
            Some(p) if !refresh_details => p.details.clone(),
            _ => read_details(ctx, pid, &state.users),
        };
        let io_now = io.as_ref().map(|i| (i.read_bytes, i.write_bytes));
        let io_counters = match (io_now, previous.as_ref().and_then(|p| p.io)) {
            (Some((r, w)), Some((pr, pw))) => json!([r, w, pr, pw, 1]),
            (Some((r, w)), None) => json!([r, w, 0, 0, 0]),
            _ => json!([0, 0, 0, 0, 0]),
        };
        match stat.state {
            'R' => running += 1,
            'S' => sleeping += 1,
            _ => {}
        }
        threads += stat.num_threads;
        let m = statm.unwrap_or(StatM {
            size: 0,
            resident: 0,
            shared: 0,
            text: 0,
            lib: 0,
            data: 0,
            dt: 0,
        });
        let rss = m.resident * page;
        let memory_percent = if mem_total > 0 {
            100.0 * rss as f64 / mem_total as f64
        } else {
            0.0
        };
        let entry = json!({
            "pid": pid,
            "name": stat.comm,
            "cmdline": details.cmdline,
            "username": details.username,
            "status": stat.state.to_string(),
            "cpu_percent": cpu_percent,
            "memory_percent": memory_percent,
            "memory_info": {
                "rss": rss,
                "vms": m.size * page,
                "shared": m.shared * page,
                "text": m.text * page,
                "lib": m.lib * page,
                "data": m.data * page,
                "dirty": m.dt * page,
            },
            "cpu_times": {
                "user": stat.utime as f64 / clk,
                "system": stat.stime as f64 / clk,
                "children_user": stat.cutime.max(0) as f64 / clk,
                "children_system": stat.cstime.max(0) as f64 / clk,
                "iowait": stat.delayacct_blkio_ticks.unwrap_or(0) as f64 / clk,
            },
            "io_counters": io_counters,
            "gids": {
                "real": details.gids[0],
                "effective": details.gids[1],
                "saved": details.gids[2],
            },
            "nice": stat.nice,
            "num_threads": stat.num_threads,
            "cpu_num": stat.processor,
            "time_since_update": ctx.tsu,
            "key": "pid",
        });
        list.push(entry);
        known.insert(
            pid,
            Known {
                starttime: stat.starttime,
                cpu_ticks: ticks,
                io: io_now,
                details,
            },
        );
    }
    state.known = known;
    list.sort_by_key(|p| p["pid"].as_i64().unwrap_or(0));
    let pid_max: u64 = read::number(&ctx.root.proc.join("sys/kernel/pid_max")).unwrap_or(0);
    let processcount = json!({
        "total": list.len(),
        "running": running,
        "sleeping": sleeping,
        "thread": threads,
        "pid_max": pid_max,
    });
    let programlist = programs(&list, ctx.tsu);
    Scan {
        processlist: Value::Array(list),
        programlist,
        processcount,
    }
}

// Updating in place keeps the key: a map insert would allocate it anew for
// every process of every group on every tick.
fn add_f64(target: &mut Map<String, Value>, key: &str, v: f64) {
    match target.get_mut(key) {
        Some(cur) => *cur = json!(cur.as_f64().unwrap_or(0.0) + v),
        None => {
            target.insert(key.into(), json!(v));
        }
    }
}

fn add_u64(target: &mut Map<String, Value>, key: &str, v: u64) {
    match target.get_mut(key) {
        Some(cur) => *cur = json!(cur.as_u64().unwrap_or(0) + v),
        None => {
            target.insert(key.into(), json!(v));
        }
    }
}

/// Processes grouped by name, summing what adds up; `pid` is `"_"` as in
/// Glances and `key` is `name`, which is unique here.
fn programs(list: &[Value], tsu: f64) -> Value {
    let mut groups: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    for p in list {
        let name = p["name"].as_str().unwrap_or("");
        let g = groups.entry(name).or_insert_with(|| {
            let mut g = Map::new();
            g.insert("name".into(), json!(name));
            g.insert("childrens".into(), json!([]));
            g.insert("cmdline".into(), p["cmdline"].clone());
            g.insert("username".into(), p["username"].clone());
            g.insert("status".into(), p["status"].clone());
            g.insert("nice".into(), p["nice"].clone());
            g.insert("pid".into(), json!("_"));
            g.insert("time_since_update".into(), json!(tsu));
            g.insert("key".into(), json!("name"));
            g.insert("memory_info".into(), json!({}));
            g.insert("cpu_times".into(), json!({}));
            g.insert("io_counters".into(), json!([0, 0, 0, 0, 0]));
            g
        });
        if let Some(Value::Array(c)) = g.get_mut("childrens") {
            c.push(p["pid"].clone());
        }
        add_f64(g, "cpu_percent", p["cpu_percent"].as_f64().unwrap_or(0.0));
        add_f64(
            g,
            "memory_percent",
            p["memory_percent"].as_f64().unwrap_or(0.0),
        );
        add_u64(g, "num_threads", p["num_threads"].as_u64().unwrap_or(0));
        add_u64(g, "nprocs", 1);
        if let Some(Value::Object(mi)) = g.get_mut("memory_info")
            && let Some(src) = p["memory_info"].as_object()
        {
            for (k, v) in src {
                add_u64(mi, k, v.as_u64().unwrap_or(0));
            }
        }
        if let Some(Value::Object(ct)) = g.get_mut("cpu_times")
            && let Some(src) = p["cpu_times"].as_object()
        {
            for (k, v) in src {
                add_f64(ct, k, v.as_f64().unwrap_or(0.0));
            }
        }
        if let Some(Value::Array(io)) = g.get_mut("io_counters")
            && let Some(src) = p["io_counters"].as_array()
        {
            for (slot, v) in io.iter_mut().zip(src).take(4) {
                *slot = json!(slot.as_u64().unwrap_or(0) + v.as_u64().unwrap_or(0));
            }
        }
        if g.get("username") != p.get("username") {
            g.insert("username".into(), json!("_"));
        }
    }
    Value::Array(groups.into_values().map(Value::Object).collect())
}
