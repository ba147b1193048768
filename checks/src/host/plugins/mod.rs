//! One module per Glances plugin family. Each reads through [`Ctx`] and
//! returns Glances v4 JSON; none keeps state of its own beyond what the
//! collector hands it.

pub mod cpu;
pub mod diskio;
pub mod fs;
pub mod mem;
pub mod misc;
pub mod net_sockets;
pub mod network;
pub mod processes;
pub mod sensors;
pub mod system;

use super::HostRoot;
use super::collector::Now;
use super::probe::Probe;

/// What one collection reads from.
pub struct Ctx<'a> {
    pub root: &'a HostRoot,
    pub probe: &'a dyn Probe,
    pub now: Now,
    /// Seconds since the previous collection (1 on the first, as Glances).
    pub tsu: f64,
}
