//! In-process change notification.
//!
//! PostgreSQL tells listeners about changes with NOTIFY, which reaches
//! every process. SQLite has nothing like it, but the embedded backend runs
//! in a single process, so a counter in memory that each committed
//! transaction bumps reaches every listener there is.

use async_trait::async_trait;
use tokio::sync::watch;

use crate::{ChangeListener, StoreError, StoreResult};

/// Owned by the store; shared by its transactions.
#[derive(Debug)]
pub(super) struct Changes {
    generation: watch::Sender<u64>,
}

impl Changes {
    pub(super) fn new() -> Self {
        Self {
            generation: watch::Sender::new(0),
        }
    }

    /// Wakes every listener. Called after a commit, never before, so a
    /// listener that reloads at once sees the change.
    pub(super) fn notify(&self) {
        self.generation.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(super) fn listener(&self) -> SqliteChangeListener {
        SqliteChangeListener {
            generation: self.generation.subscribe(),
        }
    }
}

/// Several commits between two calls are folded into one wake-up, as
/// PostgreSQL folds notifications within a transaction.
pub(super) struct SqliteChangeListener {
    generation: watch::Receiver<u64>,
}

#[async_trait]
impl ChangeListener for SqliteChangeListener {
    async fn changed(&mut self) -> StoreResult<()> {
        self.generation
            .changed()
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite store was closed".into()))
    }
}
