//! The ledger behaves the same on the memory and the Redis store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cartgate::domain::{CartId, Destination, MerchantId, NewOrder, Order, OrderStatus, Shipment};
use cartgate::ledger::redis_kv::RedisKv;
use cartgate::ledger::{Alias, IndexOp, Kv, Ledger, OrderFilter, kv::Conflict, kv::Versioned};
use cartgate::store::StoreError;
use cartgate::testkit::{TestRedis, unique_prefix};
use chrono::{Duration, Utc};

async fn redis_kv() -> Arc<dyn Kv> {
    let conn = cartgate::store::redis::connection(&TestRedis::shared_url()).unwrap();
    Arc::new(RedisKv::new(conn, &unique_prefix()))
}

fn acme() -> MerchantId {
    MerchantId::parse("acme").unwrap()
}

fn beta() -> MerchantId {
    MerchantId::parse("beta").unwrap()
}

/// The ledger on the shared test Redis Cluster, each document write waiting for a replica.
pub(crate) fn cluster_kv() -> Arc<dyn Kv> {
    let prefix = unique_prefix();
    let settings = crate::support::cluster_settings(&cartgate::testkit::TestCluster::shared_url(), &prefix);
    let conn = cartgate::store::redis::RedisConn::open(&settings).unwrap();
    Arc::new(RedisKv::new(conn, &prefix))
}

fn order(cart: &str, id: u64, minutes_ago: i64) -> Order {
    let new = NewOrder {
        cart: CartId::parse(cart).unwrap(),
        cart_order_id: id,
        order_number: format!("SO{id}"),
        merchant: MerchantId::parse(if cart.starts_with('b') { "beta" } else { "acme" }).unwrap(),
        destination: Destination::default(),
        lines: vec![],
        ship_method: None,
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
        mod cluster {
            $(#[tokio::test] async fn $name() { super::$name(super::cluster_kv()).await })*
        }
    };
}

mod access;
mod migrate;
mod oauth;
mod retention;
mod sessions;
mod slots;
mod stores;

both_stores!(
    creating_twice_keeps_the_first,
    concurrent_updates_are_never_lost,
    status_indexes_follow_transitions_and_pages_are_complete,
    wms_ids_and_tracking_codes_find_their_order,
    aliases_upsert_list_delete_and_waiting_orders,
    ship_methods_seen_are_counted_per_cart_and_waiting_orders_listed,
    a_store_failing_mid_write_never_leaves_an_order_its_indexes_miss,
);

async fn creating_twice_keeps_the_first(kv: Arc<dyn Kv>) {
    let ledger = Ledger::new(kv);
    let mut o = order("acme-tg", 1, 0);
    assert!(ledger.orders.create(&o).await.unwrap());
    o.order_number = "other".into();
    assert!(!ledger.orders.create(&o).await.unwrap());
    let cart = CartId::parse("acme-tg").unwrap();
    assert_eq!(ledger.orders.get(&acme(), &cart, 1).await.unwrap().unwrap().order_number, "SO1");
    assert!(ledger.orders.get(&acme(), &cart, 2).await.unwrap().is_none());
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
                ledger
                    .orders
                    .update(&acme(), &cart, 7, |o| o.note(&format!("w{w}-{i}"), Utc::now()))
                    .await
                    .unwrap()
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let o = ledger.orders.get(&acme(), &cart, 7).await.unwrap().unwrap();
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
        ledger
            .orders
            .update(&acme(), &cart, id, |o| o.transition(OrderStatus::OnHold, "no stock", Utc::now()))
            .await
            .unwrap();
    }
    let held = OrderFilter { status: Some(OrderStatus::OnHold), ..Default::default() };
    let (page, next) = ledger.orders.list(&[acme(), beta()], &held, 10, None).await.unwrap();
    assert_eq!(page.iter().map(|o| o.cart_order_id).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(next, None);

    let acme_new = OrderFilter { status: Some(OrderStatus::New), merchant: Some("acme".into()), cart: None };
    let (mut seen, mut cursor) = (Vec::new(), None);
    loop {
        let (page, next) = ledger.orders.list(&[], &acme_new, 4, cursor).await.unwrap();
        seen.extend(page.iter().map(|o| o.cart_order_id));
        if next.is_none() {
            break;
        }
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
        .update(&acme(), &cart, 9, |o| {
            o.wms_order_id = Some("order_abc".into());
            o.shipments.push(Shipment {
                pick_id: "pick_1".into(),
                tracking_code: "9400TRACK".into(),
                carrier: Some("USPS".into()),
                public_url: None,
                tracking_status: "pre_transit".into(),
                tracking_updated_at: None,
                items: vec![("0001".parse().unwrap(), 1)],
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

async fn ship_methods_seen_are_counted_per_cart_and_waiting_orders_listed(kv: Arc<dyn Kv>) {
    let ledger = Ledger::new(kv.clone());
    let (cart, other) = (CartId::parse("acme-tg").unwrap(), CartId::parse("beta-tg").unwrap());
    let now = Utc::now();
    assert_eq!(kv.hincr("counter", "f", 2).await.unwrap(), 2);
    assert_eq!(kv.hincr("counter", "f", 3).await.unwrap(), 5, "atomic increments add up");
    for label in ["Express", "Express", "Pigeon"] {
        ledger.ship_methods.seen(&acme(), &cart, label, now).await.unwrap();
    }
    ledger.ship_methods.seen(&acme(), &cart, "Pigeon", now - Duration::days(40)).await.unwrap();
    let seen = ledger.ship_methods.seen_recently(&acme(), &cart, now).await.unwrap();
    let seen: Vec<(&str, u64)> = seen.iter().map(|s| (s.label.as_str(), s.orders)).collect();
    assert_eq!(seen, [("Express", 2), ("Pigeon", 1)], "the 40-day-old order is not counted");
    assert!(ledger.ship_methods.seen_recently(&beta(), &other, now).await.unwrap().is_empty());

    ledger.ship_methods.await_mapping(&acme(), &cart, "acme-tg:5", "Pigeon").await.unwrap();
    assert_eq!(
        ledger.ship_methods.awaiting(&acme(), &cart).await.unwrap(),
        [("acme-tg:5".to_owned(), "Pigeon".to_owned())]
    );
    ledger.ship_methods.done_waiting(&acme(), &cart, "acme-tg:5").await.unwrap();
    assert!(ledger.ship_methods.awaiting(&acme(), &cart).await.unwrap().is_empty());
}

/// A store whose `n`-th call fails — before doing anything, or after doing it with the answer
/// lost (what a Redis stopping or a dropped connection looks like to the caller).
struct FailingKv {
    inner: Arc<dyn Kv>,
    calls: AtomicU64,
    fail_at: u64,
    answer_lost: bool,
}

impl FailingKv {
    async fn call<T>(&self, op: impl std::future::Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n != self.fail_at {
            return op.await;
        }
        if self.answer_lost {
            let _ = op.await;
        }
        Err(StoreError::Unavailable(format!("injected failure at call {n}")))
    }
}

#[async_trait::async_trait]
impl Kv for FailingKv {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        self.call(self.inner.get(key)).await
    }
    async fn put(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        index: &[IndexOp],
    ) -> Result<Result<u64, Conflict>, StoreError> {
        self.call(self.inner.put(key, expected, value, index)).await
    }
    async fn delete(&self, key: &str, expected: u64, index: &[IndexOp]) -> Result<Result<(), Conflict>, StoreError> {
        self.call(self.inner.delete(key, expected, index)).await
    }
    async fn zrange(&self, key: &str, offset: usize, limit: usize) -> Result<Vec<String>, StoreError> {
        self.call(self.inner.zrange(key, offset, limit)).await
    }
    async fn zrange_after(
        &self,
        key: &str,
        after: Option<(f64, &str)>,
        limit: usize,
    ) -> Result<Vec<(String, f64)>, StoreError> {
        self.call(self.inner.zrange_after(key, after, limit)).await
    }
    async fn hset(&self, key: &str, pairs: &[(String, String)]) -> Result<(), StoreError> {
        self.call(self.inner.hset(key, pairs)).await
    }
    async fn hget(&self, key: &str, field: &str) -> Result<Option<String>, StoreError> {
        self.call(self.inner.hget(key, field)).await
    }
    async fn hdel(&self, key: &str, fields: &[String]) -> Result<u64, StoreError> {
        self.call(self.inner.hdel(key, fields)).await
    }
    async fn hgetall(&self, key: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.call(self.inner.hgetall(key)).await
    }
    async fn hincr(&self, key: &str, field: &str, by: i64) -> Result<i64, StoreError> {
        self.call(self.inner.hincr(key, field, by)).await
    }
    async fn push_capped(&self, key: &str, value: &str, keep: usize) -> Result<(), StoreError> {
        self.call(self.inner.push_capped(key, value, keep)).await
    }
    async fn head(&self, key: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        self.call(self.inner.head(key, limit)).await
    }
}

/// Found by the Redis-restart reliability scenario: an order written while the store went away
/// was stored but missing from the listing index, so it was invisible to `/admin/orders`. Every
/// call of an import-then-send sequence is made to fail once, both ways; retried like a job, the
/// order must always end up in the listing, in exactly its status index, and findable by its
/// WMS order id.
async fn a_store_failing_mid_write_never_leaves_an_order_its_indexes_miss(kv: Arc<dyn Kv>) {
    let cart = CartId::parse("acme-tg").unwrap();
    for answer_lost in [false, true] {
        for fail_at in 1..=12 {
            let id = 1000 + fail_at + if answer_lost { 100 } else { 0 };
            let flaky = Arc::new(FailingKv { inner: kv.clone(), calls: AtomicU64::new(0), fail_at, answer_lost });
            let ledger = Ledger::new(flaky);
            let import = || async {
                let o = order("acme-tg", id, 0);
                ledger.orders.create(&o).await
            };
            while import().await.is_err() {}
            let send = || async {
                ledger
                    .orders
                    .update(&acme(), &cart, id, |o| {
                        if o.status() == OrderStatus::New {
                            o.wms_order_id = Some(format!("order_{id}"));
                            o.transition(OrderStatus::AtWms, "accepted", Utc::now()).unwrap();
                        }
                    })
                    .await
            };
            while send().await.is_err() {}

            let ledger = Ledger::new(kv.clone());
            let stored = ledger.orders.get(&acme(), &cart, id).await.unwrap().expect("the order is stored");
            assert_eq!(stored.status(), OrderStatus::AtWms);
            let (all, _) = ledger.orders.list(&[acme(), beta()], &OrderFilter::default(), 10_000, None).await.unwrap();
            assert!(
                all.iter().any(|o| o.cart_order_id == id),
                "order {id} (fail at {fail_at}, answer lost {answer_lost}) is listed"
            );
            for status in OrderStatus::ALL {
                let members = ledger.orders.with_status(&acme(), status, 0, 10_000).await.unwrap();
                let indexed = members.contains(&format!("acme-tg:{id}"));
                assert_eq!(indexed, status == OrderStatus::AtWms, "order {id} in the {status} index");
            }
            assert_eq!(
                ledger.orders.by_wms_order("acme", &format!("order_{id}")).await.unwrap(),
                Some((cart.clone(), id))
            );
        }
    }
}
