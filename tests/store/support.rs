//! Harnesses: how to get handles on one store under test.

use std::sync::Arc;

use cartgate::settings::StoreSettings;
use cartgate::store::redis::RedisConn;
use cartgate::store::{JobStore, MemoryStore, RedisStore};
use cartgate::testkit::{TestCluster, TestRedis, unique_prefix};

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

/// The same store on a Redis Cluster (3 primaries + 3 replicas, shared by the test binary),
/// acknowledging writes once a replica has them (`min_replica_acks = 1`).
pub struct ClusterHarness {
    settings: StoreSettings,
}

/// Partitions on the cluster: enough that they land on every primary.
pub const CLUSTER_PARTITIONS: u16 = 8;

impl ClusterHarness {
    pub fn new() -> Self {
        Self { settings: cluster_settings(&TestCluster::shared_url(), &unique_prefix()) }
    }
}

/// Store settings for a cluster seeded at `url`.
pub fn cluster_settings(url: &str, prefix: &str) -> StoreSettings {
    StoreSettings {
        url: url.to_owned(),
        prefix: prefix.to_owned(),
        partitions: CLUSTER_PARTITIONS,
        cluster: true,
        min_replica_acks: 1,
        // Generous: two busy cores can delay a replica's ack well past the production 200 ms.
        replica_ack_timeout_ms: 2000,
        ..StoreSettings::default()
    }
}

impl Harness for ClusterHarness {
    fn handle(&self) -> Arc<dyn JobStore> {
        let conn = RedisConn::open(&self.settings).expect("cluster connection");
        Arc::new(RedisStore::new(conn, &self.settings.prefix, CLUSTER_PARTITIONS))
    }
}
