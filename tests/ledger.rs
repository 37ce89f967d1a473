//! The ledger behaves the same on the memory and the Redis store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use cartgate::domain::{CartId, Destination, MerchantId, NewOrder, Order, OrderStatus, Shipment};
use cartgate::ledger::redis_kv::RedisKv;
use cartgate::ledger::{Alias, Kv, Ledger, OrderFilter};
use cartgate::testkit::{TestRedis, unique_prefix};
use chrono::{Duration, Utc};

async fn redis_kv() -> Arc<dyn Kv> {
    let client = ::redis::Client::open(TestRedis::shared_url()).unwrap();
    let conn = client.get_connection_manager().await.unwrap();
    Arc::new(RedisKv::new(conn, &unique_prefix()))
}

fn order(cart: &str, id: u64, minutes_ago: i64) -> Order {
    let new = NewOrder {
        cart: CartId::parse(cart).unwrap(),
        cart_order_id: id,
        order_number: format!("SO{id}"),
        merchant: MerchantId::parse(if cart.starts_with('b') { "beta" } else { "acme" }).unwrap(),
        destination: Destination::default(),
        lines: vec![],
    };
    Order::new(new, Utc::now() - Duration::minutes(minutes_ago), "imported")
}

macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test] async fn $name() { super::$name(std::sync::Arc::new(cartgate::ledger::MemoryKv::default())).await })*
        }
        mod redis {
            $(#[tokio::test] async fn $name() { super::$name(super::redis_kv().await).await })*
        }
    };
}

both_stores!(
    creating_twice_keeps_the_first,
    concurrent_updates_are_never_lost,
    status_indexes_follow_transitions_and_pages_are_complete,
    wms_ids_and_tracking_codes_find_their_order,
    aliases_upsert_list_delete_and_waiting_orders,
);

async fn creating_twice_keeps_the_first(kv: Arc<dyn Kv>) {
    let ledger = Ledger::new(kv);
    let mut o = order("acme-tg", 1, 0);
    assert!(ledger.orders.create(&o).await.unwrap());
    o.order_number = "other".into();
    assert!(!ledger.orders.create(&o).await.unwrap());
    let cart = CartId::parse("acme-tg").unwrap();
    assert_eq!(ledger.orders.get(&cart, 1).await.unwrap().unwrap().order_number, "SO1");
    assert!(ledger.orders.get(&cart, 2).await.unwrap().is_none());
}

async fn concurrent_updates_are_never_lost(kv: Arc<dyn Kv>) {
    let ledger = Ledger::new(kv);
    ledger.orders.create(&order("acme-tg", 7, 0)).await.unwrap();
    let cart = CartId::parse("acme-tg").unwrap();
    let mut tasks = Vec::new();
    for w in 0..4 {
        let (ledger, cart) = (ledger.clone(), cart.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                ledger.orders.update(&cart, 7, |o| o.note(&format!("w{w}-{i}"), Utc::now())).await.unwrap().unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let o = ledger.orders.get(&cart, 7).await.unwrap().unwrap();
    assert_eq!(o.timeline().len(), 1 + 100, "every note from every writer is kept");
}

async fn status_indexes_follow_transitions_and_pages_are_complete(kv: Arc<dyn Kv>) {
    let ledger = Ledger::new(kv);
    for id in 1..=25 {
        ledger
            .orders
            .create(&order(if id % 5 == 0 { "beta-tg" } else { "acme-tg" }, id, 100 - id as i64))
            .await
            .unwrap();
    }
    let cart = CartId::parse("acme-tg").unwrap();
    for id in [1, 2, 3] {
        ledger.orders.update(&cart, id, |o| o.transition(OrderStatus::OnHold, "no stock", Utc::now())).await.unwrap();
    }
    let held = OrderFilter { status: Some(OrderStatus::OnHold), ..Default::default() };
    let (page, next) = ledger.orders.list(&held, 10, 0).await.unwrap();
    assert_eq!(page.iter().map(|o| o.cart_order_id).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(next, None);

    let acme_new = OrderFilter { status: Some(OrderStatus::New), merchant: Some("acme".into()), cart: None };
    let (mut seen, mut cursor) = (Vec::new(), Some(0));
    while let Some(c) = cursor {
        let (page, next) = ledger.orders.list(&acme_new, 4, c).await.unwrap();
        seen.extend(page.iter().map(|o| o.cart_order_id));
        cursor = next;
    }
    let expected: Vec<u64> = (4..=25).filter(|id| id % 5 != 0).collect();
    assert_eq!(seen, expected, "oldest first, no gaps, no repeats");
}

async fn wms_ids_and_tracking_codes_find_their_order(kv: Arc<dyn Kv>) {
    let ledger = Ledger::new(kv);
    ledger.orders.create(&order("acme-tg", 9, 0)).await.unwrap();
    let cart = CartId::parse("acme-tg").unwrap();
    ledger
        .orders
        .update(&cart, 9, |o| {
            o.wms_order_id = Some("order_abc".into());
            o.shipments.push(Shipment {
                pick_id: "pick_1".into(),
                tracking_code: "9400TRACK".into(),
                carrier: Some("USPS".into()),
                public_url: None,
                tracking_status: "pre_transit".into(),
                tracking_updated_at: None,
                items: vec![("0001".into(), 1)],
                shipped_at: Utc::now(),
                fulfillment_id: None,
            });
        })
        .await
        .unwrap();
    assert_eq!(ledger.orders.by_wms_order("acme", "order_abc").await.unwrap(), Some((cart.clone(), 9)));
    assert_eq!(ledger.orders.by_tracking_code("acme", "9400TRACK").await.unwrap(), Some((cart, 9)));
    assert_eq!(ledger.orders.by_wms_order("beta", "order_abc").await.unwrap(), None);
}

async fn aliases_upsert_list_delete_and_waiting_orders(kv: Arc<dyn Kv>) {
    let ledger = Ledger::new(kv);
    let rows = [Alias { sku: "B".into(), barcode: "2".into() }, Alias { sku: "A".into(), barcode: "1".into() }];
    ledger.aliases.upsert("acme", &rows).await.unwrap();
    ledger.aliases.upsert("acme", &[Alias { sku: "A".into(), barcode: "11".into() }]).await.unwrap();
    let all = ledger.aliases.all("acme").await.unwrap();
    assert_eq!(all, [Alias { sku: "A".into(), barcode: "11".into() }, Alias { sku: "B".into(), barcode: "2".into() }]);
    assert!(ledger.aliases.delete("acme", "B").await.unwrap());
    assert!(!ledger.aliases.delete("acme", "B").await.unwrap());
    assert!(ledger.aliases.all("beta").await.unwrap().is_empty());

    ledger.aliases.await_aliases("acme", "acme-tg:5", &["X".into(), "Y".into()]).await.unwrap();
    assert_eq!(
        ledger.aliases.awaiting("acme").await.unwrap(),
        [("acme-tg:5".to_owned(), vec!["X".into(), "Y".into()])]
    );
    ledger.aliases.done_waiting("acme", "acme-tg:5").await.unwrap();
    assert!(ledger.aliases.awaiting("acme").await.unwrap().is_empty());
}
