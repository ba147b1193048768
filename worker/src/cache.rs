//! Compiled scripts, kept per source text: a definition's command or
//! condition is compiled once, not once per run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use zmon_checks::Compiled;

/// Scripts kept at most; beyond, the cache starts over (definitions change
/// rarely, so this only bounds memory against churn).
const CAPACITY: usize = 10_000;

type Entry = Result<Arc<Compiled>, String>;

#[derive(Default)]
pub struct ScriptCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl ScriptCache {
    pub fn get(&self, source: &str) -> Entry {
        if let Ok(entries) = self.entries.lock()
            && let Some(hit) = entries.get(source)
        {
            return hit.clone();
        }
        let compiled = zmon_checks::compile(source)
            .map(Arc::new)
            .map_err(|e| format!("the script {e}"));
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(source.to_string(), compiled.clone());
        }
        compiled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_once_and_remembers_errors() {
        let cache = ScriptCache::default();
        let a = cache.get("value > 1").expect("compiles");
        let b = cache.get("value > 1").expect("compiles");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(cache.get("value >").is_err());
        assert!(cache.get("value >").is_err());
    }
}
