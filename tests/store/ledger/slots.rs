//! Redis Cluster placement: every key of a merchant's ledger in its merchant's slot, and no
//! slot shared by two merchants (20 merchants) — computed with the redis crate's slot routing
//! on a standalone Redis, and measured on the shared test cluster (`CLUSTER KEYSLOT`, and the
//! keys each primary of `CLUSTER NODES` really holds).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cartgate::domain::{CartId, MerchantId, Shipment};
use cartgate::ledger::{Alias, AuditEntry, Ledger, TokenRecord};
use chrono::Utc;
use redis::cluster_routing::Slot;

/// Slot numbers (the crate's [`Slot`] exposes equality, not its number).
fn slot_numbers() -> HashMap<Slot, u16> {
    (0..16384).map(|n| (Slot::new(n).unwrap(), n)).collect()
}

#[tokio::test]
async fn twenty_merchants_ledgers_never_share_a_slot_and_every_primary_holds_some() {
    let (kv, conn, prefix) = redis_kv_with_conn().await;
    write_twenty(&Ledger::new(kv)).await;
    let mut conn = conn;
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut conn).await.unwrap();
    let numbers = slot_numbers();
    let (mut by_slot, mut per_merchant) = (BTreeMap::<u16, BTreeSet<String>>::new(), BTreeMap::<String, usize>::new());
    for key in &keys {
        let Some(tagged) = key.split_once("{m:").map(|(_, r)| r) else { continue };
        let merchant = tagged.split_once('}').unwrap().0.to_owned();
        *per_merchant.entry(merchant.clone()).or_default() += 1;
        by_slot.entry(numbers[&Slot::for_key(key)]).or_default().insert(merchant);
    }
    assert_eq!(per_merchant.len(), 20);
    assert!(per_merchant.values().all(|n| *n >= 13), "every kind of key is tagged: {per_merchant:?}");
    let untagged: Vec<&String> = keys.iter().filter(|k| !k.contains("{m:")).collect();
    assert_eq!(untagged, [&format!("{prefix}:token_hashes")], "only the global token lookup is untagged");
    for (slot, merchants) in &by_slot {
        assert_eq!(merchants.len(), 1, "slot {slot} holds {merchants:?}");
    }
    assert_eq!(by_slot.len(), 20, "one slot per merchant");
    // `redis-cli --cluster create` with 3 primaries: 0-5460, 5461-10922, 10923-16383.
    let primaries: BTreeSet<u8> = by_slot.keys().map(|s| primary_of(*s)).collect();
    assert_eq!(primaries.len(), 3, "each primary holds some merchants' ledgers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_test_cluster_twenty_merchants_ledgers_never_share_a_slot_and_every_primary_holds_some() {
    let seed = tokio::task::spawn_blocking(cartgate::testkit::TestCluster::shared_url).await.unwrap();
    let prefix = cartgate::testkit::unique_prefix();
    let conn = cartgate::store::redis::RedisConn::open(&crate::support::cluster_settings(&seed, &prefix)).unwrap();
    write_twenty(&Ledger::new(std::sync::Arc::new(cartgate::ledger::redis_kv::RedisKv::new(conn, &prefix)))).await;

    // Each primary as the cluster describes it, asked directly for the keys it holds.
    let mut seed_conn = cartgate::store::redis::RedisConn::standalone(&seed).unwrap();
    let text: String = redis::cmd("CLUSTER").arg("NODES").query_async(&mut seed_conn).await.unwrap();
    let primaries: Vec<_> =
        cartgate::testkit::parse_nodes(&text).into_iter().filter(|n| n.primary && !n.failed).collect();
    assert_eq!(primaries.len(), 3, "{text}");
    let (mut by_slot, mut per_primary) =
        (BTreeMap::<u16, BTreeSet<String>>::new(), BTreeMap::<u16, BTreeSet<String>>::new());
    let (mut per_merchant, mut untagged) = (BTreeMap::<String, usize>::new(), Vec::new());
    for node in &primaries {
        let mut on_node =
            cartgate::store::redis::RedisConn::standalone(&format!("redis://127.0.0.1:{}", node.port)).unwrap();
        let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut on_node).await.unwrap();
        let mut slots = redis::pipe();
        for key in &keys {
            slots.cmd("CLUSTER").arg("KEYSLOT").arg(key);
        }
        let slots: Vec<u16> = slots.query_async(&mut on_node).await.unwrap();
        for (key, slot) in keys.iter().zip(slots) {
            assert!(node.slots.iter().any(|&(a, b)| (a..=b).contains(&slot)), "{key} (slot {slot}) on :{}", node.port);
            let Some(tagged) = key.split_once("{m:").map(|(_, r)| r) else {
                untagged.push(key.clone());
                continue;
            };
            let merchant = tagged.split_once('}').unwrap().0.to_owned();
            *per_merchant.entry(merchant.clone()).or_default() += 1;
            by_slot.entry(slot).or_default().insert(merchant.clone());
            per_primary.entry(node.port).or_default().insert(merchant);
        }
    }
    assert_eq!(per_merchant.len(), 20);
    assert!(per_merchant.values().all(|n| *n >= 13), "every kind of key is tagged: {per_merchant:?}");
    assert_eq!(untagged, [format!("{prefix}:token_hashes")], "only the global token lookup is untagged");
    for (slot, merchants) in &by_slot {
        assert_eq!(merchants.len(), 1, "slot {slot} holds {merchants:?}");
    }
    assert_eq!(by_slot.len(), 20, "one slot per merchant");
    assert_eq!(per_primary.len(), 3, "each primary holds some merchants' ledgers: {per_primary:?}");
    println!("merchants per primary: {:?}", per_primary.values().map(BTreeSet::len).collect::<Vec<_>>());
}

async fn redis_kv_with_conn() -> (std::sync::Arc<dyn cartgate::ledger::Kv>, cartgate::store::redis::RedisConn, String) {
    let conn = cartgate::store::redis::RedisConn::standalone(&cartgate::testkit::TestRedis::shared_url()).unwrap();
    let prefix = cartgate::testkit::unique_prefix();
    let kv = std::sync::Arc::new(cartgate::ledger::redis_kv::RedisKv::new(conn.clone(), &prefix));
    (kv, conn, prefix)
}

/// The primary of a slot in a 3-primary cluster as `redis-cli --cluster create` splits it.
pub fn primary_of(slot: u16) -> u8 {
    match slot {
        0..=5460 => 0,
        5461..=10922 => 1,
        _ => 2,
    }
}

/// The ledgers of merchants m00…m19: every kind of ledger key written at least once.
async fn write_twenty(ledger: &Ledger) {
    let now = Utc::now();
    for n in 0..20 {
        let (m, cart) =
            (MerchantId::parse(&format!("m{n:02}")).unwrap(), CartId::parse(&format!("m{n:02}-tg")).unwrap());
        let mut o = super::order(cart.as_str(), 1, 0);
        o.merchant = m.clone();
        ledger.orders.create(&o).await.unwrap();
        ledger
            .orders
            .update(&m, &cart, 1, |o| {
                o.wms_order_id = Some("order_1".into());
                o.transition(cartgate::domain::OrderStatus::AtWms, "sent", now).unwrap();
                o.shipments.push(Shipment {
                    pick_id: "p".into(),
                    tracking_code: format!("T{n}"),
                    carrier: None,
                    public_url: None,
                    tracking_status: "in_transit".into(),
                    tracking_updated_at: None,
                    items: vec![],
                    shipped_at: now,
                    fulfillment_id: None,
                });
            })
            .await
            .unwrap();
        ledger.aliases.upsert(m.as_str(), &[Alias { sku: "A".into(), barcode: "1".into() }]).await.unwrap();
        ledger.aliases.await_aliases(m.as_str(), "x:1", &["A".into()]).await.unwrap();
        ledger.cursors.set_order_poll(&m, &cart, now).await.unwrap();
        ledger.products.record(&m, &[("1".into(), "p".into())], now).await.unwrap();
        ledger.ship_watch.add(&m, &["x:1".into()]).await.unwrap();
        ledger.ship_methods.seen(&m, &cart, "Ground", now).await.unwrap();
        ledger.ship_methods.await_mapping(&m, &cart, "x:1", "Ground").await.unwrap();
        let record = TokenRecord { name: "t".into(), created_at: 1, digest: format!("d{n}") };
        ledger.tokens.add(&m, "t1", &record).await.unwrap();
        ledger.tokens.note_used(&m, "t1", 2).await.unwrap();
        let entry = AuditEntry {
            at: "now".into(),
            actor: "op".into(),
            action: "a".into(),
            target: "t".into(),
            changed: vec![],
        };
        ledger.audit.append(&m, &entry).await.unwrap();
    }
}
