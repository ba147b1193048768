//! Shared application state handed to every handler.

use std::sync::Arc;

use zmon_core::time::Clock;

use crate::auth::Authenticator;
use crate::bus::Bus;
use crate::metrics::HttpMetrics;
use crate::store::Store;

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub auth: Authenticator,
    pub metrics: HttpMetrics,
    /// Queue names reported by the status endpoint.
    pub queues: Vec<String>,
    pub clock: Arc<dyn Clock>,
}
