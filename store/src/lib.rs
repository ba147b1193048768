//! The storage seam.
//!
//! Handlers and services talk to [`Store`] and [`StoreTx`] only.
//! PostgreSQL implements them for production and SQLite for the embedded
//! (standalone) mode; [`connect`] picks one by the database URL. Business rules (permissions,
//! inheritance, validation) live above the seam so both backends share them;
//! the store only reads and writes rows.

mod postgres;
mod records;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use zmon_core::alert::{AlertDefinition, AlertNodeDraft};
use zmon_core::check::{CheckDefinition, DefinitionStatus, NewCheckDefinition};
use zmon_core::dashboard::{Dashboard, DashboardDraft};
use zmon_core::downtime::{Downtime, DowntimeGroup, DowntimeSpec};
use zmon_core::event::AlertEvent;
use zmon_core::monitor::{Monitor, MonitorDraft, MonitorMinute};
use zmon_core::{Entity, EntityFilter};

pub use postgres::PostgresStore;
pub use records::*;
pub use sqlite::SqliteStore;

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken; the message names it.
    #[error("{0}")]
    Conflict(String),
    /// The database rejected a value (a CHECK constraint).
    #[error("{0}")]
    Invalid(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

/// The database behind a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// `postgres://` and `postgresql://` name PostgreSQL; `sqlite:` URLs and
    /// plain file paths name SQLite. Any other scheme is refused rather
    /// than taken for a file name.
    pub fn for_url(url: &str) -> StoreResult<Self> {
        let lower = url.trim_start().to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if lower.starts_with("sqlite:") || !lower.contains("://") {
            Ok(Self::Sqlite)
        } else {
            Err(StoreError::Unavailable(
                "unsupported database URL: use postgres://, sqlite: or a file path".into(),
            ))
        }
    }
}

/// Opens the store a URL names and applies pending migrations.
pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Arc<dyn Store>> {
    match Backend::for_url(url)? {
        Backend::Postgres => {
            let store = PostgresStore::connect(url, max_connections).await?;
            store.migrate().await?;
            Ok(Arc::new(store))
        }
        Backend::Sqlite => {
            let store = SqliteStore::connect(url, max_connections).await?;
            store.migrate().await?;
            Ok(Arc::new(store))
        }
    }
}

/// The `Conflict` message for a broken uniqueness rule, by PostgreSQL's
/// constraint name; the SQLite schema reuses those names so both backends
/// say the same.
pub(crate) fn unique_conflict_message(constraint: &str) -> String {
    match constraint {
        "check_definitions_source_url" => {
            "a check definition with this source_url already exists".to_string()
        }
        "check_definitions_name_team" => {
            "a check definition with this name already exists for this owning_team".to_string()
        }
        "users_pkey" => "a user with this name already exists".to_string(),
        other => format!("duplicate value violates {other}"),
    }
}

/// Entity query of `GET /api/v1/entities`.
#[derive(Debug, Clone, Default)]
pub struct EntityQuery {
    /// OR of filters; `None` selects every entity.
    pub filters: Option<Vec<EntityFilter>>,
    /// Keep only entities that lack this top-level attribute.
    pub exclude_key: Option<String>,
}

/// Wakes up when entities or definitions change.
#[async_trait]
pub trait ChangeListener: Send {
    /// Waits for the next change. An error means the listener lost its
    /// connection; it reconnects on the next call, and changes made in
    /// between are not reported, so callers also reload now and then.
    async fn changed(&mut self) -> StoreResult<()>;
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn ping(&self) -> StoreResult<()>;
    async fn listen_changes(&self) -> StoreResult<Box<dyn ChangeListener>>;
    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>>;

    async fn entity(&self, id: &str) -> StoreResult<Option<StoredEntity>>;
    /// Entities matching the query by [`EntityFilter::matches`], ordered by id.
    async fn entities(&self, query: &EntityQuery) -> StoreResult<Vec<StoredEntity>>;
    async fn entities_by_ids(&self, ids: &[String]) -> StoreResult<Vec<StoredEntity>>;

    async fn check(&self, id: i64) -> StoreResult<Option<CheckDefinition>>;
    /// Check definitions, all or of one status, ordered by id.
    async fn checks(&self, status: Option<DefinitionStatus>) -> StoreResult<Vec<CheckDefinition>>;

    /// Every stored alert-definition node (un-merged), ordered by id.
    async fn alert_nodes(&self) -> StoreResult<Vec<AlertDefinition>>;
    /// The node and its ancestors, node first.
    async fn alert_lineage(&self, id: i64) -> StoreResult<Vec<AlertDefinition>>;

    /// Downtime groups not deleted and not yet over at `now`, by start time.
    async fn live_downtime_groups(&self, now: i64) -> StoreResult<Vec<DowntimeGroup>>;
    /// Downtimes of live groups at `now`: what the Redis mirror must hold.
    async fn live_downtimes(&self, now: i64) -> StoreResult<Vec<Downtime>>;

    async fn dashboard(&self, id: i64) -> StoreResult<Option<Dashboard>>;
    /// Every dashboard, ordered by id.
    async fn dashboards(&self) -> StoreResult<Vec<Dashboard>>;

    /// Stores a one-time token unless the same user created one after
    /// `not_after`; false when refused by that rate limit.
    async fn create_onetime_token(
        &self,
        token: &OnetimeToken,
        not_after: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn onetime_tokens(&self, user: &str) -> StoreResult<Vec<OnetimeToken>>;

    async fn user(&self, name: &str) -> StoreResult<Option<UserRecord>>;
    async fn users(&self) -> StoreResult<Vec<UserRecord>>;
    /// Creates a user; a `Conflict` if the name is taken.
    async fn create_user(&self, user: &NewUser) -> StoreResult<()>;
    /// Records a user who logs in through an OAuth provider, with the role
    /// and teams mapped from the provider. A user without a password (one
    /// created this way) is updated; a local user with a password keeps
    /// its own role and teams. Returns the user as stored.
    async fn upsert_external_user(&self, user: &NewUser) -> StoreResult<UserRecord>;
    /// Deletes a user and (by cascade) their tokens; false if unknown.
    async fn delete_user(&self, name: &str) -> StoreResult<bool>;
    async fn create_token(&self, token: &NewToken) -> StoreResult<()>;
    /// The token and its owner, for a SHA-256 token hash.
    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<(TokenRecord, UserRecord)>>;
    async fn tokens(&self, user: Option<&str>) -> StoreResult<Vec<TokenRecord>>;
    /// Revokes a token; false if it does not exist or was revoked before.
    async fn revoke_token(&self, id: Uuid) -> StoreResult<bool>;
    async fn touch_token(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()>;
    /// Keeps an OAuth login until its callback, dropping logins older than
    /// `expired_before` on the way.
    async fn put_oauth_login(
        &self,
        login: &OAuthLogin,
        expired_before: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Removes and returns an OAuth login (each `state` works once).
    async fn take_oauth_login(&self, state: &str) -> StoreResult<Option<OAuthLogin>>;
    /// The instance secret called `name`, storing `candidate` first if
    /// there is none; replicas racing to create it all get the winner's.
    async fn instance_secret(&self, name: &str, candidate: &str) -> StoreResult<String>;

    /// Sorted, distinct team names known from definitions and users.
    async fn teams(&self) -> StoreResult<Vec<String>>;
    /// Time of the latest change (including deletions) of a kind.
    async fn last_change(&self, kind: AuditKind) -> StoreResult<Option<DateTime<Utc>>>;
    /// A number that grows with every change of a kind.
    async fn change_counter(&self, kinds: &[AuditKind]) -> StoreResult<i64>;
    /// Appends alert events from the bus; an event id seen before is
    /// skipped. Returns how many were new.
    async fn append_alert_events(&self, events: &[(String, AlertEvent)]) -> StoreResult<usize>;
    /// The newest events of an alert, newest first.
    async fn alert_events(&self, alert_id: i64, limit: i64) -> StoreResult<Vec<AlertEvent>>;
    /// The event history, newest first (by time, then row id).
    async fn events(&self, query: &EventQuery) -> StoreResult<Vec<StoredEvent>>;
    /// Deletes events before `before` (epoch microseconds); returns how many.
    async fn prune_events(&self, before: i64) -> StoreResult<u64>;

    /// The fleet API's numeric id of each host entity, assigning new ids
    /// (in the order given) to those that have none yet.
    async fn fleet_server_ids(&self, entity_ids: &[String]) -> StoreResult<Vec<(String, i64)>>;
    /// The host entities behind fleet server ids, for the ids known.
    async fn fleet_entities(&self, server_ids: &[i64]) -> StoreResult<Vec<(i64, String)>>;

    // Monitors.

    async fn monitors(&self) -> StoreResult<Vec<Monitor>>;
    async fn monitor(&self, id: i64) -> StoreResult<Option<Monitor>>;
    /// Adds probe counts to their minutes (creating rows as needed).
    /// Counts of monitors deleted meanwhile are dropped.
    async fn add_monitor_minutes(&self, minutes: &[MonitorMinute]) -> StoreResult<()>;
    /// One server's minutes from `since` (epoch seconds) on, by monitor,
    /// then minute.
    async fn monitor_history(&self, server_id: i64, since: i64) -> StoreResult<Vec<MonitorMinute>>;
    /// Deletes minutes before `before` (epoch seconds); returns how many.
    async fn prune_monitor_minutes(&self, before: i64) -> StoreResult<u64>;

    /// Audit entries of one object, oldest first.
    async fn audit_trail(&self, kind: AuditKind, object_id: &str) -> StoreResult<Vec<AuditRecord>>;
}

/// A write transaction. Dropping it without `commit` rolls it back, so a
/// failed request leaves nothing half-written.
#[async_trait]
pub trait StoreTx: Send {
    async fn commit(self: Box<Self>) -> StoreResult<()>;

    /// Reads an entity and locks it until the transaction ends.
    async fn lock_entity(&mut self, id: &str) -> StoreResult<Option<StoredEntity>>;
    /// Inserts or replaces an entity; `created*` survive a replace.
    async fn put_entity(
        &mut self,
        entity: &Entity,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn delete_entity(&mut self, id: &str) -> StoreResult<bool>;

    async fn lock_check(&mut self, id: i64) -> StoreResult<Option<CheckRecord>>;
    /// Finds the check an upsert without id targets: by source URL, else by
    /// (name, owning team), both case-insensitive.
    async fn lock_check_by_natural_key(
        &mut self,
        source_url: Option<&str>,
        name: &str,
        owning_team: &str,
    ) -> StoreResult<Option<CheckRecord>>;
    async fn insert_check(
        &mut self,
        check: &NewCheckDefinition,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<CheckDefinition>;
    async fn update_check(
        &mut self,
        id: i64,
        check: &NewCheckDefinition,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<CheckDefinition>;
    async fn delete_check(&mut self, id: i64) -> StoreResult<bool>;

    /// Locks the whole alert tree against concurrent writers and returns
    /// every node, so inheritance rules can be checked consistently.
    async fn lock_alert_tree(&mut self) -> StoreResult<Vec<AlertDefinition>>;
    async fn insert_alert(
        &mut self,
        draft: &AlertNodeDraft,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<AlertDefinition>;
    async fn update_alert(&mut self, node: &AlertDefinition) -> StoreResult<()>;
    async fn delete_alert(&mut self, id: i64) -> StoreResult<bool>;
    /// Alert nodes that name this check directly.
    async fn alerts_using_check(&mut self, check_id: i64) -> StoreResult<Vec<i64>>;

    async fn insert_downtime_group(
        &mut self,
        group: &DowntimeGroup,
        spec: &DowntimeSpec,
        downtimes: &[Downtime],
    ) -> StoreResult<()>;
    /// A live (not deleted) group and its downtimes, locked.
    async fn lock_downtime_group(
        &mut self,
        id: Uuid,
    ) -> StoreResult<Option<(DowntimeGroup, Vec<Downtime>)>>;
    async fn mark_downtime_group_deleted(
        &mut self,
        id: Uuid,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;

    async fn lock_dashboard(&mut self, id: i64) -> StoreResult<Option<Dashboard>>;
    async fn insert_dashboard(
        &mut self,
        draft: &DashboardDraft,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Dashboard>;
    async fn update_dashboard(
        &mut self,
        id: i64,
        draft: &DashboardDraft,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Dashboard>;

    /// Inserts a monitor without its check definition (see
    /// [`StoreTx::update_monitor`]).
    async fn insert_monitor(
        &mut self,
        draft: &MonitorDraft,
        team: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Monitor>;
    async fn lock_monitor(&mut self, id: i64) -> StoreResult<Option<Monitor>>;
    async fn update_monitor(
        &mut self,
        id: i64,
        draft: &MonitorDraft,
        team: &str,
        check_definition_id: i64,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Monitor>;
    /// Deletes a monitor and its history.
    async fn delete_monitor(&mut self, id: i64) -> StoreResult<bool>;

    async fn append_audit(&mut self, entry: &AuditEntry) -> StoreResult<()>;
}
