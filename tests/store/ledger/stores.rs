//! The small named stores (cursors, product cache, watch list, holds, inventory), on both
//! stores, and reading the layout earlier versions wrote.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use cartgate::domain::{CartId, MerchantId};
use cartgate::ledger::{Kv, Ledger, Snapshot};

use super::{cluster_kv, redis_kv};
use chrono::{DateTime, TimeZone, Utc};

both_stores!(
    order_poll_cursors_are_per_cart_and_unreadable_ones_read_as_none,
    the_product_cache_remembers_when_it_was_read_and_only_adds,
    the_ship_watch_adds_marks_checked_and_forgets,
    hold_releases_are_per_merchant,
    the_latest_snapshot_replaces_the_previous_one,
    stores_read_what_earlier_versions_wrote,
);

fn ids() -> (CartId, CartId, MerchantId, MerchantId) {
    let cart = |s| CartId::parse(s).unwrap();
    let merchant = |s| MerchantId::parse(s).unwrap();
    (cart("acme-tg"), cart("beta-tg"), merchant("acme"), merchant("beta"))
}

fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).unwrap()
}

async fn order_poll_cursors_are_per_cart_and_unreadable_ones_read_as_none(kv: Arc<dyn Kv>) {
    let (acme, beta, m_acme, m_beta) = ids();
    let ledger = Ledger::new(kv.clone());
    assert_eq!(ledger.cursors.order_poll(&m_acme, &acme).await.unwrap(), None);
    ledger.cursors.set_order_poll(&m_acme, &acme, at(1_767_000_000_123)).await.unwrap();
    assert_eq!(ledger.cursors.order_poll(&m_acme, &acme).await.unwrap(), Some(at(1_767_000_000_123)));
    assert_eq!(ledger.cursors.order_poll(&m_beta, &beta).await.unwrap(), None);
    kv.hset("{m:beta}:cursors", &[("poll_orders:beta-tg".into(), "yesterday".into())]).await.unwrap();
    assert_eq!(ledger.cursors.order_poll(&m_beta, &beta).await.unwrap(), None);
}

async fn the_product_cache_remembers_when_it_was_read_and_only_adds(kv: Arc<dyn Kv>) {
    let (.., acme, beta) = ids();
    let products = Ledger::new(kv).products;
    assert_eq!(products.read_at(&acme).await.unwrap(), None);
    assert!(products.barcodes(&acme).await.unwrap().is_empty());
    let first = Utc::now();
    products.record(&acme, &[("0001".into(), "prod_1".into())], first).await.unwrap();
    assert_eq!(products.read_at(&acme).await.unwrap(), Some(first));
    products.record(&acme, &[("0002".into(), "prod_2".into())], first).await.unwrap();
    let expected: HashSet<String> = ["0001".into(), "0002".into()].into();
    assert_eq!(products.barcodes(&acme).await.unwrap(), expected);
    assert!(products.barcodes(&beta).await.unwrap().is_empty());
}

async fn the_ship_watch_adds_marks_checked_and_forgets(kv: Arc<dyn Kv>) {
    let (.., acme, beta) = ids();
    let watch = Ledger::new(kv).ship_watch;
    watch.add(&acme, &["acme-tg:1".into(), "acme-tg:2".into()]).await.unwrap();
    watch.add(&acme, &[]).await.unwrap();
    watch.checked(&acme, &["acme-tg:1".into()], 42).await.unwrap();
    let expected: HashMap<String, i64> = [("acme-tg:1".into(), 42), ("acme-tg:2".into(), 0)].into();
    assert_eq!(watch.all(&acme).await.unwrap(), expected);
    watch.remove(&acme, &["acme-tg:2".into()]).await.unwrap();
    watch.remove(&acme, &[]).await.unwrap();
    assert_eq!(watch.all(&acme).await.unwrap(), [("acme-tg:1".into(), 42)].into());
    assert!(watch.all(&beta).await.unwrap().is_empty());
}

async fn hold_releases_are_per_merchant(kv: Arc<dyn Kv>) {
    let holds = Ledger::new(kv).holds;
    assert_eq!(holds.released_at("acme").await.unwrap(), None);
    holds.note_released("acme", 1_000).await.unwrap();
    holds.note_released("acme", 2_000).await.unwrap();
    assert_eq!(holds.released_at("acme").await.unwrap(), Some(2_000));
    assert_eq!(holds.released_at("beta").await.unwrap(), None);
}

async fn the_latest_snapshot_replaces_the_previous_one(kv: Arc<dyn Kv>) {
    let (acme, beta, m_acme, m_beta) = ids();
    let inventory = Ledger::new(kv).inventory;
    assert_eq!(inventory.latest(&m_acme, &acme).await.unwrap(), None);
    let old = Snapshot::new(&acme, BTreeMap::from([(1, 5)]), at(1_000));
    let new = Snapshot::new(&acme, BTreeMap::from([(1, 4), (2, 1)]), at(2_000));
    assert_ne!(old.hash, new.hash);
    inventory.replace(&m_acme, &acme, &old).await.unwrap();
    inventory.replace(&m_acme, &acme, &new).await.unwrap();
    assert_eq!(inventory.latest(&m_acme, &acme).await.unwrap(), Some(new));
    assert_eq!(inventory.latest(&m_beta, &beta).await.unwrap(), None);
}

/// The keys and values as the per-merchant layout spells them (`cartgate migrate` writes
/// these from the previous layout): a migrated store must read on.
async fn stores_read_what_earlier_versions_wrote(kv: Arc<dyn Kv>) {
    let (acme_tg, _, acme, _) = ids();
    let pairs = |rows: &[(&str, &str)]| rows.iter().map(|(f, v)| (f.to_string(), v.to_string())).collect::<Vec<_>>();
    let cursors = [("poll_orders:acme-tg", "2026-01-02T03:04:05.678Z"), ("wms_products", "2026-01-02T03:04:05+00:00")];
    kv.hset("{m:acme}:cursors", &pairs(&cursors)).await.unwrap();
    kv.hset("{m:acme}:wms_products", &pairs(&[("0001", "prod_1")])).await.unwrap();
    kv.hset("{m:acme}:ship_watch", &pairs(&[("acme-tg:5", "42")])).await.unwrap();
    kv.hset("{m:acme}:cursors", &pairs(&[("holds_released", "99")])).await.unwrap();
    let snap = Snapshot::new(&acme_tg, BTreeMap::from([(7, 3)]), at(5_000));
    kv.put("{m:acme}:inventory:acme-tg", None, &serde_json::to_vec(&snap).unwrap(), &[]).await.unwrap().unwrap();

    let ledger = Ledger::new(kv);
    let poll = ledger.cursors.order_poll(&acme, &acme_tg).await.unwrap().unwrap();
    assert_eq!(poll.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "2026-01-02T03:04:05.678Z");
    assert_eq!(ledger.products.read_at(&acme).await.unwrap().unwrap().to_rfc3339(), "2026-01-02T03:04:05+00:00");
    assert_eq!(ledger.products.barcodes(&acme).await.unwrap(), ["0001".to_string()].into());
    assert_eq!(ledger.ship_watch.all(&acme).await.unwrap(), [("acme-tg:5".into(), 42)].into());
    assert_eq!(ledger.holds.released_at("acme").await.unwrap(), Some(99));
    assert_eq!(ledger.inventory.latest(&acme, &acme_tg).await.unwrap(), Some(snap));
}
