//! ICMP echo ("ping") without a setuid helper.
//!
//! Linux offers unprivileged ICMP datagram sockets to groups in
//! `net.ipv4.ping_group_range`; the kernel then owns the identifier and
//! hands the socket only its own replies. Where that is off, a raw socket
//! works with CAP_NET_RAW (root, or the capability added to the
//! container). Without either, [`ping`] says so instead of reporting a
//! made-up delay.

use std::io::{ErrorKind, Read};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

const ECHO_REQUEST_V4: u8 = 8;
const ECHO_REPLY_V4: u8 = 0;
const ECHO_REQUEST_V6: u8 = 128;
const ECHO_REPLY_V6: u8 = 129;
const PAYLOAD: &[u8; 16] = b"zmon-monitor-png";

/// How a ping went.
#[derive(Debug, Clone, PartialEq)]
pub struct PingOutcome {
    pub address: IpAddr,
    pub sent: u32,
    /// Round-trip times of the replies that came back.
    pub rtts: Vec<Duration>,
    /// Which socket kind the system allowed.
    pub raw_socket: bool,
}

impl PingOutcome {
    pub fn average_ms(&self) -> Option<f64> {
        if self.rtts.is_empty() {
            return None;
        }
        let total: f64 = self.rtts.iter().map(|d| d.as_secs_f64() * 1000.0).sum();
        Some(total / self.rtts.len() as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PingError {
    #[error("cannot resolve {0}: {1}")]
    Resolve(String, String),
    #[error(
        "ICMP is not permitted here: unprivileged ping sockets are off \
         (net.ipv4.ping_group_range does not include this group: {datagram}) \
         and raw sockets need CAP_NET_RAW ({raw})"
    )]
    NotPermitted { datagram: String, raw: String },
    #[error("ping {0}: {1}")]
    Io(IpAddr, String),
}

/// Resolves `target` (a name or an address) to its first address.
pub fn resolve(target: &str) -> Result<IpAddr, PingError> {
    if let Ok(ip) = target.parse::<IpAddr>() {
        return Ok(ip);
    }
    let mut addrs = (target, 0)
        .to_socket_addrs()
        .map_err(|e| PingError::Resolve(target.to_string(), e.to_string()))?;
    addrs
        .next()
        .map(|a| a.ip())
        .ok_or_else(|| PingError::Resolve(target.to_string(), "no address".to_string()))
}

/// Opens an ICMP socket for `address`: datagram if allowed, else raw.
fn open(address: IpAddr) -> Result<(Socket, bool), PingError> {
    let (domain, protocol) = match address {
        IpAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4),
        IpAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6),
    };
    match Socket::new(domain, Type::DGRAM, Some(protocol)) {
        Ok(socket) => Ok((socket, false)),
        Err(datagram) => match Socket::new(domain, Type::RAW, Some(protocol)) {
            Ok(socket) => Ok((socket, true)),
            Err(raw) => Err(PingError::NotPermitted {
                datagram: datagram.to_string(),
                raw: raw.to_string(),
            }),
        },
    }
}

fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn echo_request(v6: bool, identifier: u16, sequence: u16) -> Vec<u8> {
    let mut packet = vec![if v6 { ECHO_REQUEST_V6 } else { ECHO_REQUEST_V4 }, 0, 0, 0];
    packet.extend_from_slice(&identifier.to_be_bytes());
    packet.extend_from_slice(&sequence.to_be_bytes());
    packet.extend_from_slice(PAYLOAD);
    if !v6 {
        // The kernel fills ICMPv6 checksums in (it needs the pseudo-header).
        let sum = checksum(&packet);
        packet[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    packet
}

/// The ICMP message in what a socket read: raw IPv4 sockets include the
/// IP header, the others do not.
fn icmp_part(buffer: &[u8], raw_v4: bool) -> Option<&[u8]> {
    if !raw_v4 {
        return Some(buffer);
    }
    let header_len = usize::from(buffer.first()? & 0x0f) * 4;
    buffer.get(header_len..)
}

/// Whether `icmp` answers our request `sequence`. Datagram sockets see
/// only their own replies but with the kernel's identifier, so the
/// identifier is checked on raw sockets only.
fn is_our_reply(icmp: &[u8], v6: bool, raw: bool, identifier: u16, sequence: u16) -> bool {
    let reply = if v6 { ECHO_REPLY_V6 } else { ECHO_REPLY_V4 };
    icmp.len() >= 8 + PAYLOAD.len()
        && icmp[0] == reply
        && (!raw || icmp[4..6] == identifier.to_be_bytes())
        && icmp[6..8] == sequence.to_be_bytes()
        && &icmp[8..8 + PAYLOAD.len()] == PAYLOAD
}

/// Sends `count` echo requests `spacing` apart and collects the replies,
/// giving up on each after `timeout` (and on all at `deadline`).
pub fn ping(
    address: IpAddr,
    count: u32,
    spacing: Duration,
    timeout: Duration,
    deadline: Instant,
) -> Result<PingOutcome, PingError> {
    let (socket, raw) = open(address)?;
    let io = |e: std::io::Error| PingError::Io(address, e.to_string());
    let v6 = address.is_ipv6();
    socket
        .connect(&SockAddr::from(SocketAddr::new(address, 0)))
        .map_err(io)?;
    // Raw sockets see every host's echo traffic; tell ours apart.
    let identifier = (std::process::id() as u16) ^ 0x5a5a;
    let mut outcome = PingOutcome {
        address,
        sent: 0,
        rtts: Vec::new(),
        raw_socket: raw,
    };
    let mut buffer = [0u8; 1500];
    for sequence in 0..count {
        if sequence > 0 {
            std::thread::sleep(spacing.min(deadline.saturating_duration_since(Instant::now())));
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let sequence = sequence as u16;
        let wait_until = (now + timeout).min(deadline);
        socket
            .send(&echo_request(v6, identifier, sequence))
            .map_err(io)?;
        outcome.sent += 1;
        let sent_at = Instant::now();
        loop {
            let left = wait_until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            socket.set_read_timeout(Some(left)).map_err(io)?;
            let read = match (&socket).read(&mut buffer) {
                Ok(n) => n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(io(e)),
            };
            let Some(icmp) = buffer.get(..read).and_then(|b| icmp_part(b, raw && !v6)) else {
                continue;
            };
            if is_our_reply(icmp, v6, raw, identifier, sequence) {
                outcome.rtts.push(sent_at.elapsed());
                break;
            }
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_and_replies() {
        let request = echo_request(false, 0x1234, 7);
        assert_eq!(
            checksum(&request),
            0,
            "a packet with its checksum sums to zero"
        );
        let mut reply = request.clone();
        reply[0] = ECHO_REPLY_V4;
        assert!(is_our_reply(&reply, false, true, 0x1234, 7));
        assert!(
            !is_our_reply(&reply, false, true, 0x1235, 7),
            "someone else's"
        );
        assert!(
            is_our_reply(&reply, false, false, 0x9999, 7),
            "datagram ids are the kernel's"
        );
        assert!(
            !is_our_reply(&reply, false, false, 0x1234, 8),
            "another sequence"
        );
        let mut with_ip = vec![0x45u8; 20];
        with_ip.extend_from_slice(&reply);
        assert_eq!(icmp_part(&with_ip, true), Some(&reply[..]));
    }

    #[test]
    fn resolves_addresses_and_names() {
        assert_eq!(resolve("127.0.0.1"), Ok(IpAddr::from([127, 0, 0, 1])));
        assert!(resolve("localhost").is_ok());
        assert!(matches!(
            resolve("no-such-host.invalid"),
            Err(PingError::Resolve(..))
        ));
    }

    /// Pings the loopback address when the system allows ICMP sockets;
    /// otherwise checks that the refusal names both ways and says why.
    #[test]
    fn pings_loopback_or_explains_why_not() {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(5);
        match ping(
            IpAddr::from([127, 0, 0, 1]),
            2,
            Duration::from_millis(20),
            Duration::from_secs(2),
            deadline,
        ) {
            Ok(outcome) => {
                assert_eq!(outcome.sent, 2);
                assert_eq!(outcome.rtts.len(), 2, "loopback answers every request");
                assert!(outcome.average_ms().is_some_and(|ms| ms < 1000.0));
            }
            Err(refused @ PingError::NotPermitted { .. }) => {
                let text = refused.to_string();
                assert!(text.contains("ping_group_range") && text.contains("CAP_NET_RAW"));
                eprintln!("skipped: ICMP sockets are not permitted for this user: {text}");
            }
            Err(other) => panic!("ping failed: {other}"),
        }
    }
}
