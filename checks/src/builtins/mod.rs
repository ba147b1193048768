//! Functions scripts can call.

mod fleet;
pub(crate) mod history;
mod host;
mod monitor;
mod net;
pub(crate) mod python;

use rhai::{Dynamic, Engine, EvalAltResult, Position};

pub use net::{HttpResponse, install_crypto_provider};
pub(crate) use python::truthy;

pub(crate) type FnResult<T> = Result<T, Box<EvalAltResult>>;

/// An error raised by a builtin, shown as the check's or condition's error.
pub(crate) fn fail<T>(message: impl Into<String>) -> FnResult<T> {
    Err(Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(message.into()),
        Position::NONE,
    )))
}

pub(crate) fn register(engine: &mut Engine) {
    python::register(engine);
    net::register(engine);
    monitor::register(engine);
    history::register(engine);
    fleet::register(engine);
    host::register(engine);
}
