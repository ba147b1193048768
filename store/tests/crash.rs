//! SQLite keeps every committed definition when the process is killed
//! with SIGKILL in the middle of writing.
//!
//! The test re-runs its own binary as the writer: with `CHILD_ENV` set,
//! `crash_child_writer` writes check definitions in a loop and prints each
//! id once its transaction has committed; without it, it returns at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use zmon_core::check::{DefinitionStatus, NewCheckDefinition};
use zmon_store::testing::TestSqlite;
use zmon_store::{AuditAction, AuditEntry, AuditKind, SqliteStore, Store};

const CHILD_ENV: &str = "ZMON_CRASH_CHILD_DB";
const MARKER: &str = "ZMON_COMMITTED=";

/// Names are unique per writer process, as (name, team) must be.
fn definition(n: u64) -> NewCheckDefinition {
    NewCheckDefinition {
        id: None,
        name: format!("crash-{}-{n}", std::process::id()),
        description: "written before a kill -9".into(),
        technical_details: None,
        potential_analysis: None,
        potential_impact: None,
        potential_solution: None,
        owning_team: "crash".into(),
        entities: vec![],
        entities_exclude: Vec::new(),
        interval: 60,
        command: "1".into(),
        status: DefinitionStatus::Active,
        source_url: None,
    }
}

/// The writer; a no-op unless the parent test started this process.
#[tokio::test]
async fn crash_child_writer() {
    let Ok(url) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = SqliteStore::connect(&url, 2).await.unwrap();
    for n in 0.. {
        let mut tx = store.begin().await.unwrap();
        let check = tx
            .insert_check(&definition(n), "crash", Utc::now())
            .await
            .unwrap();
        let entry = AuditEntry {
            at: Utc::now(),
            actor: "crash".into(),
            kind: AuditKind::CheckDefinition,
            object_id: check.id.to_string(),
            action: AuditAction::Create,
            before: None,
            after: Some(serde_json::json!({"name": check.name})),
        };
        tx.append_audit(&entry).await.unwrap();
        tx.commit().await.unwrap();
        // Only after the commit returned: the parent may count on it.
        println!("\n{MARKER}{}", check.id);
    }
}

/// Runs the writer until it has reported `target` commits, waits
/// `linger`, kills it with SIGKILL and returns every id it reported.
fn write_then_kill(url: &str, target: usize, linger: Duration) -> Vec<i64> {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "crash_child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut ids = Vec::new();
    let parse = |line: &str| {
        line.find(MARKER)
            .map(|at| line[at + MARKER.len()..].trim().parse::<i64>().unwrap())
    };
    for line in lines.by_ref() {
        if let Some(id) = parse(&line.unwrap()) {
            ids.push(id);
            if ids.len() >= target {
                break;
            }
        }
    }
    std::thread::sleep(linger);
    // `Child::kill` is SIGKILL on Unix: no destructor, no rollback, no
    // checkpoint runs in the writer.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the writer ended by itself: {status}");
    // Whatever it printed before dying was committed too.
    for line in lines {
        let Ok(line) = line else { break };
        ids.extend(parse(&line));
    }
    ids
}

#[test]
fn sqlite_keeps_every_commit_through_kill_9() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = TestSqlite::create();
    runtime.block_on(async {
        let store = db.store().await.unwrap();
        store.pool().close().await;
    });

    let mut reported = BTreeSet::new();
    for (round, linger_ms) in [0, 3, 11].into_iter().enumerate() {
        let ids = write_then_kill(&db.url(), 40 + 20 * round, Duration::from_millis(linger_ms));
        assert!(!ids.is_empty());
        reported.extend(ids);
    }

    runtime.block_on(async {
        let store = SqliteStore::connect(&db.url(), 2).await.unwrap();
        store.integrity_check().await.unwrap();
        let stored: BTreeSet<i64> = store
            .checks(None)
            .await
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        let lost: Vec<&i64> = reported.difference(&stored).collect();
        assert!(
            lost.is_empty(),
            "committed ids lost after kill -9: {lost:?}"
        );
        // Transactions are atomic: every stored check has its audit entry.
        for id in &stored {
            let trail = store
                .audit_trail(AuditKind::CheckDefinition, &id.to_string())
                .await
                .unwrap();
            assert_eq!(trail.len(), 1, "check {id} without its audit entry");
        }
        // Ids keep growing after the crashes; none is reused.
        let mut tx = store.begin().await.unwrap();
        let next = tx
            .insert_check(&definition(u64::MAX), "after", Utc::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(stored.iter().all(|id| *id < next.id));
    });
}
