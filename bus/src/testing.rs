//! A Redis key space of its own for one test, emptied when dropped.
//!
//! `ZMON_TEST_REDIS_URL` names the server (default `redis://127.0.0.1:6379`).

use zmon_core::KeySpace;

use crate::{BusError, RedisBus};

pub fn redis_url() -> String {
    std::env::var("ZMON_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub struct TestKeySpace {
    pub keys: KeySpace,
    pub url: String,
}

impl TestKeySpace {
    pub fn new(label: &str) -> Self {
        Self {
            keys: KeySpace::new(format!("{label}-{}:zmon", uuid::Uuid::new_v4().simple())),
            url: redis_url(),
        }
    }

    pub fn bus(&self) -> Result<RedisBus, BusError> {
        RedisBus::new(&self.url, self.keys.clone())
    }

    /// A plain connection, for tests that read or write keys directly.
    pub async fn connection(&self) -> Result<::redis::aio::MultiplexedConnection, BusError> {
        Ok(::redis::Client::open(self.url.as_str())?
            .get_multiplexed_async_connection()
            .await?)
    }
}

impl Drop for TestKeySpace {
    fn drop(&mut self) {
        let pattern = self.keys.all_pattern();
        let url = self.url.clone();
        let _ = std::thread::spawn(move || {
            if let Ok(client) = ::redis::Client::open(url)
                && let Ok(mut conn) = client.get_connection()
            {
                let keys: Vec<String> = ::redis::cmd("KEYS")
                    .arg(&pattern)
                    .query(&mut conn)
                    .unwrap_or_default();
                if !keys.is_empty() {
                    let _: Result<(), _> = ::redis::cmd("DEL").arg(keys).query(&mut conn);
                }
            }
        })
        .join();
    }
}
