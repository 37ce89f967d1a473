//! The one Redis connection type of the queue, the ledger and the limiter: one standalone Redis
//! through a [`ConnectionManager`] (one multiplexed, self-reconnecting connection), or a Redis
//! Cluster through redis-rs's cluster connection (one multiplexed connection per node; it reads
//! the slot map, follows `MOVED` and `ASK`, and re-reads the map after a failover). Both are an
//! [`aio::ConnectionLike`], so scripts, commands and single-slot pipelines run on either.
//! `rediss://` URLs connect over TLS (rustls): the server's certificate must chain to the
//! system's roots, or to `store.tls_ca_file` when set (a private CA).
//!
//! **Acknowledged means replicated.** Redis replicates asynchronously: a primary killed right
//! after a write can lose it when its replica is promoted. [`RedisConn::durable_ack`] runs
//! `WAIT n timeout` on the node that owns a key's slot (over the same connection the write
//! went over, which is what `WAIT` counts), with `n` = `store.min_replica_acks`, at most the
//! replicas the shard has: a shard without replicas (standalone Redis as before, or a shard
//! whose replica was just promoted) is not waited for. The replica count comes from
//! `INFO replication` on the owner, cached per slot for [`REPLICAS_TTL`].
//!
//! `WAIT` covers the writes of the connection it runs on. Known gap: when the cluster
//! connection is rebuilt (below) between a write and its `WAIT`, the `WAIT` runs on a fresh
//! connection and returns at once; that needs a failover (the rebuild's trigger) and then a
//! second failure of the surviving primary before it replicates to lose anything.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, Slot, SlotAddr};
use redis::{
    Cmd, ErrorKind, FromRedisValue, Pipeline, RedisError, RedisFuture, ServerErrorKind, TlsCertificates, Value,
};

use super::seeds::Seeds;
use super::{REDIS_TIMEOUT, store_error};
use crate::settings::StoreSettings;
use crate::store::StoreError;

/// The shortest `WAIT` (`WAIT n 0` would block for ever).
const MIN_WAIT: Duration = Duration::from_millis(10);
/// How long a shard's replica count is trusted (a failover changes it).
pub const REPLICAS_TTL: Duration = Duration::from_secs(2);

/// Retries of one cluster request (redirections, a node that went away); each waits
/// 20–300 ms, so a request gives up within about a second and a half and the caller answers 503.
const CLUSTER_RETRIES: u32 = 3;

/// A connection to the configured Redis; cheap to clone (clones share the connection).
#[derive(Clone)]
pub struct RedisConn {
    link: Link,
    acks: Arc<Acks>,
}

#[derive(Clone)]
enum Link {
    Standalone(ConnectionManager),
    Cluster(Arc<ClusterLink>),
}

/// The cluster connection, rebuilt from the seeds when it keeps pointing at a node that is
/// gone: redis-rs re-reads the slot map on `MOVED`, but a request to a dead primary only fails
/// to connect, and a map read from a node that had not yet seen the failover stays stale. A
/// fresh connection reads the map again (at most once per [`REBUILD_EVERY`]).
struct ClusterLink {
    client: ClusterClient,
    current: Mutex<(ClusterConnection, Instant)>,
    /// To say why, when no node accepts the connection.
    seeds: Seeds,
}

/// The shortest time between two rebuilds of a cluster connection.
const REBUILD_EVERY: Duration = Duration::from_secs(1);

impl ClusterLink {
    fn connection(&self) -> ClusterConnection {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).0.clone()
    }

    /// After a failed request: rebuild when the error says the map may point at a dead node.
    fn failed(&self, e: &RedisError) {
        let stale = e.is_io_error()
            || e.is_connection_refusal()
            || e.is_connection_dropped()
            || matches!(e.kind(), ErrorKind::Server(ServerErrorKind::ClusterDown | ServerErrorKind::Moved))
            // `WAIT` sent to a primary that has since become a replica: the map is old.
            || e.to_string().contains("cannot be used with replica");
        if !stale {
            return;
        }
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if current.1.elapsed() >= REBUILD_EVERY {
            tracing::info!(error = %e, "redis cluster: reading the slot map again from the seeds");
            *current = (self.client.get_pending_async_connection_with_config(cluster_config()), Instant::now());
        }
    }
}

/// What `durable_ack` waits for, and the replica counts it has seen.
struct Acks {
    min: u32,
    timeout: Duration,
    /// Slot (one entry on a standalone Redis) → (replicas of its owner, when read).
    replicas: Mutex<HashMap<Slot, (u32, Instant)>>,
}

/// Which kind of Redis a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    Standalone,
    Cluster,
}

impl RedisConn {
    /// A lazily connecting connection for the store settings (standalone or cluster). An
    /// unreachable Redis fails commands (within about a second), not this.
    pub fn open(settings: &StoreSettings) -> Result<Self, StoreError> {
        let ca = trusted_roots(settings)?;
        let link = if settings.cluster {
            let seeds = std::iter::once(settings.url.as_str()).chain(settings.cluster_seeds.iter().map(String::as_str));
            Link::Cluster(Arc::new(cluster(seeds.map(str::to_owned).collect(), ca)?))
        } else {
            Link::Standalone(standalone(&settings.url, ca)?)
        };
        let acks = Acks {
            min: settings.min_replica_acks,
            timeout: Duration::from_millis(settings.replica_ack_timeout_ms).max(MIN_WAIT),
            replicas: Mutex::new(HashMap::new()),
        };
        Ok(Self { link, acks: Arc::new(acks) })
    }

    /// A standalone connection to `url` that never waits for replicas (tests, benches).
    pub fn standalone(url: &str) -> Result<Self, StoreError> {
        let acks = Acks { min: 0, timeout: REDIS_TIMEOUT, replicas: Mutex::new(HashMap::new()) };
        Ok(Self { link: Link::Standalone(standalone(url, None)?), acks: Arc::new(acks) })
    }

    pub fn topology(&self) -> Topology {
        match self.link {
            Link::Standalone(_) => Topology::Standalone,
            Link::Cluster(_) => Topology::Cluster,
        }
    }

    /// Runs `cmd` on the primary that owns `key`'s slot (on a standalone Redis: on it).
    pub async fn on_owner<T: FromRedisValue>(&self, key: &str, cmd: Cmd) -> Result<T, StoreError> {
        match &self.link {
            Link::Standalone(c) => cmd.query_async(&mut c.clone()).await.map_err(store_error),
            Link::Cluster(c) => {
                let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(Route::with_key(
                    key.as_bytes(),
                    SlotAddr::Master,
                )));
                // A server's error reply comes back as a value: made an error again, it is
                // classified like any other (a node that became a replica during a failover
                // answers `WAIT` with an error — unavailable for now, and a reason to re-read the
                // slot map).
                let value = c.connection().route_command(cmd, route).await.and_then(Value::extract_error);
                let value = value.inspect_err(|e| c.failed(e)).map_err(store_error)?;
                redis::from_redis_value(value).map_err(|e| StoreError::Corrupt(e.to_string()))
            }
        }
    }

    /// Returns once the writes made so far on this connection to `key`'s shard have reached
    /// `store.min_replica_acks` of its replicas (see the module docs); a shard without
    /// replicas returns at once. Not reached within the timeout → `Unavailable` (503).
    pub async fn durable_ack(&self, key: &str) -> Result<(), StoreError> {
        if self.acks.min == 0 {
            return Ok(());
        }
        let replicas = self.replicas(key).await?;
        let need = self.acks.min.min(replicas);
        if need == 0 {
            return Ok(());
        }
        let timeout_ms = u64::try_from(self.acks.timeout.as_millis()).unwrap_or(u64::MAX);
        let mut wait = redis::cmd("WAIT");
        wait.arg(need).arg(timeout_ms);
        let acked: u32 = self.on_owner(key, wait).await?;
        if acked >= need {
            return Ok(());
        }
        // The replica may be gone: read the count again next time rather than keep waiting.
        self.forget(key);
        Err(StoreError::Unavailable(format!(
            "write reached {acked} of {need} replicas within {timeout_ms} ms (store.min_replica_acks)"
        )))
    }

    /// Whether the cluster serves this replica: `CLUSTER INFO` says `cluster_state:ok` and the
    /// primary owning each of `keys` (one per slot the replica uses) answers.
    pub async fn cluster_ready(&self, keys: &[&str]) -> Result<(), StoreError> {
        let info: String = match redis::cmd("CLUSTER").arg("INFO").query_async(&mut self.clone()).await {
            Ok(info) => info,
            Err(e) if let Link::Cluster(c) = &self.link => return Err(c.seeds.explain(e).await),
            Err(e) => return Err(store_error(e)),
        };
        let state = info.lines().find_map(|l| l.trim().strip_prefix("cluster_state:")).unwrap_or("unknown");
        if state != "ok" {
            return Err(StoreError::Unavailable(format!("cluster_state:{state}")));
        }
        let checks = keys.iter().map(|key| async move {
            let mut exists = redis::cmd("EXISTS");
            exists.arg(*key);
            self.on_owner::<i64>(key, exists).await.map_err(|e| (*key, e))
        });
        for check in futures::future::join_all(checks).await {
            if let Err((key, e)) = check {
                return Err(StoreError::Unavailable(format!("the slot of {key} is not served: {e}")));
            }
        }
        Ok(())
    }

    /// The replicas of the shard that owns `key`, cached for [`REPLICAS_TTL`].
    async fn replicas(&self, key: &str) -> Result<u32, StoreError> {
        let slot = self.slot(key);
        if let Some(&(n, at)) = self.cache().get(&slot)
            && at.elapsed() < REPLICAS_TTL
        {
            return Ok(n);
        }
        let mut info = redis::cmd("INFO");
        info.arg("replication");
        let text: String = self.on_owner(key, info).await?;
        let n = connected_replicas(&text);
        self.cache().insert(slot, (n, Instant::now()));
        Ok(n)
    }

    fn forget(&self, key: &str) {
        let slot = self.slot(key);
        self.cache().remove(&slot);
    }

    fn slot(&self, key: &str) -> Slot {
        match self.link {
            Link::Standalone(_) => Slot::for_key(""),
            Link::Cluster(_) => Slot::for_key(key),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<Slot, (u32, Instant)>> {
        self.acks.replicas.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match &mut self.link {
            Link::Standalone(c) => c.req_packed_command(cmd),
            Link::Cluster(c) => Box::pin(async move {
                let result = c.connection().req_packed_command(cmd).await;
                result.inspect_err(|e| c.failed(e))
            }),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match &mut self.link {
            Link::Standalone(c) => c.req_packed_commands(pipeline, offset, count),
            Link::Cluster(c) => Box::pin(async move {
                let result = c.connection().req_packed_commands(pipeline, offset, count).await;
                result.inspect_err(|e| c.failed(e))
            }),
        }
    }

    fn get_db(&self) -> i64 {
        match &self.link {
            Link::Standalone(c) => c.get_db(),
            Link::Cluster(_) => 0,
        }
    }
}

/// The certificate authorities a `rediss://` server must chain to: `store.tls_ca_file` when set
/// (`None`: the system's roots, which redis-rs loads itself).
fn trusted_roots(settings: &StoreSettings) -> Result<Option<TlsCertificates>, StoreError> {
    let Some(path) = &settings.tls_ca_file else { return Ok(None) };
    let pem =
        std::fs::read(path).map_err(|e| StoreError::Config(format!("store.tls_ca_file {}: {e}", path.display())))?;
    Ok(Some(TlsCertificates { client_tls: None, root_cert: Some(pem) }))
}

/// Opens a lazily connecting, self-reconnecting multiplexed connection that fails fast.
fn standalone(url: &str, ca: Option<TlsCertificates>) -> Result<ConnectionManager, StoreError> {
    let client = match ca {
        Some(certs) => redis::Client::build_with_tls(url, certs),
        None => redis::Client::open(url),
    };
    let client = client.map_err(|e| StoreError::Config(e.to_string()))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(REDIS_TIMEOUT))
        .set_response_timeout(Some(REDIS_TIMEOUT))
        // One attempt per command: a down Redis must answer "unavailable" within the timeout,
        // not after a series of reconnect attempts; the next command tries again.
        .set_number_of_retries(0);
    ConnectionManager::new_lazy_with_config(client, config).map_err(|e| StoreError::Config(e.to_string()))
}

/// A cluster connection from seed URLs; it connects in the background.
fn cluster(seeds: Vec<String>, ca: Option<TlsCertificates>) -> Result<ClusterLink, StoreError> {
    let mut builder = ClusterClientBuilder::new(seeds.clone());
    if let Some(certs) = ca.clone() {
        builder = builder.certs(certs);
    }
    let client = builder
        .retries(CLUSTER_RETRIES)
        .min_retry_wait(20)
        .max_retry_wait(300)
        .overall_response_timeout(Some(REDIS_TIMEOUT * 3))
        .build()
        .map_err(|e| StoreError::Config(format!("store.cluster seeds: {e}")))?;
    let conn = client.get_pending_async_connection_with_config(cluster_config());
    Ok(ClusterLink { client, current: Mutex::new((conn, Instant::now())), seeds: Seeds::new(seeds, ca) })
}

fn cluster_config() -> ClusterConfig {
    ClusterConfig::new().set_connection_timeout(REDIS_TIMEOUT).set_response_timeout(REDIS_TIMEOUT)
}

/// `connected_slaves:N` of an `INFO replication` answer (0 when absent).
fn connected_replicas(info: &str) -> u32 {
    info.lines().find_map(|l| l.trim().strip_prefix("connected_slaves:")).and_then(|n| n.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_count_is_read_from_info_replication() {
        let info = "# Replication\r\nrole:master\r\nconnected_slaves:2\r\nslave0:ip=…\r\n";
        assert_eq!(connected_replicas(info), 2);
        assert_eq!(connected_replicas("role:master\r\n"), 0);
    }
}
