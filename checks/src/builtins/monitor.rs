//! `monitor_probe(type, target)`: one probe of a monitor (see
//! `zmon_core::monitor`). ICMP sends three echo requests and reports their
//! mean round trip; TCP reports the connect time. The outcome is also
//! noted in the run's state, so the worker can publish it as a sample.
//! A failed probe is a check error, so alerts on the check fire on it.

use std::time::{Duration, Instant};

use rhai::{Dynamic, Engine, ImmutableString, Map};

use super::net::{block_on, budget};
use super::{FnResult, fail};
use crate::context::{self, ProbeOutcome};
use crate::icmp;

const PINGS: u32 = 3;
const PING_SPACING: Duration = Duration::from_millis(200);
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// The whole probe's timeout, capped by the run's deadline.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

fn icmp_delay(target: &str, timeout: Duration) -> Result<f64, String> {
    let address = icmp::resolve(target).map_err(|e| e.to_string())?;
    let outcome = icmp::ping(
        address,
        PINGS,
        PING_SPACING,
        PING_TIMEOUT.min(timeout),
        Instant::now() + timeout,
    )
    .map_err(|e| e.to_string())?;
    outcome.average_ms().ok_or_else(|| {
        format!(
            "icmp {target} ({address}): no reply to {} echo requests",
            outcome.sent
        )
    })
}

fn tcp_delay(target: &str, timeout: Duration) -> Result<f64, String> {
    let target = target.to_string();
    block_on(timeout, async move {
        let started = Instant::now();
        match tokio::net::TcpStream::connect(&target).await {
            Ok(_) => Ok(started.elapsed().as_secs_f64() * 1000.0),
            Err(e) => Err(format!("tcp {target}: {e}")),
        }
    })
    .map_err(|e| {
        if e.starts_with("timed out") {
            format!("tcp connect {e}")
        } else {
            e
        }
    })
}

fn monitor_probe(kind: &str, target: &str) -> FnResult<Map> {
    let timeout = budget(Some(PROBE_TIMEOUT));
    let outcome = match kind {
        "icmp" => icmp_delay(target, timeout),
        "tcp" => tcp_delay(target, timeout),
        other => {
            return fail(format!(
                "monitor_probe: unknown type '{other}' (icmp or tcp)"
            ));
        }
    };
    context::with_state(|state| {
        state.probes.push(ProbeOutcome {
            delay_ms: outcome.as_ref().ok().copied(),
            error: outcome.as_ref().err().cloned(),
        })
    });
    let delay = outcome.or_else(fail)?;
    let mut value = Map::new();
    value.insert("avg_delay".into(), Dynamic::from_float(delay));
    value.insert("ok".into(), Dynamic::TRUE);
    value.insert("type".into(), Dynamic::from(kind.to_string()));
    value.insert("target".into(), Dynamic::from(target.to_string()));
    Ok(value)
}

pub(super) fn register(engine: &mut Engine) {
    engine.register_fn(
        "monitor_probe",
        |kind: ImmutableString, target: ImmutableString| monitor_probe(&kind, &target),
    );
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::time::Duration;

    use serde_json::{Map, json};

    use crate::{compile, run_command_probing};

    fn run(script: &str) -> crate::CommandRun {
        let compiled = compile(script).expect("compiles");
        run_command_probing(
            &compiled,
            &Map::new(),
            Default::default(),
            Duration::from_secs(10),
        )
    }

    #[test]
    fn tcp_probe_measures_an_open_port_and_fails_on_a_closed_one() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listener");
        let open = listener.local_addr().expect("address");
        let closed = {
            let l = TcpListener::bind("127.0.0.1:0").expect("listener");
            l.local_addr().expect("address")
        };
        let up = run(&format!(r#"monitor_probe("tcp", "{open}")"#));
        let value = up.value.expect("an open port answers");
        assert_eq!(value["ok"], json!(true));
        assert!(
            value["avg_delay"]
                .as_f64()
                .is_some_and(|d| (0.0..1000.0).contains(&d))
        );
        assert_eq!(up.probes.len(), 1);
        assert!(up.probes[0].delay_ms.is_some());

        let down = run(&format!(r#"monitor_probe("tcp", "{closed}")"#));
        let error = down.value.expect_err("a closed port fails");
        assert!(error.0.contains("refused"), "{error}");
        assert_eq!(down.probes.len(), 1);
        assert_eq!(
            down.probes[0].delay_ms, None,
            "a failure is no delay, not 0"
        );
        assert!(
            down.probes[0]
                .error
                .as_deref()
                .is_some_and(|e| e.contains("refused"))
        );
    }

    #[test]
    fn unknown_types_are_refused() {
        let run = run(r#"monitor_probe("http", "x")"#);
        assert!(run.value.is_err());
        assert!(run.probes.is_empty(), "nothing was probed");
    }
}
