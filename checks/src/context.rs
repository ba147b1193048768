//! What a running script can see besides its variables: its deadline, its
//! entity, the captures it made, and the check history loaded for it.
//!
//! Scripts run synchronously on one thread, so the state lives in a
//! thread-local that [`scoped`] installs for exactly one run and removes
//! afterwards, even if the run panics.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use zmon_core::status::CheckResult;

/// Earlier results of the check, loaded before a condition runs.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Results of this check on this entity, newest first (the current one
    /// included).
    pub results: Arc<Vec<CheckResult>>,
    /// Latest results of every entity the alert was evaluated on.
    pub entity_results: Arc<Vec<(String, Vec<CheckResult>)>>,
}

/// The latest status of every registered host: entity id to its report,
/// `None` for a host that registered but has no report (any more).
pub type HostReports = Arc<Vec<(String, Option<zmon_core::host::HostReport>)>>;

/// One monitor probe a check made (`monitor_probe`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeOutcome {
    /// `None` when the probe failed.
    pub delay_ms: Option<f64>,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct RunState {
    pub entity: Map<String, Value>,
    pub captures: Map<String, Value>,
    pub history: History,
    pub host_reports: HostReports,
    pub probes: Vec<ProbeOutcome>,
}

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    static STATE: RefCell<Option<RunState>> = const { RefCell::new(None) };
}

struct Reset;

impl Drop for Reset {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(None));
        STATE.with(|s| s.borrow_mut().take());
    }
}

/// Runs `f` with `state` installed and a deadline `timeout` from now, and
/// returns what `f` returned with the state as the run left it.
pub(crate) fn scoped<R>(
    state: RunState,
    timeout: Duration,
    f: impl FnOnce() -> R,
) -> (R, RunState) {
    let reset = Reset;
    DEADLINE.with(|d| d.set(Some(Instant::now() + timeout)));
    STATE.with(|s| *s.borrow_mut() = Some(state));
    let result = f();
    let state = STATE.with(|s| s.borrow_mut().take()).unwrap_or_default();
    drop(reset);
    (result, state)
}

/// Time left before the current run's deadline; `None` outside a run.
pub(crate) fn remaining() -> Option<Duration> {
    DEADLINE
        .with(|d| d.get())
        .map(|deadline| deadline.saturating_duration_since(Instant::now()))
}

pub(crate) fn deadline_passed() -> bool {
    DEADLINE
        .with(|d| d.get())
        .is_some_and(|deadline| Instant::now() >= deadline)
}

/// Gives a builtin access to the run's state. Outside a run it sees an
/// empty state.
pub(crate) fn with_state<R>(f: impl FnOnce(&mut RunState) -> R) -> R {
    STATE.with(|s| {
        let mut slot = s.borrow_mut();
        let state = slot.get_or_insert_with(RunState::default);
        f(state)
    })
}
