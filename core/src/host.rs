//! What a worker reports about the host it runs on.
//!
//! [`HostRegistration`] turns into a `type: host` entity in the store (the
//! controller upserts it); [`HostStatus`] is the compact, recent status the
//! fleet views read. Both travel over the bus, because workers hold no
//! database credentials.

use serde::{Deserialize, Serialize};

/// Facts about a host that change rarely (on reboot or upgrade).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    pub hostname: String,
    /// Distribution id from `/etc/os-release` (`debian`, `ubuntu`).
    pub platform: String,
    /// Distribution version (`12`, `22.04`).
    pub platform_version: String,
    /// `Linux`.
    pub os: String,
    /// Kernel release (`6.1.0-18-amd64`).
    pub kernel_version: String,
    /// Kernel architecture (`x86_64`, `aarch64`).
    pub arch: String,
    /// The hypervisor or container runtime when this host is a guest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtualization: Option<String>,
    pub cpu_model: String,
    pub cpu_logical_cores: u32,
    pub cpu_physical_cores: u32,
    /// Bytes.
    pub mem_total: u64,
    /// Bytes.
    pub swap_total: u64,
    /// Bytes over the local, deduplicated disk filesystems.
    pub disk_total: u64,
    /// Unix seconds.
    pub boot_time: i64,
    /// Version of the zmon worker that reports.
    pub agent_version: String,
    #[serde(default)]
    pub ipv4: Vec<String>,
    #[serde(default)]
    pub ipv6: Vec<String>,
}

/// The registration a worker publishes on start and then every minute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostRegistration {
    /// The entity id: the lower-case host name unless configured.
    pub id: String,
    /// The queue the worker on this host consumes, without the
    /// `zmon:queue:` prefix. Checks on this entity are routed there.
    pub queue: String,
    /// The worker's name.
    pub worker: String,
    pub facts: HostFacts,
}

/// One temperature sensor reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Temperature {
    pub name: String,
    /// Degrees Celsius.
    pub temperature: f64,
}

/// A host's recent status, as Nezha's agent reports it. Byte counts are
/// bytes, speeds bytes per second.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostStatus {
    /// Busy CPU percent over the last tick (iowait counts as idle).
    pub cpu: f64,
    pub mem_used: u64,
    pub swap_used: u64,
    pub disk_used: u64,
    /// Cumulative bytes received since boot over the physical interfaces.
    pub net_in_transfer: u64,
    pub net_out_transfer: u64,
    pub net_in_speed: u64,
    pub net_out_speed: u64,
    /// Seconds since boot.
    pub uptime: u64,
    pub load1: f64,
    pub load5: f64,
    pub load15: f64,
    /// Sockets in any state, IPv4 and IPv6.
    pub tcp_conn_count: u64,
    pub udp_conn_count: u64,
    pub process_count: u64,
    #[serde(default)]
    pub temperatures: Vec<Temperature>,
    /// GPU busy percent, when a GPU is visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<f64>,
}

/// A [`HostStatus`] stamped by the worker that measured it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostReport {
    /// The host entity id.
    pub id: String,
    /// Unix seconds when the status was measured.
    pub last_active: i64,
    pub status: HostStatus,
}
