//! The ZMON-compatible controller: REST API v1, authentication, storage and
//! alert status.

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod error;
pub mod json;
pub mod metrics;
pub mod service;
pub mod state;
pub mod ui;

pub use app::{RunningController, StartError, connect_bus, connect_store, start, start_with_clock};
pub use config::ControllerConfig;

/// The bus seam, re-exported likewise.
pub use zmon_bus as bus;
/// The storage seam, re-exported so handlers read `crate::store::…`.
pub use zmon_store as store;
