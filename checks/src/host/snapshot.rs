//! One complete, immutable picture of the host, made by the sampler once
//! per tick and shared by every reader.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde_json::Value;
use zmon_core::host::{HostFacts, HostStatus};

/// The stats of every plugin at one tick, with their views and limits.
///
/// Plugin values use Glances v4's shapes: a dict plugin is a JSON object, a
/// list plugin an array of objects that each carry `"key"`, and `uptime`,
/// `version` and `psutilversion` are strings.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// When the sampler finished this snapshot.
    pub taken_at: DateTime<Utc>,
    /// Counts ticks since the sampler started; readers use it to tell
    /// snapshots apart.
    pub seq: u64,
    /// Plugin name to raw stats, in Glances' load order (alphabetical).
    pub plugins: BTreeMap<String, Value>,
    /// Plugin name to views: `{field: view}` for dict plugins,
    /// `{key value: {field: view}}` for list plugins. Built on first read:
    /// most ticks nobody asks, and views cost more than the stats.
    views: OnceLock<BTreeMap<String, Value>>,
    /// Plugin name to limits (`{"cpu_user_careful": 50.0, ...}`).
    pub limits: BTreeMap<String, Value>,
    /// Facts for the host entity.
    pub facts: HostFacts,
    /// The compact status for the fleet view.
    pub status: HostStatus,
    all_json: OnceLock<Vec<u8>>,
    all_gzip: OnceLock<Vec<u8>>,
}

impl Snapshot {
    /// A snapshot of the given plugin stats, with empty views and limits.
    pub fn from_plugins(taken_at: DateTime<Utc>, plugins: BTreeMap<String, Value>) -> Self {
        Self {
            taken_at,
            plugins,
            ..Self::default()
        }
    }

    pub fn plugin_names(&self) -> impl Iterator<Item = &str> {
        self.plugins.keys().map(String::as_str)
    }

    pub fn plugin(&self, name: &str) -> Option<&Value> {
        self.plugins.get(name)
    }

    pub fn views(&self, name: &str) -> Option<&Value> {
        self.all_views().get(name)
    }

    /// Every plugin's views (`/api/4/all/views`).
    pub fn all_views(&self) -> &BTreeMap<String, Value> {
        self.views
            .get_or_init(|| super::views::all_views(&self.plugins, &self.limits))
    }

    /// Replaces the views computed from the stats, e.g. with recorded ones.
    pub fn set_views(&mut self, views: BTreeMap<String, Value>) {
        self.views = OnceLock::from(views);
    }

    pub fn limits(&self, name: &str) -> Option<&Value> {
        self.limits.get(name)
    }

    /// `{plugin: stats}` serialised once per snapshot, whoever asks first.
    pub fn all_json(&self) -> &[u8] {
        // A BTreeMap serialises as the same sorted object, without a copy
        // of every plugin's stats.
        self.all_json
            .get_or_init(|| serde_json::to_vec(&self.plugins).unwrap_or_else(|_| b"{}".to_vec()))
    }

    /// [`Self::all_json`] gzipped, once per snapshot, so that a burst of
    /// clients costs one compression.
    pub fn all_gzip(&self) -> &[u8] {
        self.all_gzip.get_or_init(|| gzip(self.all_json()))
    }
}

/// Gzips `data` at the default level.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 4),
        flate2::Compression::default(),
    );
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}
