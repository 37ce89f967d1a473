//! Fills a fresh Redis the way the release before the per-merchant ledger did, and dumps every
//! key as JSON lines (tests/data/store-v1.jsonl). Built against main@2ab779d; kept in
//! tests/data/store-v1.make.rs for the record (it does not build against the new layout).
//! Usage: cargo run --example store_v1 -- redis://127.0.0.1:PORT/0 > tests/data/store-v1.jsonl

use std::sync::Arc;

use cartgate::domain::{CartId, Destination, MerchantId, NewOrder, Order, OrderStatus, Shipment};
use cartgate::jobs::{CartTask, SendOrder};
use cartgate::ledger::redis_kv::RedisKv;
use cartgate::ledger::{Alias, AuditEntry, Ledger};
use cartgate::store::{JobKind, JobStore, OnExisting, RedisStore, When};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;

const PREFIX: &str = "cartgate";

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).single().unwrap() + Duration::minutes(minutes)
}

fn order(merchant: &str, cart: &str, id: u64, minutes: i64) -> Order {
    let new = NewOrder {
        cart: CartId::parse(cart).unwrap(),
        cart_order_id: id,
        order_number: format!("SO{id}"),
        merchant: MerchantId::parse(merchant).unwrap(),
        destination: Destination::default(),
        lines: vec![],
        ship_method: Some("Ground".into()),
    };
    Order::new(new, at(minutes), "order.finalized")
}

fn shipment(code: &str, t: DateTime<Utc>) -> Shipment {
    Shipment {
        pick_id: format!("pick_{code}"),
        tracking_code: code.into(),
        carrier: Some("USPS".into()),
        public_url: None,
        tracking_status: "delivered".into(),
        tracking_updated_at: None,
        items: vec![("0001".parse().unwrap(), 1)],
        shipped_at: t,
        fulfillment_id: Some(77),
    }
}

#[tokio::main]
async fn main() {
    let url = std::env::args().nth(1).expect("usage: store_v1 REDIS_URL");
    let client = redis::Client::open(url.as_str()).unwrap();
    let conn = client.get_connection_manager().await.unwrap();
    let ledger = Ledger::new(Arc::new(RedisKv::new(conn.clone(), PREFIX)));
    let jobs = RedisStore::new(conn.clone(), PREFIX, 16);
    let mut n = 0;
    for (merchant, cart) in [("acme", "acme-tg"), ("beta", "beta-tg")] {
        let cart_id = CartId::parse(cart).unwrap();
        let m = MerchantId::parse(merchant).unwrap();
        // One order per status: new, on_hold, error, cancel_sending, at_wms, shipped, confirmed,
        // canceled, skipped.
        let paths: &[&[OrderStatus]] = &[
            &[],
            &[OrderStatus::OnHold],
            &[OrderStatus::Error],
            &[OrderStatus::CancelSending],
            &[OrderStatus::AtWms],
            &[OrderStatus::AtWms, OrderStatus::Shipped],
            &[OrderStatus::AtWms, OrderStatus::Shipped, OrderStatus::Confirmed],
            &[OrderStatus::AtWms, OrderStatus::Canceled],
            &[OrderStatus::Skipped],
        ];
        for path in paths {
            n += 1;
            let id = 5700 + n;
            let mut o = order(merchant, cart, id, n as i64);
            for (step, s) in path.iter().enumerate() {
                let t = at(n as i64 + 10 + step as i64);
                if *s == OrderStatus::AtWms {
                    o.wms_order_id = Some(format!("order_{merchant}_{id}"));
                }
                if *s == OrderStatus::Shipped {
                    o.shipments.push(shipment(&format!("9400{id}"), t));
                }
                o.transition(*s, &format!("to {s}"), t).unwrap();
            }
            assert!(ledger.orders.create(&o).await.unwrap());
        }
        // Two orders with the same creation millisecond (ties in the listing).
        for id in [9001, 9002] {
            assert!(ledger.orders.create(&order(merchant, cart, id, 100)).await.unwrap());
        }
        ledger
            .aliases
            .upsert(merchant, &[
                Alias { sku: "SKU-1".into(), barcode: "0001".into() },
                Alias { sku: "SKU-2".into(), barcode: "0002".into() },
            ])
            .await
            .unwrap();
        ledger.aliases.await_aliases(merchant, &format!("{cart}:5703"), &["SKU-9".into()]).await.unwrap();
        ledger.cursors.set_order_poll(&cart_id, at(500)).await.unwrap();
        ledger.cursors.set_cart_start_once(&cart_id, at(-1440)).await.unwrap();
        ledger.products.record(&m, &[("0001".into(), "prod_1".into())], at(400)).await.unwrap();
        ledger.ship_watch.add(&m, &[format!("{cart}:5705")]).await.unwrap();
        ledger.holds.note_released(merchant, 1_700_000_000_000).await.unwrap();
        ledger.ship_methods.seen(&cart_id, "Ground", at(300)).await.unwrap();
        ledger.ship_methods.await_mapping(&cart_id, &format!("{cart}:5701"), "Overnight").await.unwrap();
        let entry = AuditEntry {
            at: "2026-11-02T09:00:00.000Z".into(),
            actor: "operator".into(),
            action: "aliases.upsert".into(),
            target: merchant.into(),
            changed: vec!["SKU-1".into()],
        };
        ledger.audit.append(&m, &entry).await.unwrap();
        // Queued jobs: a send due now, one far ahead, and the cart's recurring poll.
        for (id, when) in [(5701, When::Now), (5704, When::At(4_000_000_000_000))] {
            let job = SendOrder { cart: cart_id.clone(), order_id: id }.job();
            jobs.enqueue(&job, when, OnExisting::Keep).await.unwrap();
        }
        let poll = CartTask { cart: cart_id.clone() }.job(JobKind::PollOrders);
        jobs.enqueue(&poll, When::At(4_000_000_000_000), OnExisting::Keep).await.unwrap();
    }
    dump(conn).await;
}

/// Every key, sorted: `{"key", "type", "ttl_ms", "value"}` with plain values.
async fn dump(mut conn: redis::aio::ConnectionManager) {
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query_async(&mut conn).await.unwrap();
    keys.sort();
    for key in keys {
        let kind: String = redis::cmd("TYPE").arg(&key).query_async(&mut conn).await.unwrap();
        let ttl: i64 = redis::cmd("PTTL").arg(&key).query_async(&mut conn).await.unwrap();
        let value = match kind.as_str() {
            "string" => json!(redis::cmd("GET").arg(&key).query_async::<String>(&mut conn).await.unwrap()),
            "hash" => json!(redis::cmd("HGETALL").arg(&key).query_async::<std::collections::BTreeMap<String, String>>(&mut conn).await.unwrap()),
            "list" => json!(redis::cmd("LRANGE").arg(&key).arg(0).arg(-1).query_async::<Vec<String>>(&mut conn).await.unwrap()),
            "set" => {
                let mut v: Vec<String> = redis::cmd("SMEMBERS").arg(&key).query_async(&mut conn).await.unwrap();
                v.sort();
                json!(v)
            }
            "zset" => {
                let v: Vec<(String, f64)> = redis::cmd("ZRANGE").arg(&key).arg(0).arg(-1).arg("WITHSCORES").query_async(&mut conn).await.unwrap();
                json!(v)
            }
            other => panic!("unexpected type {other} of {key}"),
        };
        println!("{}", json!({"key": key, "type": kind, "ttl_ms": ttl, "value": value}));
    }
}
