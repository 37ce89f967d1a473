//! Why a Redis Cluster cannot be reached, in words an operator can act on.
//!
//! redis-rs's cluster connection connects in the background and keeps the reason to itself:
//! when no seed accepts it, requests fail with "No connections found", whatever the cause — a
//! certificate from a CA `store.tls_ca_file` does not hold, a `redis://` URL for nodes that
//! speak only TLS, nothing listening (redis-rs/redis-rs#1004, still open). So when readiness
//! meets that error, it connects to each seed itself, the way the cluster client does (same
//! URL, same trusted CAs), and adds the first seed's refusal to the error. Only the seed's
//! `host:port` is named: a URL can hold a password.

use std::time::Duration;

use redis::aio::ConnectionLike;
use redis::{AsyncConnectionConfig, ErrorKind, RedisError, TlsCertificates};

/// How long one seed may take to answer the probe: within `/readyz`'s one second budget.
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

    /// The first seed's reason to refuse a connection and a `PING` (all seeds tried at once);
    /// `None` when every seed answers, so the cause is elsewhere.
    pub(super) async fn why_unreachable(&self) -> Option<String> {
        let probes = self.urls.iter().map(|url| self.probe(url));
        futures::future::join_all(probes).await.into_iter().find_map(Result::err)
    }

    async fn probe(&self, url: &str) -> Result<(), String> {
        let client = match &self.ca {
            Some(certs) => redis::Client::build_with_tls(url, certs.clone()),
            None => redis::Client::open(url),
        };
        let client = client.map_err(|e| format!("seed URL: {e}"))?;
        let addr = client.get_connection_info().addr();
        let over = if matches!(addr, redis::ConnectionAddr::TcpTls { .. }) { "over TLS" } else { "in plain text" };
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(PROBE_TIMEOUT))
            .set_response_timeout(Some(PROBE_TIMEOUT));
        let ping = async {
            let mut conn = client.get_multiplexed_async_connection_with_config(&config).await?;
            conn.req_packed_command(&redis::cmd("PING")).await.map(drop)
        };
        let answer = tokio::time::timeout(PROBE_TIMEOUT * 2, ping).await;
        let error = match answer {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {} ms", (PROBE_TIMEOUT * 2).as_millis()),
        };
        Err(format!("seed {addr} refuses a connection {over}: {error}"))
    }
}

/// Whether `e` says the cluster client holds no connection to use (the case seeds explain).
pub(super) fn no_connection(e: &RedisError) -> bool {
    e.kind() == ErrorKind::ClusterConnectionNotFound || e.is_io_error() || e.is_connection_refusal()
}
