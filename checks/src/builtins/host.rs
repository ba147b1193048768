//! Host metrics from the local sampler: `cpu()`, `percpu()`, `load()`,
//! `mem()`, `memswap()`, `fs()` / `fs(mount)`, `diskio()`, `network()`,
//! `processes()`, `processcount()`, `uptime()`, `sensors()`, `system()`,
//! `ports()`.
//!
//! They read the snapshot of the monitor installed with
//! [`crate::host::install`] and never collect anything themselves, so a
//! check costs a map conversion. Field names are Glances v4's.

use rhai::{Array, Dynamic, Engine, INT, Map};
use serde_json::Value;

use super::{FnResult, fail};
use crate::convert;
use crate::host;

const NOT_RUNNING: &str = "host collectors are not running in this process";

fn plugin(name: &str) -> FnResult<Dynamic> {
    let Some(monitor) = host::installed() else {
        return fail(NOT_RUNNING);
    };
    let snapshot = monitor.latest();
    match snapshot.plugin(name) {
        Some(v) => Ok(convert::to_dynamic(v)),
        None => fail(format!("host plugin {name} has no data yet")),
    }
}

fn map(name: &str) -> FnResult<Map> {
    plugin(name)?
        .try_cast::<Map>()
        .map_or_else(|| fail(format!("host plugin {name} is not a map")), Ok)
}

fn array(name: &str) -> FnResult<Array> {
    plugin(name)?
        .try_cast::<Array>()
        .map_or_else(|| fail(format!("host plugin {name} is not a list")), Ok)
}

/// `fs("/")`: the entry of one mount point.
fn fs_mount(mount: &str) -> FnResult<Map> {
    let Some(monitor) = host::installed() else {
        return fail(NOT_RUNNING);
    };
    let snapshot = monitor.latest();
    let entry = snapshot
        .plugin("fs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|e| e.get("mnt_point").and_then(Value::as_str) == Some(mount));
    match entry.and_then(Value::as_object) {
        Some(e) => Ok(convert::map_to_rhai(e)),
        None => fail(format!("no file system is mounted on {mount}")),
    }
}

/// `uptime()`: `{seconds, text}`; `text` is Glances' `"8 days, 18:39:26"`.
fn uptime() -> FnResult<Map> {
    let Some(monitor) = host::installed() else {
        return fail(NOT_RUNNING);
    };
    let snapshot = monitor.latest();
    let mut out = Map::new();
    out.insert(
        "seconds".into(),
        Dynamic::from(INT::try_from(snapshot.status.uptime).unwrap_or(INT::MAX)),
    );
    let text = snapshot
        .plugin("uptime")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    out.insert("text".into(), Dynamic::from(text));
    Ok(out)
}

pub(super) fn register(engine: &mut Engine) {
    engine
        .register_fn("cpu", || map("cpu"))
        .register_fn("percpu", || array("percpu"))
        .register_fn("load", || map("load"))
        .register_fn("mem", || map("mem"))
        .register_fn("memswap", || map("memswap"))
        .register_fn("fs", || array("fs"))
        .register_fn("fs", |m: &str| fs_mount(m))
        .register_fn("diskio", || array("diskio"))
        .register_fn("network", || array("network"))
        .register_fn("processes", || array("processlist"))
        .register_fn("processcount", || map("processcount"))
        .register_fn("uptime", uptime)
        .register_fn("sensors", || array("sensors"))
        .register_fn("system", || map("system"))
        .register_fn("ports", || array("ports"));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use chrono::Utc;
    use serde_json::json;

    use crate::host::{HistoryStore, HostMonitor, Snapshot};
    use crate::{compile, run_command};

    fn install_fixture() {
        let mut plugins = BTreeMap::new();
        plugins.insert("cpu".to_string(), json!({"total": 95.5, "user": 80.0}));
        plugins.insert("mem".to_string(), json!({"percent": 42.0, "total": 1000}));
        plugins.insert(
            "fs".to_string(),
            json!([
                {"mnt_point": "/", "percent": 71.5, "key": "mnt_point"},
                {"mnt_point": "/data", "percent": 10.0, "key": "mnt_point"}
            ]),
        );
        plugins.insert(
            "processlist".to_string(),
            json!([{"pid": 1, "name": "init", "key": "pid"}]),
        );
        plugins.insert("uptime".to_string(), json!("1 day, 0:00:05"));
        let mut snapshot = Snapshot::from_plugins(Utc::now(), plugins);
        snapshot.status.uptime = 86_405;
        crate::host::install(HostMonitor::fixed(snapshot, HistoryStore::new(10)));
    }

    fn run(src: &str) -> Result<Value, String> {
        let compiled = compile(src).map_err(|e| e.0)?;
        run_command(&compiled, &serde_json::Map::new(), Duration::from_secs(5))
            .map_err(|e| e.to_string())
    }

    use serde_json::Value;

    /// One test, because the installed monitor is process-global.
    #[test]
    fn host_builtins_read_the_installed_snapshot() {
        let err = run("cpu().total").unwrap_err();
        assert!(
            err.contains("host collectors are not running in this process"),
            "{err}"
        );
        install_fixture();
        assert_eq!(run("cpu().total > 90").unwrap(), json!(true));
        assert_eq!(run("cpu()[\"total\"] > 90").unwrap(), json!(true));
        assert_eq!(run("fs(\"/\").percent").unwrap(), json!(71.5));
        assert_eq!(run("fs().len()").unwrap(), json!(2));
        assert_eq!(run("processes()[0].name").unwrap(), json!("init"));
        assert_eq!(run("uptime().seconds").unwrap(), json!(86_405));
        assert_eq!(run("uptime().text").unwrap(), json!("1 day, 0:00:05"));
        assert_eq!(run("mem().percent").unwrap(), json!(42.0));
        let err = run("fs(\"/nope\")").unwrap_err();
        assert!(err.contains("no file system is mounted on /nope"), "{err}");
        let err = run("load()").unwrap_err();
        assert!(err.contains("load"), "{err}");
    }
}
