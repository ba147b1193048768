//! Shared application state handed to every handler.

use std::sync::Arc;

use zmon_core::time::Clock;

use crate::auth::Authenticator;
use crate::bus::Bus;
use crate::metrics::HttpMetrics;
use crate::service::host_history::HostHistory;
use crate::store::Store;
use crate::ui::UiSettings;

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub auth: Authenticator,
    pub metrics: HttpMetrics,
    /// Queue names reported by the status endpoint.
    pub queues: Vec<String>,
    pub clock: Arc<dyn Clock>,
    /// Nezha API refusals as real 401/403 (see `ControllerConfig`).
    pub nezha_strict_auth: bool,
    pub ui: UiSettings,
    /// Recent host status for the UI's host charts.
    pub host_history: HostHistory,
}
