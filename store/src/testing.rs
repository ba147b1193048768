//! A database of its own for one test, removed when dropped: a PostgreSQL
//! database ([`TestDatabase`]) or an SQLite file ([`TestSqlite`]).
//!
//! `ZMON_TEST_DATABASE_URL` names a server and a role that may create
//! databases (default `postgres://postgres@127.0.0.1:5432/postgres`).

use std::path::PathBuf;

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::{PostgresStore, SqliteStore, StoreError};

pub fn admin_url() -> String {
    std::env::var("ZMON_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// Creates an empty database with a unique name.
    pub async fn create() -> Result<Self, StoreError> {
        let name = format!("zmon_test_{}", uuid::Uuid::new_v4().simple());
        let admin = admin_url();
        let mut conn = PgConnection::connect(&admin).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Ok(Self {
            url: format!("{base}/{name}"),
            name,
        })
    }

    /// A migrated store on the database.
    pub async fn store(&self) -> Result<PostgresStore, StoreError> {
        let store = PostgresStore::connect(&self.url, 4).await?;
        store.migrate().await?;
        Ok(store)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop may run inside a runtime; the clean-up gets a thread and a
        // runtime of its own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&admin_url()).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// An SQLite database in a directory of its own under the system's
/// temporary directory; the directory (with the WAL and shared-memory
/// files beside the database) is removed when dropped.
pub struct TestSqlite {
    pub dir: PathBuf,
    pub path: PathBuf,
}

impl TestSqlite {
    /// Names a database file that does not exist yet; the store creates
    /// it, and its directory, on first connect.
    pub fn create() -> Self {
        let dir = std::env::temp_dir().join(format!("zmon_test_{}", uuid::Uuid::new_v4().simple()));
        Self {
            path: dir.join("zmon.db"),
            dir,
        }
    }

    /// The `sqlite:` URL of the database.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    /// A migrated store on the database.
    pub async fn store(&self) -> Result<SqliteStore, StoreError> {
        let store = SqliteStore::connect(&self.url(), 4).await?;
        store.migrate().await?;
        Ok(store)
    }
}

impl Drop for TestSqlite {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
