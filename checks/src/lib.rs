//! Everything a check or an alert condition can call.
//!
//! - [`compile`] turns a check command or a condition (Rhai, or ZMON's
//!   Python subset translated to Rhai) into a compiled script, once.
//! - [`run_command`] runs a check for one entity; [`evaluate_condition`]
//!   decides whether an alert is raised, with ZMON's helpers and captures.
//! - [`Period`] reads alert time periods (`wd {Mon-Fri} hr {9-17}`).
//!
//! All scripts run in one shared, sandboxed engine (see [`engine`]).

mod builtins;
pub mod compile;
mod context;
mod convert;
pub mod engine;
mod eval;
mod fast;
pub mod host;
pub mod icmp;
pub mod notification;
pub mod period;
pub mod python;

pub use builtins::{HttpResponse, install_crypto_provider};
pub use compile::{CompileError, Compiled, Language, Needs, compile};
pub use context::{History, HostReports, ProbeOutcome};
pub use eval::{
    CommandRun, ConditionInput, ConditionOutcome, RunError, evaluate_condition, run_command,
    run_command_probing, run_command_with,
};
pub use period::{Period, PeriodError};
