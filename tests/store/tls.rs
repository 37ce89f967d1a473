//! `rediss://`: the store over TLS, trusting the server's CA from `store.tls_ca_file`, and
//! refusing a server whose certificate does not chain to it — on a standalone Redis and on a
//! Redis Cluster that speaks only TLS (clients, cluster bus and replication), connected to the
//! way `serve` connects ([`Store::connect`] from the store settings).

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use cartgate::domain::{CartId, Destination, MerchantId, NewOrder, Order};
use cartgate::ledger::Ledger;
use cartgate::ledger::redis_kv::RedisKv;
use cartgate::settings::StoreSettings;
use cartgate::store::redis::RedisConn;
use cartgate::store::{JobStore, OnExisting, RedisStore, Store, When};
use cartgate::testkit::tls::{LOOPBACK_NAMES, TlsRedis};
use cartgate::testkit::{TestCluster, unique_prefix};

use crate::conformance::queue::job;
use crate::support::cluster_settings;

fn store(url: String, ca: Option<std::path::PathBuf>) -> RedisStore {
    let settings = StoreSettings { url, tls_ca_file: ca, prefix: unique_prefix(), ..StoreSettings::default() };
    RedisStore::new(RedisConn::open(&settings).expect("a connection (it connects lazily)"), &settings.prefix, 2)
}

#[tokio::test]
async fn the_store_works_over_tls_and_refuses_a_certificate_it_cannot_trust() {
    let redis = TlsRedis::start().expect("a TLS redis-server (openssl and redis-server installed)");

    let trusted = store(redis.url(), Some(redis.ca_file()));
    trusted.enqueue(&job(1), When::Now, OnExisting::Keep).await.expect("enqueued over TLS");
    let claimed = trusted.claim(10, Duration::from_secs(30)).await.expect("claimed over TLS");
    assert_eq!(claimed.jobs.len(), 1, "the job enqueued over TLS is claimed over TLS");

    let untrusted = store(redis.url(), Some(redis.other_ca_file()));
    let refused = untrusted.enqueue(&job(2), When::Now, OnExisting::Keep).await;
    assert!(refused.is_err(), "a certificate signed by another CA must be refused: {refused:?}");

    let plain_to_tls = store(redis.url().replacen("rediss://", "redis://", 1), None);
    assert!(plain_to_tls.enqueue(&job(3), When::Now, OnExisting::Keep).await.is_err(), "no plain text on the TLS port");

    let missing =
        StoreSettings { url: redis.url(), tls_ca_file: Some("/nonexistent/ca.pem".into()), ..StoreSettings::default() };
    let error = RedisConn::open(&missing).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("store.tls_ca_file"), "an unreadable CA file is named: {error}");
}

/// One TLS-only cluster (3 primaries + 3 replicas) for the tests below: start-up costs seconds.
async fn tls_cluster() -> &'static TestCluster {
    static CLUSTER: OnceLock<TestCluster> = OnceLock::new();
    let start = || CLUSTER.get_or_init(|| TestCluster::start_tls(LOOPBACK_NAMES).expect("a TLS Redis Cluster"));
    tokio::task::spawn_blocking(start).await.unwrap()
}

/// The settings `serve` would read: `store.cluster`, one `rediss://` seed, `store.tls_ca_file`,
/// writes acknowledged once a replica has them (so `WAIT` runs over TLS too).
fn tls_cluster_settings(cluster: &TestCluster, ca: PathBuf) -> StoreSettings {
    StoreSettings { tls_ca_file: Some(ca), ..cluster_settings(&cluster.seed_url(), &unique_prefix()) }
}

fn order(merchant: &str, id: u64) -> Order {
    let new = NewOrder {
        cart: CartId::parse(&format!("{merchant}-tg")).unwrap(),
        cart_order_id: id,
        order_number: format!("SO{id}"),
        merchant: MerchantId::parse(merchant).unwrap(),
        destination: Destination::default(),
        lines: vec![],
        ship_method: None,
    };
    Order::new(new, chrono::Utc::now(), "imported")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_the_ledger_and_readiness_work_on_a_tls_cluster() {
    let cluster = tls_cluster().await;
    let certs = cluster.certificates().expect("a TLS cluster");
    let settings = tls_cluster_settings(cluster, certs.ca_file());
    assert!(settings.url.starts_with("rediss://"), "{}", settings.url);
    let store = Store::connect(&settings).expect("the store (it connects lazily)");

    // What `/readyz` asks on a cluster: `cluster_state:ok`, every partition's primary answers.
    store.ping().await.expect("the TLS cluster is ready");

    // The partitions' slots are spread over the three primaries: the client reaches nodes it
    // only learned of from `CLUSTER SLOTS` (as `127.0.0.1:<tls port>`), over TLS.
    let jobs = store.jobs();
    for n in 0..24 {
        jobs.enqueue(&job(n), When::Now, OnExisting::Keep).await.expect("enqueued on the TLS cluster");
    }
    let claimed = jobs.claim(100, Duration::from_secs(30)).await.expect("claimed on the TLS cluster");
    assert_eq!(claimed.jobs.len(), 24, "every job enqueued is claimed");
    let leases: Vec<_> = claimed.jobs.into_iter().map(|j| j.lease).collect();
    assert!(jobs.ack_many(&leases).await.iter().all(Result::is_ok), "every claim is acked");
    let depths = jobs.depths().await.expect("depths");
    assert_eq!((depths.due, depths.inflight), (0, 0), "nothing left after the acks");

    // The ledger over the same connection, as `serve` wires it; merchants on several slots.
    let conn = store.redis().expect("a Redis store");
    let ledger = Ledger::new(Arc::new(RedisKv::new(conn, &settings.prefix)));
    for merchant in ["acme", "beta", "gamma", "delta"] {
        assert!(ledger.orders.create(&order(merchant, 7)).await.expect("written over TLS"));
        let cart = CartId::parse(&format!("{merchant}-tg")).unwrap();
        let read = ledger.orders.get(&MerchantId::parse(merchant).unwrap(), &cart, 7).await.expect("read over TLS");
        assert_eq!(read.map(|o| o.order_number), Some("SO7".to_owned()), "{merchant}'s order reads back");
    }

    // A merchant's slot moved to another primary (the keys go over the TLS cluster bus): the
    // client's slot map is stale, the old owner answers `MOVED 127.0.0.1:<tls port>`, and the
    // client follows it over TLS, checking the certificate against that IP address.
    let slot = cluster.slot_of("{m:acme}").unwrap();
    let from = cluster.owner_of_slot(slot).unwrap().port;
    let nodes = cluster.nodes().unwrap();
    let to = nodes.iter().find(|n| n.primary && !n.failed && n.port != from).expect("another primary").port;
    let (_, _, moved_before) = cluster.redirections(from).unwrap();
    tokio::task::spawn_blocking(move || cluster.migrate_slot(slot, to)).await.unwrap().expect("slot moved over TLS");
    let cart = CartId::parse("acme-tg").unwrap();
    let read = ledger.orders.get(&MerchantId::parse("acme").unwrap(), &cart, 7).await.expect("read after the move");
    assert_eq!(read.map(|o| o.order_number), Some("SO7".to_owned()), "the moved order reads back from its new owner");
    let (_, _, moved_after) = cluster.redirections(from).unwrap();
    assert!(moved_after > moved_before, "the old owner answered MOVED ({moved_before} → {moved_after})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_cluster_whose_certificate_another_ca_signed_is_refused_naming_tls() {
    let cluster = tls_cluster().await;
    let certs = cluster.certificates().expect("a TLS cluster");
    let store = Store::connect(&tls_cluster_settings(cluster, certs.other_ca_file())).expect("lazy");
    let error = store.ping().await.expect_err("a certificate from another CA must be refused").to_string();
    assert!(error.contains("over TLS") && error.contains("UnknownIssuer"), "the refusal names TLS: {error}");

    let mut plain = tls_cluster_settings(cluster, certs.ca_file());
    plain.url = plain.url.replacen("rediss://", "redis://", 1);
    plain.tls_ca_file = None;
    let store = Store::connect(&plain).expect("lazy");
    let error = store.ping().await.expect_err("no plain text anywhere on a TLS-only cluster").to_string();
    assert!(error.contains("in plain text"), "the refusal says the client did not use TLS: {error}");
}

/// The cluster client reaches nodes at the IP addresses `CLUSTER SLOTS` gives, and checks each
/// node's certificate against that address: a certificate that names only a host name passes
/// at the seed (`rediss://localhost`) and fails at every node, and readiness says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_cluster_whose_certificate_names_no_ip_address_is_refused_naming_the_node() {
    let cluster = tokio::task::spawn_blocking(|| TestCluster::start_tls("DNS:localhost")).await.unwrap();
    let cluster = cluster.expect("a TLS Redis Cluster whose certificate names only localhost");
    let certs = cluster.certificates().expect("a TLS cluster");
    let mut settings = tls_cluster_settings(&cluster, certs.ca_file());
    settings.url = settings.url.replacen("127.0.0.1", "localhost", 1);
    let store = Store::connect(&settings).expect("lazy");
    let error = store.ping().await.expect_err("nodes at 127.0.0.1 must be refused").to_string();
    assert!(error.contains("node 127.0.0.1:") && error.contains("not valid for name"), "{error}");
    tokio::task::spawn_blocking(move || drop(cluster)).await.unwrap();
}
