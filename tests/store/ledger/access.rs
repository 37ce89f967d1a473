//! The admin-access stores on both stores: merchant tokens (by digest) and the capped audit log.

use std::sync::Arc;

use cartgate::domain::MerchantId;
use cartgate::ledger::{AuditEntry, Kv, Ledger, TokenOwner, TokenRecord};

use super::{cluster_kv, redis_kv};

both_stores!(
    a_token_is_found_by_its_digest_listed_without_it_and_gone_once_revoked,
    the_audit_log_is_newest_first_and_keeps_the_last_thousand,
);

fn merchant(s: &str) -> MerchantId {
    MerchantId::parse(s).unwrap()
}

async fn a_token_is_found_by_its_digest_listed_without_it_and_gone_once_revoked(kv: Arc<dyn Kv>) {
    let tokens = Ledger::new(kv).tokens;
    let (acme, beta) = (merchant("acme"), merchant("beta"));
    let record = TokenRecord { name: "warehouse desk".into(), created_at: 1_000, digest: "d1".into() };
    tokens.add(&acme, "t1", &record).await.unwrap();
    tokens.add(&acme, "t0", &TokenRecord { created_at: 500, digest: "d0".into(), ..record.clone() }).await.unwrap();
    assert_eq!(tokens.owner("d1").await.unwrap(), Some(TokenOwner { merchant: acme.clone(), id: "t1".into() }));
    assert_eq!(tokens.owner("nope").await.unwrap(), None);
    tokens.note_used(&acme, "t1", 2_000).await.unwrap();
    let listed = tokens.list(&acme).await.unwrap();
    let ids: Vec<_> = listed.iter().map(|t| (t.id.as_str(), t.last_used_at)).collect();
    assert_eq!(ids, [("t0", None), ("t1", Some(2_000))], "oldest first, with the last use");
    assert!(tokens.list(&beta).await.unwrap().is_empty());
    assert!(!tokens.revoke(&beta, "t1").await.unwrap(), "another merchant cannot revoke it");
    assert!(tokens.revoke(&acme, "t1").await.unwrap());
    assert_eq!(tokens.owner("d1").await.unwrap(), None);
    assert!(!tokens.revoke(&acme, "t1").await.unwrap());
    assert_eq!(tokens.list(&acme).await.unwrap().len(), 1);
    assert_eq!(tokens.revoke_all(&acme).await.unwrap(), 1);
    assert_eq!(tokens.owner("d0").await.unwrap(), None);
    assert!(tokens.list(&acme).await.unwrap().is_empty());
}

async fn the_audit_log_is_newest_first_and_keeps_the_last_thousand(kv: Arc<dyn Kv>) {
    let audit = Ledger::new(kv).audit;
    let (acme, beta) = (merchant("acme"), merchant("beta"));
    let entry = |n: usize| AuditEntry {
        at: format!("2026-01-01T00:00:00.{:03}Z", n % 1000),
        actor: "operator".into(),
        action: "aliases.put".into(),
        target: format!("write {n}"),
        changed: vec!["SKU-1".into()],
    };
    for n in 0..1_005 {
        audit.append(&acme, &entry(n)).await.unwrap();
    }
    let newest = audit.newest(&acme, 3).await.unwrap();
    assert_eq!(newest, [entry(1_004), entry(1_003), entry(1_002)]);
    let all = audit.newest(&acme, 5_000).await.unwrap();
    assert_eq!(all.len(), 1_000);
    assert_eq!(all.last(), Some(&entry(5)), "the oldest five are gone");
    assert!(audit.newest(&beta, 10).await.unwrap().is_empty());
}
