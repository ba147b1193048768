//! Prints the CPU time one full snapshot costs on this machine:
//! `cargo run --release -p zmon-checks --example snapshot_cost [N]`.
//!
//! Measured as utime + stime of this process (from `/proc/self/stat`)
//! over N collections, so it counts the syscalls the kernel does for us.

use std::time::{Duration, Instant};

use chrono::Utc;
use zmon_checks::host::{Collector, LiveProbe, Now, SamplerConfig};

fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`, which may contain spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_ascii_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let config = SamplerConfig {
        // Only the fast plugins each time, as the sampler does between slow ticks.
        fs_tick: Duration::from_secs(3600),
        system_tick: Duration::from_secs(3600),
        ..SamplerConfig::default()
    };
    let mut collector = Collector::new(config, Box::new(LiveProbe::default()));
    let origin = Instant::now();
    let mut seen = collector.collect(Now::new(Utc::now(), origin.elapsed()));
    let before = cpu_ticks();
    let wall = Instant::now();
    for _ in 0..n {
        seen = collector.collect(Now::new(Utc::now(), origin.elapsed()));
        // Serialising is part of what a reader pays once per tick.
        let _ = seen.all_json().len();
    }
    let ticks = cpu_ticks() - before;
    // CLK_TCK is 100 on every Linux we run on.
    let cpu_ms = ticks as f64 * 10.0 / f64::from(n);
    let procs = seen
        .plugin("processlist")
        .and_then(|p| p.as_array())
        .map_or(0, Vec::len);
    if std::env::var_os("DUMP").is_some() {
        println!("{}", String::from_utf8_lossy(seen.all_json()));
    }
    println!(
        "{n} snapshots, {procs} processes: {cpu_ms:.2} ms CPU per snapshot, {:.2} ms wall, /all {} bytes",
        wall.elapsed().as_secs_f64() * 1000.0 / f64::from(n),
        seen.all_json().len()
    );
}
