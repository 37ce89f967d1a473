//! Console sessions on every store: found only by their digest while live, the idle expiry
//! moved forward by use, ended for everyone at sign-out, and expired ones swept.

use std::sync::Arc;

use cartgate::domain::MerchantId;
use cartgate::ledger::Kv;
use cartgate::ledger::sessions::{IDLE_MS, SessionOwner, SessionRecord, Sessions};

use super::{cluster_kv, redis_kv};

both_stores!(
    a_session_lives_until_its_idle_expiry_and_use_moves_it,
    sign_out_ends_a_session_and_expired_ones_are_swept,
);

const T0: i64 = 1_800_000_000_000;

fn record(expires_at: i64) -> SessionRecord {
    let owner = SessionOwner::Merchant { merchant: MerchantId::parse("acme").unwrap(), token_id: "t1".into() };
    SessionRecord { owner, csrf: "csrf-1".into(), expires_at }
}

async fn a_session_lives_until_its_idle_expiry_and_use_moves_it(kv: Arc<dyn Kv>) {
    let sessions = Sessions::new(kv);
    assert!(sessions.create("d1", &record(T0 + IDLE_MS)).await.unwrap());
    assert!(!sessions.create("d1", &record(T0 + IDLE_MS)).await.unwrap(), "a digest is taken once");
    let live = sessions.get("d1", T0 + 1000).await.unwrap().expect("live");
    assert_eq!(live.record, record(T0 + IDLE_MS));
    assert!(sessions.get("other", T0).await.unwrap().is_none());

    // Used within the first minute: not written again. Later: the expiry moves.
    sessions.touch("d1", &live, T0 + 30_000).await.unwrap();
    assert_eq!(sessions.get("d1", T0).await.unwrap().unwrap().record.expires_at, T0 + IDLE_MS);
    sessions.touch("d1", &live, T0 + 3_600_000).await.unwrap();
    let moved = sessions.get("d1", T0).await.unwrap().unwrap();
    assert_eq!(moved.record.expires_at, T0 + 3_600_000 + IDLE_MS);
    // A refresh over a stale read loses quietly (the newer one stands).
    sessions.touch("d1", &live, T0 + 7_200_000).await.unwrap();
    assert_eq!(sessions.get("d1", T0).await.unwrap().unwrap().record.expires_at, T0 + 3_600_000 + IDLE_MS);

    assert!(sessions.get("d1", T0 + 3_600_000 + IDLE_MS).await.unwrap().is_none(), "idle 12 h: over");
    assert!(sessions.get("d1", T0).await.unwrap().is_none(), "and removed");
}

async fn sign_out_ends_a_session_and_expired_ones_are_swept(kv: Arc<dyn Kv>) {
    let sessions = Sessions::new(kv);
    for (digest, expires_at) in [("old-1", T0 - 2), ("old-2", T0 - 1), ("live", T0 + IDLE_MS), ("out", T0 + IDLE_MS)] {
        assert!(sessions.create(digest, &record(expires_at)).await.unwrap());
    }
    sessions.end("out").await.unwrap();
    sessions.end("out").await.unwrap();
    assert!(sessions.get("out", T0).await.unwrap().is_none(), "signed out");
    assert_eq!(sessions.sweep(T0).await.unwrap(), 2);
    assert_eq!(sessions.sweep(T0).await.unwrap(), 0);
    assert!(sessions.get("live", T0).await.unwrap().is_some());
}
