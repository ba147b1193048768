//! The few facts that do not come from files under [`super::HostRoot`]:
//! syscalls (statvfs, uname, sysconf, getifaddrs) and sockets. They sit
//! behind [`Probe`] so recorded fixtures can stand in for them.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::IpAddr;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

/// statvfs results, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FsUsage {
    /// `f_blocks × f_frsize`.
    pub size: u64,
    /// `f_bfree × f_frsize`: free including the root reserve.
    pub free_root: u64,
    /// `f_bavail × f_frsize`: free for unprivileged users.
    pub avail: u64,
}

/// `uname(2)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Uname {
    pub sysname: String,
    pub release: String,
    pub machine: String,
}

/// One address of one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfAddr {
    pub interface: String,
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub up: bool,
}

/// Syscalls and sockets the collectors need.
pub trait Probe: Send {
    /// `None` when the mount cannot be measured (gone, no permission).
    fn statvfs(&self, mount_point: &Path) -> Option<FsUsage>;
    fn uname(&self) -> Uname;
    fn hostname(&self) -> String;
    fn page_size(&self) -> u64;
    fn clock_ticks(&self) -> u64;
    /// Online logical CPUs, when the system says.
    fn online_cpus(&self) -> Option<u32>;
    fn addresses(&self) -> Vec<IfAddr>;
    /// Raw `/containers/json` entries of a reachable Docker-compatible
    /// engine; empty when there is none.
    fn containers(&self) -> Vec<Value>;
}

/// The real system.
#[derive(Debug, Clone)]
pub struct LiveProbe {
    /// Docker-compatible engine socket; `None` disables the lookup.
    pub docker_socket: Option<std::path::PathBuf>,
}

impl Default for LiveProbe {
    fn default() -> Self {
        Self {
            docker_socket: Some("/var/run/docker.sock".into()),
        }
    }
}

impl Probe for LiveProbe {
    fn statvfs(&self, mount_point: &Path) -> Option<FsUsage> {
        let st = nix::sys::statvfs::statvfs(mount_point).ok()?;
        let frsize = st.fragment_size();
        Some(FsUsage {
            size: st.blocks().saturating_mul(frsize),
            free_root: st.blocks_free().saturating_mul(frsize),
            avail: st.blocks_available().saturating_mul(frsize),
        })
    }

    fn uname(&self) -> Uname {
        match nix::sys::utsname::uname() {
            Ok(u) => Uname {
                sysname: u.sysname().to_string_lossy().into_owned(),
                release: u.release().to_string_lossy().into_owned(),
                machine: u.machine().to_string_lossy().into_owned(),
            },
            Err(_) => Uname::default(),
        }
    }

    fn hostname(&self) -> String {
        nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn page_size(&self) -> u64 {
        sysconf(nix::unistd::SysconfVar::PAGE_SIZE).unwrap_or(4096)
    }

    fn clock_ticks(&self) -> u64 {
        sysconf(nix::unistd::SysconfVar::CLK_TCK).unwrap_or(100)
    }

    fn online_cpus(&self) -> Option<u32> {
        sysconf(nix::unistd::SysconfVar::_NPROCESSORS_ONLN).and_then(|n| u32::try_from(n).ok())
    }

    fn addresses(&self) -> Vec<IfAddr> {
        let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for a in addrs {
            let up = a.flags.contains(nix::net::if_::InterfaceFlags::IFF_UP);
            let (Some(addr), Some(mask)) = (a.address.as_ref(), a.netmask.as_ref()) else {
                continue;
            };
            if let (Some(v4), Some(m4)) = (addr.as_sockaddr_in(), mask.as_sockaddr_in()) {
                let prefix = u8::try_from(u32::from(m4.ip()).count_ones()).unwrap_or(0);
                out.push(IfAddr {
                    interface: a.interface_name.clone(),
                    addr: IpAddr::V4(v4.ip()),
                    prefix_len: prefix,
                    up,
                });
            } else if let (Some(v6), Some(m6)) = (addr.as_sockaddr_in6(), mask.as_sockaddr_in6()) {
                let prefix = u8::try_from(u128::from(m6.ip()).count_ones()).unwrap_or(0);
                out.push(IfAddr {
                    interface: a.interface_name.clone(),
                    addr: IpAddr::V6(v6.ip()),
                    prefix_len: prefix,
                    up,
                });
            }
        }
        out
    }

    fn containers(&self) -> Vec<Value> {
        match &self.docker_socket {
            // A missing socket is the common case: skip the connect.
            Some(path) if path.exists() => docker_containers(path).unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

fn sysconf(var: nix::unistd::SysconfVar) -> Option<u64> {
    nix::unistd::sysconf(var)
        .ok()
        .flatten()
        .and_then(|v| u64::try_from(v).ok())
        .filter(|v| *v > 0)
}

/// One HTTP/1.0 request over the engine socket; HTTP/1.0 so the engine
/// closes the stream and we need no chunked decoding.
fn docker_containers(socket: &Path) -> Option<Vec<Value>> {
    let mut stream = UnixStream::connect(socket).ok()?;
    let timeout = Some(Duration::from_millis(500));
    stream.set_read_timeout(timeout).ok()?;
    stream.set_write_timeout(timeout).ok()?;
    stream
        .write_all(b"GET /containers/json HTTP/1.0\r\nHost: docker\r\n\r\n")
        .ok()?;
    let mut body = Vec::new();
    // Cap the read so a misbehaving peer cannot grow our memory.
    stream.take(8 * 1024 * 1024).read_to_end(&mut body).ok()?;
    let split = body.windows(4).position(|w| w == b"\r\n\r\n")?;
    serde_json::from_slice::<Vec<Value>>(body.get(split + 4..)?).ok()
}

/// Fixed answers, for tests and replayed recordings.
#[derive(Debug, Clone, Default)]
pub struct FixedProbe {
    pub statvfs: BTreeMap<String, FsUsage>,
    pub uname: Uname,
    pub hostname: String,
    pub page_size: u64,
    pub clock_ticks: u64,
    pub online_cpus: Option<u32>,
    pub addresses: Vec<IfAddr>,
    pub containers: Vec<Value>,
}

impl Probe for FixedProbe {
    fn statvfs(&self, mount_point: &Path) -> Option<FsUsage> {
        self.statvfs.get(mount_point.to_str()?).copied()
    }
    fn uname(&self) -> Uname {
        self.uname.clone()
    }
    fn hostname(&self) -> String {
        self.hostname.clone()
    }
    fn page_size(&self) -> u64 {
        self.page_size
    }
    fn clock_ticks(&self) -> u64 {
        self.clock_ticks
    }
    fn online_cpus(&self) -> Option<u32> {
        self.online_cpus
    }
    fn addresses(&self) -> Vec<IfAddr> {
        self.addresses.clone()
    }
    fn containers(&self) -> Vec<Value> {
        self.containers.clone()
    }
}
