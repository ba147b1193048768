//! `wrk` against one of the servers under test, with that server's CPU
//! over the run.

use std::path::Path;
use std::process::Command;

use crate::proc::Guard;
use crate::table::row;

/// What one `wrk` run measured; NaN where it failed.
pub struct Load {
    pub per_second: f64,
    pub per_cpu_second: f64,
    pub kb_per_response: f64,
}

pub const FAILED: Load = Load {
    per_second: f64::NAN,
    per_cpu_second: f64::NAN,
    kb_per_response: f64::NAN,
};

/// `wrk -t1 -c4 -d5s` on `url` with extra `headers`, and the CPU of
/// `server` (all threads) around it. A failure is noted and returns
/// [`FAILED`], so one bad run leaves the other runs' median standing.
pub fn run(
    wrk: &Path,
    server: &Guard,
    url: &str,
    headers: &[&str],
    notes: &mut Vec<String>,
) -> Load {
    let mut command = Command::new(wrk);
    command.args(["-t1", "-c4", "-d5s"]);
    for header in headers {
        command.args(["-H", header]);
    }
    command.arg(url);
    let c0 = server.cpu_seconds();
    let Ok(out) = command.output() else {
        notes.push(format!("{}: wrk did not run", server.name()));
        return FAILED;
    };
    let cpu = server.cpu_seconds() - c0;
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .map(str::trim)
    };
    if let Some(bad) = field("Non-2xx or 3xx responses:") {
        notes.push(format!(
            "{}: {bad} non-2xx responses under wrk",
            server.name()
        ));
        return FAILED;
    }
    let requests = text
        .lines()
        .find(|l| l.contains(" requests in "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok());
    let per_second = field("Requests/sec:").and_then(|v| v.parse::<f64>().ok());
    let transfer = field("Transfer/sec:").and_then(bytes);
    match (requests, per_second) {
        (Some(requests), Some(per_second)) if cpu > 0.0 => Load {
            per_second,
            per_cpu_second: requests / cpu,
            kb_per_response: transfer.map_or(f64::NAN, |t| t / per_second / 1024.0),
        },
        _ => {
            notes.push(format!(
                "{}: wrk output not understood:\n{text}",
                server.name()
            ));
            FAILED
        }
    }
}

/// wrk's `12.5MB` as bytes.
fn bytes(v: &str) -> Option<f64> {
    let unit = v.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    let number: f64 = v[..v.len() - unit.len()].parse().ok()?;
    let scale = match unit {
        "B" => 1.0,
        "KB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(number * scale)
}

/// One field of each run, for the tables.
pub fn column(runs: &[Load], field: fn(&Load) -> f64) -> Vec<f64> {
    runs.iter().map(field).collect()
}

/// The rows of a set of runs: requests/s, requests per CPU-second of the
/// server, response size.
pub fn rows(name: &str, runs: &[Load]) -> Vec<String> {
    vec![
        row(
            &format!("{name}, requests/s (wrk -c4)"),
            "/s",
            &column(runs, |l| l.per_second),
        ),
        row(
            &format!("{name}, requests per CPU-second of the server"),
            "",
            &column(runs, |l| l.per_cpu_second),
        ),
        row(
            &format!("{name}, response size"),
            "KB",
            &column(runs, |l| l.kb_per_response),
        ),
    ]
}
