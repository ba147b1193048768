//! One collection: reads everything that is due under a [`HostRoot`] and
//! builds a [`Snapshot`]. Deterministic for a given tree, probe and [`Now`],
//! which is what the golden tests rely on.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use zmon_core::host::{HostFacts, HostStatus, Temperature};

use super::events::Events;
use super::plugins::processes::{self, ProcState};
use super::plugins::{Ctx, cpu, diskio, fs, mem, misc, net_sockets, network, sensors, system};
use super::probe::Probe;
use super::rates::Rates;
use super::views::Decorator;
use super::{ClearEvents, SamplerConfig, Snapshot, limits};

/// The time of one collection: wall time for timestamps, monotonic time
/// (from any fixed origin) for intervals.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub wall: DateTime<Utc>,
    pub mono: Duration,
}

impl Now {
    pub fn new(wall: DateTime<Utc>, mono: Duration) -> Self {
        Self { wall, mono }
    }
}

/// Every slow plugin keeps its last value between refreshes.
const SLOW: &[&str] = &["fs", "connections", "system", "ip", "sensors", "ports"];

/// Reads the host; holds the baselines for rates and the caches.
pub struct Collector {
    config: SamplerConfig,
    probe: Box<dyn Probe>,
    last: Option<Duration>,
    fs_at: Option<Duration>,
    system_at: Option<Duration>,
    cpu: cpu::CpuState,
    disk: Rates,
    net: Rates,
    procs: ProcState,
    irq: HashMap<String, u64>,
    container_cpu: HashMap<String, u64>,
    events: Events,
    limits: Option<BTreeMap<String, Value>>,
    slow: BTreeMap<&'static str, Value>,
    facts: HostFacts,
    disk_usage: (u64, u64),
    /// `(unix seconds, in, out, in speed, out speed)` for Nezha's speeds.
    nezha_net: Option<(i64, u64, u64, u64, u64)>,
    seq: u64,
    core: Option<(u32, u32)>,
    hz: (Option<f64>, Option<f64>),
    cpu_name: String,
}

fn due(at: Option<Duration>, every: Duration, now: Duration) -> bool {
    at.is_none_or(|at| now.saturating_sub(at) >= every)
}

impl Collector {
    pub fn new(config: SamplerConfig, probe: Box<dyn Probe>) -> Self {
        Self {
            config,
            probe,
            last: None,
            fs_at: None,
            system_at: None,
            cpu: cpu::CpuState::default(),
            disk: Rates::default(),
            net: Rates::default(),
            procs: ProcState::default(),
            irq: HashMap::new(),
            container_cpu: HashMap::new(),
            events: Events::default(),
            limits: None,
            slow: BTreeMap::new(),
            facts: HostFacts::default(),
            disk_usage: (0, 0),
            nezha_net: None,
            seq: 0,
            core: None,
            hz: (None, None),
            cpu_name: String::new(),
        }
    }

    /// Reads from another tree from the next collection on, keeping the
    /// baselines: replays of recorded ticks use it.
    pub fn set_root(&mut self, root: super::HostRoot) {
        self.config.root = root;
    }

    pub fn clear_events(&mut self, which: ClearEvents) {
        self.events.clear(which);
    }

    /// Collects what is due at `now` (everything on the first call).
    pub fn collect(&mut self, now: Now) -> Snapshot {
        let tsu = match self.last {
            // Never 0: clients divide by it.
            Some(last) => now.mono.saturating_sub(last).as_secs_f64().max(1e-3),
            None => 1.0,
        };
        self.last = Some(now.mono);
        let root = self.config.root.clone();
        let ctx = Ctx {
            root: &root,
            probe: self.probe.as_ref(),
            now,
            tsu,
        };
        let mut plugins = BTreeMap::new();

        let stat_text = std::fs::read_to_string(root.proc.join("stat"));
        if stat_text.is_err() {
            warn_rate_limited("cpu", "cannot read /proc/stat");
        }
        let stat = cpu::ProcStat::parse(stat_text.as_deref().unwrap_or(""));
        let system_due = due(self.system_at, self.config.system_tick, now.mono);
        // The topology changes only with CPU hotplug: read it with the
        // system facts, not every tick.
        let (cpucore, phys) = match self.core {
            Some(core) if !system_due => core,
            _ => cpu::core(&ctx, &stat),
        };
        self.core = Some((cpucore, phys));
        plugins.insert("core".into(), json!({"phys": phys, "log": cpucore}));
        let (cpu_v, percpu_v) = cpu::collect(&ctx, &stat, &mut self.cpu, cpucore);
        plugins.insert("cpu".into(), cpu_v);
        plugins.insert("percpu".into(), percpu_v);
        plugins.insert(
            "load".into(),
            mem::load(&ctx, cpucore).unwrap_or_else(|| json!({})),
        );
        let meminfo = mem::meminfo(&ctx);
        if meminfo.is_none() {
            warn_rate_limited("mem", "cannot read /proc/meminfo");
        }
        let mem_total = meminfo.as_ref().map_or(0, |m| m.mem_total);
        plugins.insert(
            "mem".into(),
            meminfo.as_ref().map_or_else(|| json!({}), mem::mem),
        );
        plugins.insert(
            "memswap".into(),
            meminfo
                .as_ref()
                .map_or_else(|| json!({}), |m| mem::memswap(&ctx, m)),
        );
        plugins.insert("diskio".into(), diskio::collect(&ctx, &mut self.disk));
        let devs = network::net_dev(&ctx);
        plugins.insert(
            "network".into(),
            network::collect(&ctx, &devs, &mut self.net),
        );
        let scan = processes::scan(
            &ctx,
            &mut self.procs,
            mem_total,
            self.config.process_details_tick,
        );
        plugins.insert("processlist".into(), scan.processlist);
        plugins.insert("programlist".into(), scan.programlist);
        plugins.insert("processcount".into(), scan.processcount);
        plugins.insert("irq".into(), misc::irq(&ctx, &mut self.irq));
        plugins.insert("wifi".into(), misc::wifi(&ctx));
        plugins.insert(
            "containers".into(),
            misc::containers(&ctx, &mut self.container_cpu),
        );
        plugins.insert("now".into(), system::now(&ctx));
        for empty in ["amps", "folders", "gpu"] {
            plugins.insert(empty.into(), json!([]));
        }
        plugins.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
        plugins.insert("psutilversion".into(), json!(env!("CARGO_PKG_VERSION")));
        let uptime_secs = u64::try_from(now.wall.timestamp() - stat.btime).unwrap_or(0);
        plugins.insert("uptime".into(), json!(system::timedelta(uptime_secs)));

        let mounts_due = due(self.fs_at, self.config.fs_tick, now.mono);
        if mounts_due {
            self.fs_at = Some(now.mono);
            let mounts = fs::mounts(&ctx);
            self.slow.insert("fs", fs::collect(&ctx, &mounts));
            self.disk_usage = fs::nezha_disk(&ctx, &mounts);
            let sockets = net_sockets::scan(&ctx);
            self.slow
                .insert("connections", net_sockets::collect(&ctx, &sockets));
        }
        if system_due {
            self.system_at = Some(now.mono);
            let os = system::os_release(&ctx);
            self.slow.insert("system", system::system(&ctx, &os));
            let addrs = self.probe.addresses();
            self.slow.insert("ip", system::ip(&ctx, &addrs));
            self.slow.insert("sensors", sensors::collect(&ctx));
            self.slow.insert("ports", misc::ports(&self.config.ports));
            self.hz = system::cpu_hz(&ctx);
            self.cpu_name = system::cpu_name(&ctx);
            self.facts = facts(&ctx, &os, &self.cpu_name, cpucore, phys, &addrs);
        }
        for name in SLOW {
            plugins.insert(
                (*name).to_string(),
                self.slow.get(name).cloned().unwrap_or_else(|| json!([])),
            );
        }
        let quicklook = self.quicklook(&plugins, cpucore, phys);
        plugins.insert("quicklook".into(), quicklook);

        let limits = self
            .limits
            .get_or_insert_with(|| limits::defaults(cpucore, self.config.history_size))
            .clone();
        Decorator {
            limits: &limits,
            cpucore: f64::from(cpucore),
            events: Some(&mut self.events),
            now: now.wall.timestamp_micros() as f64 / 1e6,
            top_cpu: top_processes(plugins.get("processlist"), "cpu_percent"),
            top_mem: top_processes(plugins.get("processlist"), "memory_percent"),
        }
        .record_events(&plugins);
        plugins.insert("alert".into(), self.events.to_json());

        let status = status(
            &ctx,
            net_sockets::counts(&ctx),
            &mut self.nezha_net,
            self.disk_usage.0,
            &plugins,
            &devs,
            uptime_secs,
        );
        let mut facts = self.facts.clone();
        facts.mem_total = mem_total;
        facts.swap_total = meminfo.as_ref().map_or(0, |m| m.swap_total);
        facts.disk_total = self.disk_usage.1;
        facts.boot_time = stat.btime;

        self.seq += 1;
        let mut snapshot = Snapshot::from_plugins(now.wall, plugins);
        snapshot.seq = self.seq;
        snapshot.limits = limits;
        snapshot.facts = facts;
        snapshot.status = status;
        snapshot
    }

    fn quicklook(&self, plugins: &BTreeMap<String, Value>, cpucore: u32, phys: u32) -> Value {
        let get = |p: &str, f: &str| plugins.get(p).and_then(|v| v.get(f)).cloned();
        let load15 = get("load", "min15").and_then(|v| v.as_f64()).unwrap_or(0.0);
        json!({
            "cpu": get("cpu", "total"),
            "percpu": plugins.get("percpu"),
            "mem": get("mem", "percent"),
            "swap": get("memswap", "percent"),
            "load": super::read::round1(100.0 * load15 / f64::from(cpucore.max(1))),
            "cpu_name": self.cpu_name,
            "cpu_hz_current": self.hz.0,
            "cpu_hz": self.hz.1,
            "cpu_log_core": cpucore,
            "cpu_phys_core": phys,
        })
    }
}

/// Nezha's status from this collection.
fn status(
    ctx: &Ctx,
    (tcp, udp): (u64, u64),
    nezha_net: &mut Option<(i64, u64, u64, u64, u64)>,
    disk_used: u64,
    plugins: &BTreeMap<String, Value>,
    devs: &[network::NetDev],
    uptime: u64,
) -> HostStatus {
    let num = |p: &str, f: &str| {
        plugins
            .get(p)
            .and_then(|v| v.get(f))
            .and_then(Value::as_f64)
    };
    let int = |p: &str, f: &str| {
        plugins
            .get(p)
            .and_then(|v| v.get(f))
            .and_then(Value::as_u64)
    };
    let (net_in, net_out) = devs
        .iter()
        .filter(|d| network::physical(&d.name))
        .fold((0u64, 0u64), |(i, o), d| (i + d.rx_bytes, o + d.tx_bytes));
    let secs = ctx.now.wall.timestamp();
    // Nezha divides by whole seconds and keeps the last speed (and its
    // baseline) until a whole second has passed.
    let (speed_in, speed_out, base) = match *nezha_net {
        Some((t, i, o, si, so)) => match u64::try_from(secs - t).ok().filter(|d| *d > 0) {
            Some(dt) => (
                net_in.saturating_sub(i) / dt,
                net_out.saturating_sub(o) / dt,
                (secs, net_in, net_out),
            ),
            None => (si, so, (t, i, o)),
        },
        None => (0, 0, (secs, net_in, net_out)),
    };
    *nezha_net = Some((base.0, base.1, base.2, speed_in, speed_out));
    let temperatures = plugins
        .get("sensors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|s| {
            s["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("temperature"))
        })
        .map(|s| Temperature {
            name: s["label"].as_str().unwrap_or("").to_string(),
            temperature: s["value"].as_f64().unwrap_or(0.0),
        })
        .collect();
    HostStatus {
        cpu: num("cpu", "total").unwrap_or(0.0),
        mem_used: int("mem", "used").unwrap_or(0),
        swap_used: int("memswap", "used").unwrap_or(0),
        disk_used,
        net_in_transfer: net_in,
        net_out_transfer: net_out,
        net_in_speed: speed_in,
        net_out_speed: speed_out,
        uptime,
        load1: num("load", "min1").unwrap_or(0.0),
        load5: num("load", "min5").unwrap_or(0.0),
        load15: num("load", "min15").unwrap_or(0.0),
        tcp_conn_count: tcp,
        udp_conn_count: udp,
        process_count: int("processcount", "total").unwrap_or(0),
        temperatures,
        gpu: None,
    }
}

fn facts(
    ctx: &Ctx,
    os: &system::OsRelease,
    cpu_name: &str,
    log: u32,
    phys: u32,
    addrs: &[super::probe::IfAddr],
) -> HostFacts {
    let u = ctx.probe.uname();
    let cpuinfo = super::read::string(&ctx.root.proc.join("cpuinfo")).unwrap_or_default();
    let virtualization = cpuinfo
        .lines()
        .any(|l| l.starts_with("flags") && l.split_ascii_whitespace().any(|f| f == "hypervisor"))
        .then(|| {
            super::read::trimmed(&ctx.root.sys.join("hypervisor/type"))
                .unwrap_or_else(|| "vm".to_string())
        });
    let public = |a: &&super::probe::IfAddr| {
        a.interface != "lo"
            && !a.addr.is_loopback()
            && match a.addr {
                std::net::IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
                std::net::IpAddr::V4(v4) => !v4.is_link_local(),
            }
    };
    HostFacts {
        hostname: ctx.probe.hostname(),
        platform: os.id.clone(),
        platform_version: os.version_id.clone(),
        os: if u.sysname.is_empty() {
            "Linux".into()
        } else {
            u.sysname.clone()
        },
        kernel_version: u.release.clone(),
        arch: u.machine.clone(),
        virtualization,
        cpu_model: cpu_name.to_string(),
        cpu_logical_cores: log,
        cpu_physical_cores: phys,
        agent_version: env!("CARGO_PKG_VERSION").to_string(),
        ipv4: addrs
            .iter()
            .filter(public)
            .filter(|a| a.addr.is_ipv4())
            .map(|a| a.addr.to_string())
            .collect(),
        ipv6: addrs
            .iter()
            .filter(public)
            .filter(|a| a.addr.is_ipv6())
            .map(|a| a.addr.to_string())
            .collect(),
        ..HostFacts::default()
    }
}

/// Names of the three processes with the highest `field`, as Glances'
/// events show them.
fn top_processes(list: Option<&Value>, field: &str) -> Vec<String> {
    let mut procs: Vec<(f64, &str)> = list
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p[field].as_f64().unwrap_or(0.0),
                p["name"].as_str().unwrap_or(""),
            )
        })
        .collect();
    procs.sort_by(|a, b| b.0.total_cmp(&a.0));
    procs
        .into_iter()
        .take(3)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// A missing core file is worth one line a minute, not one per tick.
fn warn_rate_limited(what: &'static str, message: &str) {
    use std::sync::Mutex;
    use std::time::Instant;
    static LAST: Mutex<Vec<(&'static str, Instant)>> = Mutex::new(Vec::new());
    let Ok(mut last) = LAST.lock() else { return };
    let now = Instant::now();
    match last.iter_mut().find(|(w, _)| *w == what) {
        Some((_, at)) if now.duration_since(*at) < Duration::from_secs(60) => return,
        Some((_, at)) => *at = now,
        None => last.push((what, now)),
    }
    tracing::warn!(plugin = what, "{message}");
}
