//! `[store]`: where the queue, the ledger and the limiter live — the embedded store, one Redis,
//! or a Redis Cluster — and when a write counts as acknowledged there.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// `memory://` (embedded, one instance only) or `redis://host:port/db`, `rediss://…`.
    pub url: String,
    /// Prefix of every key, so several deployments can share one Redis.
    pub prefix: String,
    /// Number of queue partitions (each a Redis Cluster hash tag).
    pub partitions: u16,
    /// `url` (and `cluster_seeds`) are seed nodes of a Redis Cluster, not one Redis.
    #[serde(default)]
    pub cluster: bool,
    /// More seed nodes of the cluster (`redis://h2:6379`, …), tried after `url`.
    #[serde(default)]
    pub cluster_seeds: Vec<String>,
    /// Replicas a write must reach before it is acknowledged (`WAIT`), where the shard has
    /// replicas (at most as many as it has); 0 turns the wait off.
    #[serde(default = "default_min_replica_acks")]
    pub min_replica_acks: u32,
    /// How long an acknowledgement waits for those replicas before the request fails (503).
    #[serde(default = "default_replica_ack_timeout_ms")]
    pub replica_ack_timeout_ms: u64,
    /// `rediss://` only: a PEM file of the certificate authorities the server's certificate must
    /// chain to, instead of the system's roots (a private CA, as managed Redis services use).
    #[serde(default)]
    pub tls_ca_file: Option<std::path::PathBuf>,
}

impl Default for StoreSettings {
    /// The compiled-in defaults (`config/default.toml`): the memory store.
    fn default() -> Self {
        Self {
            url: "memory://".into(),
            prefix: "cartgate".into(),
            partitions: 8,
            cluster: false,
            cluster_seeds: Vec::new(),
            min_replica_acks: default_min_replica_acks(),
            replica_ack_timeout_ms: default_replica_ack_timeout_ms(),
            tls_ca_file: None,
        }
    }
}

fn default_min_replica_acks() -> u32 {
    1
}

fn default_replica_ack_timeout_ms() -> u64 {
    200
}

#[cfg(test)]
mod tests {
    use crate::settings::Settings;

    fn problems(toml: &str) -> String {
        Settings::from_toml(toml).err().map(|e| format!("{e:?}")).unwrap_or_default()
    }

    #[test]
    fn cluster_keys_have_their_defaults_and_are_checked() {
        let store = Settings::from_toml("").unwrap().store;
        assert!(!store.cluster && store.cluster_seeds.is_empty());
        assert_eq!((store.min_replica_acks, store.replica_ack_timeout_ms), (1, 200));
        let cluster = "[store]\nurl = \"redis://h1:6379\"\ncluster = true\ncluster_seeds = [\"redis://h2:6379\"]";
        assert!(Settings::from_toml(cluster).unwrap().store.cluster);
        assert!(problems("[store]\ncluster = true").contains("store.cluster"));
        let bad_seed = "[store]\nurl = \"redis://h1:6379\"\ncluster = true\ncluster_seeds = [\"h2:6379\"]";
        assert!(problems(bad_seed).contains("store.cluster_seeds"));
        let mixed = "[store]\nurl = \"rediss://h1:6379\"\ncluster = true\ncluster_seeds = [\"redis://h2:6379\"]";
        assert!(problems(mixed).contains("same scheme"), "{}", problems(mixed));
    }

    #[test]
    fn a_ca_file_needs_a_tls_url() {
        let plain = "[store]\nurl = \"redis://h1:6379\"\ntls_ca_file = \"/etc/ca.pem\"";
        assert!(problems(plain).contains("store.tls_ca_file"));
        let tls = "[store]\nurl = \"rediss://h1:6379\"\ntls_ca_file = \"/etc/ca.pem\"";
        assert!(problems(tls).is_empty(), "{}", problems(tls));
    }
}
