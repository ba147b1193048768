//! Helpers shared by the benchmark binaries: child processes and `/proc`,
//! our own servers, a minimal HTTP client, `wrk`, and Markdown tables of
//! medians.
//!
//! A library rather than `mod` files included by each binary, so every
//! binary sees one copy and none warns about the helpers it does not use.

pub mod http;
pub mod proc;
pub mod servers;
pub mod table;
pub mod wrk;

/// The value after `name` on the command line (`--runs 7`).
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}
