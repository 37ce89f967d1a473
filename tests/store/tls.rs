//! `rediss://`: the store over TLS, trusting the server's CA from `store.tls_ca_file`, and
//! refusing a server whose certificate does not chain to it.

use std::time::Duration;

use cartgate::settings::StoreSettings;
use cartgate::store::redis::RedisConn;
use cartgate::store::{JobStore, OnExisting, RedisStore, When};
use cartgate::testkit::tls::TlsRedis;
use cartgate::testkit::unique_prefix;

use crate::conformance::queue::job;

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
