//! `cpu`, `percpu` and `core` from `/proc/stat` and the CPU topology.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::Ctx;
use crate::host::rates::Rates;
use crate::host::read::{self, round1};

/// Ticks per state, as the `cpu` lines of `/proc/stat` list them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ticks {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
    pub guest: u64,
    pub guest_nice: u64,
}

impl Ticks {
    fn parse(fields: &str) -> Self {
        let mut n = fields
            .split_ascii_whitespace()
            .map(|f| f.parse::<u64>().unwrap_or(0));
        let mut next = || n.next().unwrap_or(0);
        Self {
            user: next(),
            nice: next(),
            system: next(),
            idle: next(),
            iowait: next(),
            irq: next(),
            softirq: next(),
            steal: next(),
            guest: next(),
            guest_nice: next(),
        }
    }

    fn fields(&self) -> [(&'static str, u64); 10] {
        [
            ("user", self.user),
            ("nice", self.nice),
            ("system", self.system),
            ("idle", self.idle),
            ("iowait", self.iowait),
            ("irq", self.irq),
            ("softirq", self.softirq),
            ("steal", self.steal),
            ("guest", self.guest),
            ("guest_nice", self.guest_nice),
        ]
    }

    /// psutil's total: guest time is already inside user and nice.
    fn all(&self) -> u64 {
        self.fields().iter().map(|(_, v)| v).sum::<u64>() - self.guest - self.guest_nice
    }

    fn busy(&self) -> u64 {
        self.all().saturating_sub(self.idle + self.iowait)
    }
}

/// The parts of `/proc/stat` the plugins use.
#[derive(Debug, Clone, Default)]
pub struct ProcStat {
    pub total: Ticks,
    pub per_cpu: Vec<(u32, Ticks)>,
    pub ctxt: u64,
    pub intr: u64,
    pub softirq: u64,
    pub btime: i64,
}

impl ProcStat {
    pub fn parse(text: &str) -> Self {
        let mut out = Self::default();
        for line in text.lines() {
            let (name, rest) = line.split_once(' ').unwrap_or((line, ""));
            let first = || {
                rest.split_ascii_whitespace()
                    .next()
                    .and_then(|v| v.parse().ok())
            };
            match name {
                "cpu" => out.total = Ticks::parse(rest),
                "ctxt" => out.ctxt = first().unwrap_or(0),
                "intr" => out.intr = first().unwrap_or(0),
                "softirq" => out.softirq = first().unwrap_or(0),
                "btime" => {
                    out.btime = rest.trim().parse().unwrap_or(0);
                }
                _ => {
                    if let Some(n) = name.strip_prefix("cpu").and_then(|n| n.parse().ok()) {
                        out.per_cpu.push((n, Ticks::parse(rest)));
                    }
                }
            }
        }
        out
    }
}

/// psutil's `cpu_percent`: iowait counts as idle.
pub fn busy_percent(before: &Ticks, after: &Ticks) -> f64 {
    let busy_before = before.busy();
    let busy_after = after.busy();
    if busy_after <= busy_before {
        return 0.0;
    }
    let all = after.all().saturating_sub(before.all());
    if all == 0 {
        return 0.0;
    }
    round1(100.0 * (busy_after - busy_before) as f64 / all as f64).clamp(0.0, 100.0)
}

/// psutil's `cpu_times_percent`, one value per state.
fn state_percents(before: &Ticks, after: &Ticks) -> [(&'static str, f64); 10] {
    let all = after.all().saturating_sub(before.all()) as f64;
    let b = before.fields();
    let mut out = [("", 0.0); 10];
    for (i, (name, now)) in after.fields().into_iter().enumerate() {
        let delta = now.saturating_sub(b[i].1) as f64;
        let pct = if all > 0.0 {
            round1(100.0 * delta / all)
        } else {
            0.0
        };
        out[i] = (name, pct.clamp(0.0, 100.0));
    }
    out
}

/// Min, max and mean of `cpu.total` since start (Glances' `mmm`).
#[derive(Debug, Default)]
pub struct Mmm {
    min: Option<f64>,
    max: Option<f64>,
    sum: f64,
    count: u64,
}

/// Glances keeps at most this many samples for `mmm`; past it we keep the
/// running figures, which only makes the mean smoother.
const MMM_CAP: u64 = 28_800;

impl Mmm {
    fn push(&mut self, v: f64) {
        self.min = Some(self.min.map_or(v, |m| m.min(v)));
        self.max = Some(self.max.map_or(v, |m| m.max(v)));
        if self.count >= MMM_CAP {
            self.sum -= self.sum / self.count as f64;
            self.count -= 1;
        }
        self.sum += v;
        self.count += 1;
    }
}

#[derive(Debug, Default)]
pub struct CpuState {
    pub prev: Option<ProcStat>,
    pub mmm: Mmm,
    pub rates: Rates,
}

/// Builds `cpu` and `percpu` from a fresh `/proc/stat`; the first call
/// (no baseline) compares against itself and reports zeros.
pub fn collect(ctx: &Ctx, stat: &ProcStat, state: &mut CpuState, cpucore: u32) -> (Value, Value) {
    let prev = state.prev.as_ref().unwrap_or(stat);
    let mut cpu = Map::new();
    let total = busy_percent(&prev.total, &stat.total);
    cpu.insert("total".into(), json!(total));
    for (name, pct) in state_percents(&prev.total, &stat.total) {
        cpu.insert(name.into(), json!(pct));
    }
    state.rates.apply(
        "cpu",
        &[
            ("ctx_switches", stat.ctxt),
            ("interrupts", stat.intr),
            ("soft_interrupts", stat.softirq),
            ("syscalls", 0),
        ],
        ctx.tsu,
        &mut cpu,
    );
    state.rates.finish();
    cpu.insert("cpucore".into(), json!(cpucore));
    state.mmm.push(total);
    cpu.insert("total_min".into(), json!(state.mmm.min.unwrap_or(total)));
    cpu.insert("total_max".into(), json!(state.mmm.max.unwrap_or(total)));
    let mean = if state.mmm.count > 0 {
        state.mmm.sum / state.mmm.count as f64
    } else {
        total
    };
    cpu.insert("total_mean".into(), json!(round1(mean)));

    let mut percpu = Vec::with_capacity(stat.per_cpu.len());
    for (n, ticks) in &stat.per_cpu {
        let before = prev
            .per_cpu
            .iter()
            .find(|(m, _)| m == n)
            .map_or(ticks, |(_, t)| t);
        let mut entry = Map::new();
        entry.insert("key".into(), json!("cpu_number"));
        entry.insert("cpu_number".into(), json!(n));
        let percents = state_percents(before, ticks);
        let idle = percents[3].1;
        // Glances: percpu total is 100 − idle, so iowait counts as busy.
        entry.insert("total".into(), json!(round1(100.0 - idle)));
        for (name, pct) in percents {
            entry.insert(name.into(), json!(pct));
        }
        entry.insert("dpc".into(), Value::Null);
        entry.insert("interrupt".into(), Value::Null);
        percpu.push(Value::Object(entry));
    }
    state.prev = Some(stat.clone());
    (Value::Object(cpu), Value::Array(percpu))
}

/// `{"phys", "log"}`.
pub fn core(ctx: &Ctx, stat: &ProcStat) -> (u32, u32) {
    let log = ctx
        .probe
        .online_cpus()
        .unwrap_or_else(|| u32::try_from(stat.per_cpu.len()).unwrap_or(1).max(1));
    (log, physical_cores(ctx).unwrap_or(log))
}

/// Unique (package, core) pairs from sysfs topology, else `/proc/cpuinfo`.
fn physical_cores(ctx: &Ctx) -> Option<u32> {
    let mut pairs = BTreeSet::new();
    if let Ok(dir) = std::fs::read_dir(ctx.root.sys.join("devices/system/cpu")) {
        for e in dir.flatten() {
            let name = e.file_name();
            let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("cpu")) else {
                continue;
            };
            if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let topo = e.path().join("topology");
            let pkg: Option<i64> = read::number(&topo.join("physical_package_id"));
            let core: Option<i64> = read::number(&topo.join("core_id"));
            if let (Some(p), Some(c)) = (pkg, core) {
                pairs.insert((p, c));
            }
        }
    }
    if pairs.is_empty() {
        let info = read::string(&ctx.root.proc.join("cpuinfo"))?;
        let mut pkg = String::new();
        for line in info.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k.trim() {
                "physical id" => pkg = v.trim().to_string(),
                "core id" => {
                    pairs.insert((pkg.parse().unwrap_or(0), v.trim().parse().unwrap_or(0)));
                }
                _ => {}
            }
        }
    }
    (!pairs.is_empty()).then(|| u32::try_from(pairs.len()).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_counts_iowait_as_idle_and_guest_nice_is_its_own_column() {
        let a = Ticks::parse("100 0 100 800 0 0 0 0 0 0");
        let b = Ticks::parse("150 0 150 850 50 0 0 0 7 3");
        // all: 200 (user+system+idle+iowait) + guest columns excluded.
        assert_eq!(busy_percent(&a, &b), 50.0);
        let p = state_percents(&a, &b);
        assert_eq!(p[4], ("iowait", 25.0));
        assert_eq!(p[9], ("guest_nice", 1.5));
    }
}
