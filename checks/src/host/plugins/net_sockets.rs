//! `connections` from `/proc/net/tcp{,6}` states and conntrack, and the
//! socket counts of the Nezha status.

use serde_json::{Value, json};

use super::Ctx;
use crate::host::read;

/// Socket lines per state (hex code in column 4) of one `/proc/net` file;
/// `None` when the file is absent (no IPv6, for instance).
fn states(ctx: &Ctx, file: &str, counts: &mut [u64; 16]) -> Option<u64> {
    let text = read::string(&ctx.root.proc.join("net").join(file))?;
    let mut lines = 0;
    for line in text.lines().skip(1) {
        let Some(st) = line.split_ascii_whitespace().nth(3) else {
            continue;
        };
        if let Ok(code) = u8::from_str_radix(st, 16) {
            counts[usize::from(code & 0x0f)] += 1;
        }
        lines += 1;
    }
    Some(lines)
}

/// One pass over the TCP socket tables for `connections`. The kernel walks
/// its whole hash table for each read of `/proc/net/tcp*`, which costs
/// over a millisecond however few sockets there are, so this runs on a slow
/// tick (Glances even leaves the plugin off by default).
pub struct Sockets {
    /// TCP sockets per state code.
    states: [u64; 16],
}

pub fn scan(ctx: &Ctx) -> Sockets {
    let mut states_ = [0u64; 16];
    states(ctx, "tcp", &mut states_);
    states(ctx, "tcp6", &mut states_);
    Sockets { states: states_ }
}

/// TCP and UDP sockets in any state, IPv4 and IPv6, as Nezha counts them,
/// from the kernel's counters in `/proc/net/sockstat{,6}`: a few
/// microseconds instead of a walk of the socket tables. TCP counts the
/// sockets in use plus those in TIME_WAIT.
pub fn counts(ctx: &Ctx) -> (u64, u64) {
    let mut tcp = 0;
    let mut udp = 0;
    for file in ["sockstat", "sockstat6"] {
        let Some(text) = read::string(&ctx.root.proc.join("net").join(file)) else {
            continue;
        };
        for line in text.lines() {
            let Some((proto, fields)) = line.split_once(':') else {
                continue;
            };
            let field = |name: &str| -> u64 {
                let mut words = fields.split_ascii_whitespace();
                while let Some(word) = words.next() {
                    if word == name {
                        return words.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                    }
                }
                0
            };
            match proto.trim() {
                "TCP" => tcp += field("inuse") + field("tw"),
                "TCP6" => tcp += field("inuse"),
                "UDP" | "UDP6" => udp += field("inuse"),
                _ => {}
            }
        }
    }
    (tcp, udp)
}

pub fn collect(ctx: &Ctx, sockets: &Sockets) -> Value {
    // Kernel TCP states (include/net/tcp_states.h).
    const ESTABLISHED: usize = 1;
    const SYN_SENT: usize = 2;
    const SYN_RECV: usize = 3;
    const FIN_WAIT1: usize = 4;
    const FIN_WAIT2: usize = 5;
    const TIME_WAIT: usize = 6;
    const CLOSE: usize = 7;
    const CLOSE_WAIT: usize = 8;
    const LAST_ACK: usize = 9;
    const LISTEN: usize = 10;
    const CLOSING: usize = 11;
    let c = &sockets.states;
    let mut out = json!({
        "net_connections_enabled": true,
        "LISTEN": c[LISTEN],
        "ESTABLISHED": c[ESTABLISHED],
        "SYN_SENT": c[SYN_SENT],
        "SYN_RECV": c[SYN_RECV],
        "initiated": c[SYN_SENT] + c[SYN_RECV],
        // Glances sums the initiated states here; these are the closing ones.
        "terminated": c[FIN_WAIT1] + c[FIN_WAIT2] + c[TIME_WAIT] + c[CLOSE] + c[CLOSE_WAIT] + c[LAST_ACK] + c[CLOSING],
        "nf_conntrack_enabled": false,
    });
    let nf = ctx.root.proc.join("sys/net/netfilter");
    if let (Some(count), Some(max)) = (
        read::number::<u64>(&nf.join("nf_conntrack_count")),
        read::number::<u64>(&nf.join("nf_conntrack_max")),
    ) {
        out["nf_conntrack_enabled"] = json!(true);
        out["nf_conntrack_count"] = json!(count);
        out["nf_conntrack_max"] = json!(max);
        out["nf_conntrack_percent"] = json!(if max > 0 {
            100.0 * count as f64 / max as f64
        } else {
            0.0
        });
    }
    out
}
