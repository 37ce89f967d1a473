//! The OAuth store on both stores: a Connect's state is taken once, a refresh lease is held by
//! one holder and released only by it, and connections are written by compare-and-set.

use std::sync::Arc;
use std::time::Duration;

use cartgate::ledger::kv::Conflict;
use cartgate::ledger::{ConnectionStatus, Kv, Ledger, PendingConnect, StoredConnection};

use super::{cluster_kv, redis_kv};

both_stores!(
    a_state_is_taken_once_and_not_after_it_expires,
    one_holder_has_the_lease_until_it_releases_it_or_it_expires,
    a_connection_is_replaced_only_over_the_version_it_was_read_at,
);

async fn a_state_is_taken_once_and_not_after_it_expires(kv: Arc<dyn Kv>) {
    let oauth = Ledger::new(kv).oauth;
    let pending = PendingConnect { merchant: "acme".into(), cart: "acme-tg".into() };
    assert!(oauth.remember_state("s1", &pending, 60_000).await.unwrap());
    assert!(!oauth.remember_state("s1", &pending, 60_000).await.unwrap(), "a state is never issued twice");
    let (a, b) = tokio::join!(oauth.take_state("s1"), oauth.take_state("s1"));
    let taken: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(taken, std::slice::from_ref(&pending), "of two callbacks, one gets the state");
    assert_eq!(oauth.take_state("s1").await.unwrap(), None);
    assert_eq!(oauth.take_state("never").await.unwrap(), None);
    assert!(oauth.remember_state("s2", &pending, 50).await.unwrap());
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(oauth.take_state("s2").await.unwrap(), None, "expired");
}

async fn one_holder_has_the_lease_until_it_releases_it_or_it_expires(kv: Arc<dyn Kv>) {
    let oauth = Ledger::new(kv).oauth;
    assert!(oauth.lease("c", "one", 60_000).await.unwrap());
    assert!(!oauth.lease("c", "two", 60_000).await.unwrap());
    assert!(oauth.leased("c").await.unwrap());
    assert!(!oauth.release("c", "two").await.unwrap(), "only the holder releases");
    assert!(oauth.release("c", "one").await.unwrap());
    assert!(!oauth.leased("c").await.unwrap());
    assert!(oauth.lease("c", "two", 50).await.unwrap());
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert!(!oauth.leased("c").await.unwrap(), "expired");
    assert!(oauth.lease("c", "three", 60_000).await.unwrap(), "free again after the expiry");
    assert!(!oauth.release("c", "two").await.unwrap(), "an expired holder cannot release the next one's lease");
}

async fn a_connection_is_replaced_only_over_the_version_it_was_read_at(kv: Arc<dyn Kv>) {
    let oauth = Ledger::new(kv).oauth;
    let conn = StoredConnection {
        status: ConnectionStatus::Connected,
        merchant: "acme".into(),
        access_token: Some("v1.k.n.a".into()),
        refresh_token: Some("v1.k.n.r".into()),
        obtained_at_ms: 1,
        expires_at_ms: 2,
        reason: None,
        since_ms: None,
    };
    let v1 = oauth.save("c", None, &conn).await.unwrap().unwrap();
    assert_eq!(oauth.save("c", None, &conn).await.unwrap(), Err(Conflict));
    let v2 = oauth.save("c", Some(v1), &StoredConnection { expires_at_ms: 3, ..conn.clone() }).await.unwrap().unwrap();
    assert_eq!(oauth.save("c", Some(v1), &conn).await.unwrap(), Err(Conflict), "a stale refresh loses");
    let (version, stored) = oauth.load("c").await.unwrap().unwrap();
    assert_eq!((version, stored.expires_at_ms), (v2, 3));
    assert_eq!(oauth.version("c").await.unwrap(), Some(v2));
    assert_eq!(oauth.load("other").await.unwrap(), None);
}
