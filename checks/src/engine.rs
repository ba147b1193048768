//! The shared Rhai engine and its sandbox.
//!
//! One engine serves every check and condition. It is built once, with
//! limits on operations, call depth, expression depth, and string, array
//! and map sizes; without modules (the `no_module` feature) or `eval`; and
//! with a wall-clock deadline per run, checked as the script progresses.
//! Scripts reach the world only through the registered builtins, each of
//! which has its own timeout within the run's deadline.

use std::sync::LazyLock;

use rhai::Engine;

use crate::builtins;
use crate::context;

/// The sandbox's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Rhai operations per run (about one per AST node evaluated).
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_expr_depth: usize,
    /// Characters in one string.
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_operations: 2_000_000,
            max_call_levels: 32,
            max_expr_depth: 64,
            max_string_size: 4 * 1024 * 1024,
            max_array_size: 100_000,
            max_map_size: 100_000,
        }
    }
}

/// Checking the clock costs more than an operation, so it is read once
/// every this many operations (tens of microseconds).
const DEADLINE_CHECK_EVERY: u64 = 512;

pub const TIMEOUT_TOKEN: &str = "zmon:deadline";

pub fn build(limits: &Limits) -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        .set_max_expr_depths(limits.max_expr_depth, limits.max_expr_depth / 2)
        .set_max_string_size(limits.max_string_size)
        .set_max_array_size(limits.max_array_size)
        .set_max_map_size(limits.max_map_size)
        .set_max_variables(1_000)
        .set_max_functions(256)
        .set_fail_on_invalid_map_property(false);
    engine.disable_symbol("eval");
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    engine.on_progress(|ops| {
        if ops % DEADLINE_CHECK_EVERY == 0 && context::deadline_passed() {
            Some(TIMEOUT_TOKEN.into())
        } else {
            None
        }
    });
    builtins::register(&mut engine);
    engine
}

static ENGINE: LazyLock<Engine> = LazyLock::new(|| build(&Limits::default()));

/// The process-wide engine with the default limits.
pub fn shared() -> &'static Engine {
    &ENGINE
}
