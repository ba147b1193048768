//! The ZMON-compatible controller: REST API v1, authentication, storage and
//! alert status.

pub mod api;
pub mod app;
pub mod auth;
pub mod bus;
pub mod config;
pub mod error;
pub mod json;
pub mod metrics;
pub mod service;
pub mod state;
pub mod store;

pub use app::{RunningController, StartError, connect_bus, connect_store, start, start_with_clock};
pub use config::ControllerConfig;
