//! Harnesses: how to get handles on one store under test.

use std::sync::Arc;

use cartgate::store::{JobStore, MemoryStore, RedisStore};
use cartgate::testkit::{TestRedis, unique_prefix};

/// Partitions used by the Redis harness (more than one, so cross-partition paths run).
const PARTITIONS: u16 = 4;

/// One store under test; `handle` opens another client of the same store (for Redis a
/// separate connection, as another replica would have).
pub trait Harness: Send + Sync {
    fn handle(&self) -> Arc<dyn JobStore>;
}

pub struct MemoryHarness(Arc<MemoryStore>);

impl MemoryHarness {
    pub fn new() -> Self {
        Self(Arc::new(MemoryStore::new()))
    }
}

impl Harness for MemoryHarness {
    fn handle(&self) -> Arc<dyn JobStore> {
        self.0.clone()
    }
}

pub struct RedisHarness {
    url: String,
    prefix: String,
}

impl RedisHarness {
    pub fn new() -> Self {
        Self { url: TestRedis::shared_url(), prefix: unique_prefix() }
    }
}

impl Harness for RedisHarness {
    fn handle(&self) -> Arc<dyn JobStore> {
        let conn = cartgate::store::redis::connection(&self.url).expect("redis connection");
        Arc::new(RedisStore::new(conn, &self.prefix, PARTITIONS))
    }
}
