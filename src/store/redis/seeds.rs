//! Why a Redis Cluster cannot be reached, in words an operator can act on.
//!
//! redis-rs's cluster connection connects in the background and keeps the reason to itself:
//! when it holds no usable connection, requests fail with "No connections found", whatever the
//! cause (redis-rs/redis-rs#1004, still open). So when readiness meets that error, it connects
//! the way the cluster client does (same URL, same credentials, same trusted CAs) and adds the
//! first refusal to the error:
//!
//! 1. each seed: a certificate from a CA `store.tls_ca_file` does not hold, a `redis://` URL
//!    for nodes that speak only TLS, nothing listening;
//! 2. when every seed answers, each primary at the `ip:port` its `CLUSTER SLOTS` gives, which is
//!    what the client connects to next: a certificate that names the nodes' host names but not
//!    their IP addresses passes at the seed (`rediss://redis-0.redis:6379`) and fails here
//!    (`NotValidForName`).
//!
//! Only `host:port` is named: a URL can hold a password.

use std::collections::BTreeSet;
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, ErrorKind, RedisError, TlsCertificates, Value};

use super::store_error;
use crate::store::StoreError;

/// How long one node may take to answer a probe (two rounds fit in `/readyz`'s one second
/// when the refusal is quick, as a TLS or connection refusal is).
const PROBE_TIMEOUT: Duration = Duration::from_millis(400);

/// The seed URLs of a cluster connection and the CAs its TLS connections trust.
pub(super) struct Seeds {
    urls: Vec<String>,
    ca: Option<TlsCertificates>,
}

impl Seeds {
    pub(super) fn new(urls: Vec<String>, ca: Option<TlsCertificates>) -> Self {
        Self { urls, ca }
    }

    /// `e` as unavailable; when it says the client holds no connection, with the reason.
    pub(super) async fn explain(&self, e: RedisError) -> StoreError {
        if no_connection(&e)
            && let Some(why) = self.why_unreachable().await
        {
            return StoreError::Unavailable(format!("{e}; {why}"));
        }
        store_error(e)
    }

    /// The first refusal, of a seed or else of a primary a seed names; `None` when every one
    /// answers a `PING`, so the cause is elsewhere.
    async fn why_unreachable(&self) -> Option<String> {
        let mut seeds = Vec::new();
        for url in &self.urls {
            let client = match &self.ca {
                Some(certs) => redis::Client::build_with_tls(url.as_str(), certs.clone()),
                None => redis::Client::open(url.as_str()),
            };
            match client {
                Ok(client) => seeds.push(client.get_connection_info().clone()),
                Err(e) => return Some(format!("a seed URL: {e}")),
            }
        }
        let probes = futures::future::join_all(seeds.iter().map(|seed| probe(seed, "seed"))).await;
        let mut answered = Vec::new();
        for probe in probes {
            match probe {
                Ok(conn) => answered.push(conn),
                Err(why) => return Some(why),
            }
        }
        let (seed, mut conn) = seeds.first().zip(answered.into_iter().next())?;
        let slots: Vec<Vec<Value>> = redis::cmd("CLUSTER").arg("SLOTS").query_async(&mut conn).await.ok()?;
        let primaries: BTreeSet<(String, u16)> = slots.into_iter().filter_map(primary).collect();
        let nodes: Vec<ConnectionInfo> = primaries.into_iter().map(|(ip, port)| at(seed, ip, port)).collect();
        let probes = futures::future::join_all(nodes.iter().map(|node| probe(node, "node"))).await;
        probes.into_iter().find_map(Result::err)
    }
}

/// Connects and `PING`s; the connection, or why not.
async fn probe(info: &ConnectionInfo, what: &str) -> Result<MultiplexedConnection, String> {
    let addr = info.addr();
    let over = if matches!(addr, ConnectionAddr::TcpTls { .. }) { "over TLS" } else { "in plain text" };
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(PROBE_TIMEOUT))
        .set_response_timeout(Some(PROBE_TIMEOUT));
    let ping = async {
        let client = redis::Client::open(info.clone())?;
        let mut conn = client.get_multiplexed_async_connection_with_config(&config).await?;
        conn.req_packed_command(&redis::cmd("PING")).await.map(|_| conn)
    };
    let error = match tokio::time::timeout(PROBE_TIMEOUT * 2, ping).await {
        Ok(Ok(conn)) => return Ok(conn),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {} ms", (PROBE_TIMEOUT * 2).as_millis()),
    };
    Err(format!("{what} {addr} refuses a connection {over}: {error}"))
}

/// The primary's `(ip, port)` of one `CLUSTER SLOTS` range: `[start, end, [ip, port, id, …], …]`.
fn primary(range: Vec<Value>) -> Option<(String, u16)> {
    let node: Vec<Value> = redis::from_redis_value(range.into_iter().nth(2)?).ok()?;
    let mut node = node.into_iter();
    Some((redis::from_redis_value(node.next()?).ok()?, redis::from_redis_value(node.next()?).ok()?))
}

/// `seed`'s connection settings (TLS, credentials) for the node at `ip:port`.
fn at(seed: &ConnectionInfo, ip: String, port: u16) -> ConnectionInfo {
    let addr = match seed.addr() {
        ConnectionAddr::TcpTls { insecure, tls_params, .. } => {
            ConnectionAddr::TcpTls { host: ip, port, insecure: *insecure, tls_params: tls_params.clone() }
        }
        _ => ConnectionAddr::Tcp(ip, port),
    };
    seed.clone().set_addr(addr)
}

/// Whether `e` says the cluster client holds no connection to use (the case seeds explain).
fn no_connection(e: &RedisError) -> bool {
    e.kind() == ErrorKind::ClusterConnectionNotFound || e.is_io_error() || e.is_connection_refusal()
}
