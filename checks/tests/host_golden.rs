//! Collects two recorded ticks (`fixtures/host/tick1`, `tick2`, two seconds
//! apart) and checks the computed values exactly.
//!
//! `tick2` has a network device (`eth1`), a disk (`vdb`) and a process
//! (pid 77) that `tick1` lacks. The whole second snapshot is also compared
//! with `fixtures/host/expected_tick2.json`; after an intended change,
//! regenerate it with `UPDATE_GOLDEN=1 cargo test -p zmon-checks --test
//! host_golden` and review the diff.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use zmon_checks::host::{
    Collector, FixedProbe, FsUsage, HistoryStore, HostRoot, IfAddr, Now, SamplerConfig, Snapshot,
    Uname,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/host")
}

fn root(tick: &str) -> HostRoot {
    let base = fixtures().join(tick);
    HostRoot {
        proc: base.join("proc"),
        sys: base.join("sys"),
        etc: base.join("etc"),
    }
}

fn probe() -> FixedProbe {
    let mut probe = FixedProbe {
        uname: Uname {
            sysname: "Linux".into(),
            release: "6.1.0-18-amd64".into(),
            machine: "x86_64".into(),
        },
        hostname: "fixture-host".into(),
        page_size: 4096,
        clock_ticks: 100,
        online_cpus: None,
        addresses: vec![
            IfAddr {
                interface: "lo".into(),
                addr: "127.0.0.1".parse().unwrap(),
                prefix_len: 8,
                up: true,
            },
            IfAddr {
                interface: "eth0".into(),
                addr: "192.168.1.10".parse().unwrap(),
                prefix_len: 24,
                up: true,
            },
        ],
        ..FixedProbe::default()
    };
    probe.containers = vec![json!({
        "Id": "abc123",
        "Names": ["/web"],
        "Image": "nginx:1.27",
        "State": "running",
        "Status": "Up 2 hours",
        "Created": 1_700_000_000,
        "Command": "nginx -g 'daemon off;'",
    })];
    probe.statvfs.insert(
        "/".into(),
        FsUsage {
            size: 100_000_000_000,
            free_root: 40_000_000_000,
            avail: 35_000_000_000,
        },
    );
    probe.statvfs.insert(
        "/data".into(),
        FsUsage {
            size: 1_000_000_000_000,
            free_root: 900_000_000_000,
            avail: 900_000_000_000,
        },
    );
    probe.statvfs.insert(
        "/boot/efi".into(),
        FsUsage {
            size: 500_000_000,
            free_root: 400_000_000,
            avail: 400_000_000,
        },
    );
    probe
}

/// Uptime at tick2 is 8 days, 18:39:26 after the fixtures' btime.
const BTIME: i64 = 1_700_000_000;
const UPTIME2: i64 = 8 * 86_400 + 18 * 3600 + 39 * 60 + 26;

fn collect_two_ticks() -> (Snapshot, Snapshot) {
    let config = SamplerConfig {
        root: root("tick1"),
        fs_tick: Duration::from_secs(1),
        system_tick: Duration::from_secs(1),
        history_size: 10,
        ..SamplerConfig::default()
    };
    let mut collector = Collector::new(config, Box::new(probe()));
    let wall1 = Utc.timestamp_opt(BTIME + UPTIME2 - 2, 0).unwrap();
    let first = collector.collect(Now::new(wall1, Duration::from_secs(100)));
    collector.set_root(root("tick2"));
    let wall2 = Utc.timestamp_opt(BTIME + UPTIME2, 0).unwrap();
    let second = collector.collect(Now::new(wall2, Duration::from_secs(102)));
    (first, second)
}

fn entry<'a>(snapshot: &'a Snapshot, plugin: &str, key: &str) -> &'a Value {
    let list = snapshot.plugin(plugin).and_then(Value::as_array).unwrap();
    list.iter()
        .find(|e| {
            let k = e["key"].as_str().unwrap();
            match &e[k] {
                Value::String(s) => s == key,
                other => format!("{other}") == key,
            }
        })
        .unwrap_or_else(|| panic!("{plugin} has no entry {key}"))
}

#[test]
fn cpu_percentages_come_from_tick_deltas() {
    let (_, s) = collect_two_ticks();
    let cpu = s.plugin("cpu").unwrap();
    // Δ: user 100, system 50, idle 200, iowait 50 of 400 ticks.
    assert_eq!(cpu["total"], 37.5, "iowait counts as idle");
    assert_eq!(cpu["user"], 25.0);
    assert_eq!(cpu["system"], 12.5);
    assert_eq!(cpu["idle"], 50.0);
    assert_eq!(cpu["iowait"], 12.5);
    assert_eq!(cpu["cpucore"], 2);
    assert_eq!(cpu["ctx_switches"], 10_000);
    assert_eq!(cpu["ctx_switches_gauge"], 510_000);
    assert_eq!(cpu["ctx_switches_rate_per_sec"], 5000.0);
    assert_eq!(cpu["interrupts_rate_per_sec"], 2000.0);
    assert_eq!(cpu["soft_interrupts"], 1000);
    assert_eq!(cpu["time_since_update"], 2.0);
    assert_eq!(cpu["total_max"], 37.5);
    assert_eq!(cpu["total_min"], 0.0, "the first tick had no baseline");

    let cpu0 = entry(&s, "percpu", "0");
    assert_eq!(cpu0["user"], 35.3);
    assert_eq!(cpu0["idle"], 47.1);
    assert_eq!(cpu0["total"], 52.9);
    let cpu1 = entry(&s, "percpu", "1");
    assert_eq!(cpu1["iowait"], 21.7);
    assert_eq!(
        cpu1["total"], 47.8,
        "percpu total is 100 - idle: iowait is busy"
    );
    assert_eq!(cpu1["guest_nice"], 0.0);
    assert_eq!(s.plugin("core").unwrap(), &json!({"phys": 2, "log": 2}));
}

#[test]
fn memory_load_uptime_and_counts() {
    let (_, s) = collect_two_ticks();
    let mem = s.plugin("mem").unwrap();
    assert_eq!(mem["total"], 16_384_000_000u64);
    assert_eq!(mem["available"], 10_240_000_000u64);
    assert_eq!(mem["used"], 6_144_000_000u64);
    assert_eq!(mem["percent"], 37.5);
    assert_eq!(mem["cached"], (4_000_000u64 + 300_000) * 1024);
    let swap = s.plugin("memswap").unwrap();
    assert_eq!(swap["used"], 512_000_000u64);
    assert_eq!(swap["percent"], 25.0);
    assert_eq!(swap["sin"], 409_600);
    assert_eq!(
        s.plugin("load").unwrap(),
        &json!({"min1": 0.52, "min5": 0.58, "min15": 0.59, "cpucore": 2})
    );
    assert_eq!(s.plugin("uptime").unwrap(), "8 days, 18:39:26");
    assert_eq!(
        s.plugin("processcount").unwrap(),
        &json!({"total": 3, "running": 1, "sleeping": 2, "thread": 6, "pid_max": 4_194_304})
    );
    let conns = s.plugin("connections").unwrap();
    assert_eq!(conns["LISTEN"], 3);
    assert_eq!(conns["ESTABLISHED"], 3);
    assert_eq!(conns["terminated"], 1);
    assert_eq!(conns["nf_conntrack_count"], 12);
}

#[test]
fn every_network_and_disk_entry_has_rates_including_new_devices() {
    let (first, s) = collect_two_ticks();
    for snapshot in [&first, &s] {
        for plugin in ["network", "diskio"] {
            for e in snapshot.plugin(plugin).and_then(Value::as_array).unwrap() {
                let tsu = e["time_since_update"].as_f64().unwrap();
                assert!(tsu > 0.0, "{plugin} {e}");
            }
        }
    }
    let eth0 = entry(&s, "network", "eth0");
    assert_eq!(eth0["bytes_recv"], 200_000);
    assert_eq!(eth0["bytes_recv_gauge"], 1_200_000);
    assert_eq!(eth0["bytes_recv_rate_per_sec"], 100_000.0);
    assert_eq!(eth0["bytes_sent_rate_per_sec"], 50_000.0);
    assert_eq!(eth0["bytes_all"], 300_000);
    assert_eq!(eth0["time_since_update"], 2.0);
    assert_eq!(
        eth0["speed"], 1_000_000_000u64,
        "1000 Mb/s in bits per second"
    );
    assert_eq!(eth0["is_up"], true);
    let eth1 = entry(&s, "network", "eth1");
    assert_eq!(eth1["bytes_recv"], 0);
    assert_eq!(eth1["bytes_recv_gauge"], 5000);
    assert_eq!(eth1["bytes_recv_rate_per_sec"], 0.0);
    assert_eq!(eth1["bytes_all_gauge"], 8000);
    assert_eq!(eth1["time_since_update"], 2.0);
    assert_eq!(eth1["is_up"], true);
    assert_eq!(eth1["speed"], 0);
    let names: Vec<&str> = s
        .plugin("network")
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .filter_map(|e| e["interface_name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["eth0", "eth1"],
        "lo, docker* and down interfaces (eth2) are hidden"
    );

    let vda = entry(&s, "diskio", "vda");
    assert_eq!(vda["read_count"], 100);
    assert_eq!(vda["read_bytes"], 1_024_000);
    assert_eq!(vda["read_bytes_rate_per_sec"], 512_000.0);
    assert_eq!(vda["write_bytes_rate_per_sec"], 1_024_000.0);
    assert_eq!(vda["read_latency"], 1);
    assert_eq!(vda["write_latency"], 2);
    let vdb = entry(&s, "diskio", "vdb");
    assert_eq!(vdb["read_bytes"], 0);
    assert_eq!(vdb["read_bytes_gauge"], 40_960);
    assert_eq!(vdb["read_count_rate_per_sec"], 0.0);
    assert_eq!(vdb["time_since_update"], 2.0);
    assert!(
        s.plugin("diskio")
            .and_then(Value::as_array)
            .unwrap()
            .iter()
            .all(|d| d["disk_name"] != "loop0")
    );
}

#[test]
fn filesystems_sensors_processes_and_system() {
    let (_, s) = collect_two_ticks();
    let fs = s.plugin("fs").and_then(Value::as_array).unwrap();
    assert_eq!(
        fs.len(),
        2,
        "/boot is hidden, / is listed once, proc and tmpfs are not disks"
    );
    let slash = entry(&s, "fs", "/");
    assert_eq!(slash["used"], 60_000_000_000u64);
    assert_eq!(slash["free"], 35_000_000_000u64);
    assert_eq!(slash["percent"], 63.2, "used / (used + available)");
    assert_eq!(slash["device_name"], "/dev/vda1");

    let pkg = entry(&s, "sensors", "Package id 0");
    assert_eq!(pkg["value"], 45);
    assert_eq!(pkg["warning"], 80);
    assert_eq!(pkg["critical"], 100);
    assert_eq!(pkg["type"], "temperature_core");
    assert_eq!(entry(&s, "sensors", "nvme 0")["value"], 38);
    assert_eq!(entry(&s, "sensors", "CPU Fan")["unit"], "R");
    assert_eq!(entry(&s, "sensors", "BAT BAT0")["value"], 85);

    let init = entry(&s, "processlist", "1");
    assert_eq!(init["cpu_percent"], 60.0, "120 ticks over 2 s at 100 Hz");
    assert_eq!(init["username"], "root");
    assert_eq!(init["cmdline"], json!(["/sbin/init", "splash"]));
    assert_eq!(init["memory_info"]["rss"], 12_288_000);
    assert_eq!(init["memory_percent"], 0.075);
    assert_eq!(
        init["io_counters"],
        json!([4_100_096, 16_384, 4_096_000, 8192, 1])
    );
    assert_eq!(init["cpu_times"]["user"], 2.5);
    let nginx = entry(&s, "processlist", "42");
    assert_eq!(nginx["username"], "www-data");
    assert_eq!(nginx["status"], "R");
    assert_eq!(
        nginx["gids"],
        json!({"real": 33, "effective": 33, "saved": 33})
    );
    let bash = entry(&s, "processlist", "77");
    assert_eq!(bash["cpu_percent"], 0.0, "a new process has no baseline");
    assert_eq!(bash["username"], "alice");
    let programs = s.plugin("programlist").and_then(Value::as_array).unwrap();
    assert_eq!(programs.len(), 3);
    assert!(programs.iter().all(|p| p["pid"] == "_"));

    let web = entry(&s, "containers", "web");
    assert_eq!(web["cpu"]["total"], 25.0, "0.5 s of CPU over 2 s");
    assert_eq!(web["memory"]["usage"], 52_428_800);
    assert_eq!(web["status"], "running");

    let system = s.plugin("system").unwrap();
    assert_eq!(
        system["hr_name"],
        "Debian GNU/Linux 12 64bit / Linux 6.1.0-18-amd64"
    );
    assert_eq!(
        s.plugin("ip").unwrap(),
        &json!({"address": "192.168.1.10", "mask": "255.255.255.0", "mask_cidr": 24,
                "gateway": "192.168.1.1", "public_address": "", "public_info_human": ""})
    );
    let ql = s.plugin("quicklook").unwrap();
    assert_eq!(ql["cpu_name"], "Fixture CPU @ 2.00GHz");
    assert_eq!(ql["cpu_hz_current"], 2_000_000_000.0);
    assert_eq!(ql["load"], 29.5);
}

#[test]
fn facts_status_views_limits_and_history() {
    let (first, s) = collect_two_ticks();
    let f = &s.facts;
    assert_eq!(f.hostname, "fixture-host");
    assert_eq!(
        (f.platform.as_str(), f.platform_version.as_str()),
        ("debian", "12")
    );
    assert_eq!(f.kernel_version, "6.1.0-18-amd64");
    assert_eq!(f.cpu_logical_cores, 2);
    assert_eq!(f.mem_total, 16_384_000_000);
    assert_eq!(f.disk_total, 1_100_000_000_000);
    assert_eq!(f.boot_time, BTIME);
    assert_eq!(f.ipv4, ["192.168.1.10"]);
    assert_eq!(f.virtualization.as_deref(), Some("vm"));
    assert_eq!(f.agent_version, env!("CARGO_PKG_VERSION"));

    let st = &s.status;
    assert_eq!(st.cpu, 37.5);
    assert_eq!(st.mem_used, 6_144_000_000);
    assert_eq!(st.disk_used, 160_000_000_000);
    assert_eq!(
        st.net_in_transfer, 1_205_000,
        "eth0 + eth1; lo and docker0 excluded"
    );
    assert_eq!(st.net_in_speed, 102_500);
    assert_eq!(st.net_out_speed, 51_500);
    assert_eq!((st.tcp_conn_count, st.udp_conn_count), (7, 2));
    assert_eq!(st.process_count, 3);
    assert_eq!(st.uptime, UPTIME2 as u64);
    assert_eq!(st.temperatures.len(), 3);

    assert_eq!(s.seq, first.seq + 1);
    let views = s.views("cpu").unwrap();
    assert_eq!(views["total"]["decoration"], "OK_LOG");
    assert_eq!(views["user"]["decoration"], "OK");
    assert_eq!(s.views("mem").unwrap()["percent"]["decoration"], "OK_LOG");
    assert_eq!(s.views("fs").unwrap()["/"]["used"]["decoration"], "CAREFUL");
    assert_eq!(
        s.views("sensors").unwrap()["Package id 0"]["value"]["decoration"],
        "CAREFUL"
    );
    assert_eq!(
        s.views("processlist").unwrap()["42"]["status"]["decoration"],
        "OK"
    );
    assert_eq!(s.limits("cpu").unwrap()["cpu_total_careful"], 65.0);
    assert_eq!(s.limits("cpu").unwrap()["history_size"], 10.0);
    assert_eq!(s.limits("load").unwrap()["load_warning"], 1.0);

    let mut history = HistoryStore::new(10);
    for snap in [&first, &s] {
        zmon_checks::host::record_history(&mut history, snap);
    }
    let cpu = history.plugin_history("cpu", None).unwrap();
    assert_eq!(cpu["user"].as_array().map(Vec::len), Some(2));
    let eth1 = history
        .item_history("network", "eth1_bytes_recv_rate_per_sec", None)
        .unwrap();
    assert_eq!(eth1.as_array().map(Vec::len), Some(1));
    assert!(history.item_history("fs", "/_percent", None).is_some());
}

#[test]
fn the_whole_second_tick_matches_the_golden_file() {
    let (_, s) = collect_two_ticks();
    let mut all: serde_json::Map<String, Value> = serde_json::from_slice(s.all_json()).unwrap();
    // Local time zone and crate version dependent.
    for unstable in ["now", "version", "psutilversion"] {
        all.remove(unstable);
    }
    let got = Value::Object(all);
    let path = fixtures().join("expected_tick2.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
    }
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default())
        .unwrap_or(Value::Null);
    assert_eq!(
        got, expected,
        "regenerate with UPDATE_GOLDEN=1 after an intended change"
    );
}
