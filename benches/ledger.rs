//! The ledger's memory in Redis: bytes of `used_memory` per finished order (a typical one: two
//! lines, an address, one parcel, a timeline of 7 entries — imported, sent, shipped, three
//! tracker updates, confirmed) over 10,000 orders of 10 merchants; then retention with the
//! clock moved past `ledger.keep_finished_days`, and where memory ends up against the start
//! (by Redis' count and by jemalloc's), beside a control: what a fresh Redis alone keeps after
//! holding and losing as many plain keys; and how 1,000 merchants' ledgers spread over the 3 primaries of a cluster (slots from the
//! redis crate's routing, ranges as `redis-cli --cluster create` assigns them), as max/mean.
//!
//! Run: `cargo bench --bench ledger` or `scripts/bench ledger` (starts its own redis-server).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use cartgate::domain::{CartId, Destination, MerchantId, NewOrder, Order, OrderLine, OrderStatus, Shipment};
use cartgate::ledger::Ledger;
use cartgate::ledger::redis_kv::RedisKv;
use cartgate::store::redis::RedisConn;
use cartgate::testkit::{TestRedis, unique_prefix};
use chrono::{Duration, Utc};
use futures::StreamExt;
use redis::cluster_routing::Slot;

const ORDERS: u64 = 10_000;
const MERCHANTS: u64 = 10;
const KEEP_DAYS: i64 = 90;

async fn used_memory(conn: &mut RedisConn) -> i64 {
    memory_field(conn, "used_memory").await
}

/// A number of `INFO memory` (`used_memory`: Redis' own count of what it allocated;
/// `allocator_allocated`: jemalloc's).
async fn memory_field(conn: &mut RedisConn, field: &str) -> i64 {
    let info: String = redis::cmd("INFO").arg("memory").query_async(conn).await.unwrap();
    let prefix = format!("{field}:");
    info.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap().trim().parse().unwrap()
}

fn typical(merchant: &MerchantId, cart: &CartId, id: u64) -> Order {
    let line = |n: u64| OrderLine {
        line_item_id: id * 10 + n,
        variant_id: 4_000_000 + n,
        sku: format!("SKU-{n:04}").parse().unwrap(),
        upc: None,
        barcode: Some(format!("0000{n}").parse().unwrap()),
        quantity: 1,
    };
    let destination = Destination {
        name: "Jane Customer".into(),
        company: None,
        street1: "1 Market Street".into(),
        street2: Some("Apt 4".into()),
        city: "San Francisco".into(),
        state: Some("CA".into()),
        zip: "94105".into(),
        country: "US".into(),
        phone: Some("+1 415 555 0100".into()),
        email: Some("jane@example.com".into()),
    };
    let new = NewOrder {
        cart: cart.clone(),
        cart_order_id: id,
        order_number: format!("SO{id}"),
        merchant: merchant.clone(),
        destination,
        lines: vec![line(1), line(2)],
        ship_method: Some("Ground".into()),
    };
    Order::new(new, Utc::now(), "order.finalized")
}

/// Imports, sends, ships, records tracker updates and confirms one order, as the workflows do.
async fn finish(ledger: &Ledger, merchant: &MerchantId, cart: &CartId, id: u64) {
    ledger.orders.create(&typical(merchant, cart, id)).await.unwrap();
    let wms = format!("order_{:024x}", id);
    let now = Utc::now();
    ledger
        .orders
        .update(merchant, cart, id, |o| {
            o.wms_order_id = Some(wms.clone());
            o.transition(OrderStatus::AtWms, &format!("accepted by the warehouse as {wms}"), now).unwrap();
        })
        .await
        .unwrap();
    ledger
        .orders
        .update(merchant, cart, id, |o| {
            o.shipments.push(Shipment {
                pick_id: format!("pick_{:024x}", id),
                tracking_code: format!("9400{:018}", id),
                carrier: Some("USPS".into()),
                public_url: Some(format!("https://track.example.com/{id}")),
                tracking_status: "pre_transit".into(),
                tracking_updated_at: None,
                items: vec![("00001".parse().unwrap(), 1), ("00002".parse().unwrap(), 1)],
                shipped_at: now,
                fulfillment_id: Some(id),
            });
            o.transition(OrderStatus::Shipped, "shipment seen at the warehouse", now).unwrap();
            for status in ["in_transit", "out_for_delivery", "delivered"] {
                o.note(&format!("tracker: {status}"), now);
            }
            o.transition(OrderStatus::Confirmed, "tracking uploaded to the cart", now).unwrap();
        })
        .await
        .unwrap();
}

fn merchant_of(n: u64) -> (MerchantId, CartId) {
    (MerchantId::parse(&format!("merchant-{n:02}")).unwrap(), CartId::parse(&format!("merchant-{n:02}-tg")).unwrap())
}

/// `used_memory` once two reads 200 ms apart agree (Redis resizes tables in its cron).
async fn settled_memory(conn: &mut RedisConn) -> i64 {
    let mut last = used_memory(conn).await;
    for _ in 0..25 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let now = used_memory(conn).await;
        if now == last {
            break;
        }
        last = now;
    }
    last
}

/// The control: what a fresh redis-server keeps of its own after holding as many keys as the
/// ledger round and losing them all, without cartgate (plain `SET`s, then `DEL`s).
async fn redis_alone() {
    let redis = TestRedis::start(false, None).unwrap();
    let mut conn = RedisConn::standalone(redis.url()).unwrap();
    let start = settled_memory(&mut conn).await;
    let keys = ORDERS * 5;
    for chunk in (0..keys).collect::<Vec<_>>().chunks(1000) {
        let mut set = redis::pipe();
        chunk.iter().for_each(|n| {
            set.set(format!("k:{n}"), "x".repeat(100)).ignore();
        });
        let () = set.query_async(&mut conn).await.unwrap();
    }
    for chunk in (0..keys).collect::<Vec<_>>().chunks(1000) {
        let names: Vec<String> = chunk.iter().map(|n| format!("k:{n}")).collect();
        let _: i64 = redis::cmd("DEL").arg(&names).query_async(&mut conn).await.unwrap();
    }
    let end = settled_memory(&mut conn).await;
    println!(
        "  control, Redis alone on a fresh server: {keys} keys set then deleted: used_memory {start} B -> {end} B, \
         {:+.1}% ({} B Redis keeps for itself)",
        (end - start) as f64 / start as f64 * 100.0,
        end - start
    );
}

#[tokio::main]
async fn main() {
    let redis = TestRedis::start(false, None).unwrap();
    let mut conn = RedisConn::standalone(redis.url()).unwrap();
    let ledger = Ledger::new(Arc::new(RedisKv::new(conn.clone(), &unique_prefix())));
    println!(
        "ledger memory: {ORDERS} finished orders of {MERCHANTS} merchants, then retention {} days on",
        KEEP_DAYS + 1
    );
    // Round 1 starts on an empty server; round 2 on one that has held 10,000 orders before
    // (Redis keeps some tables sized for the largest keyspace it had).
    for round in 1..=2 {
        let start = settled_memory(&mut conn).await;
        let allocated_start = memory_field(&mut conn, "allocator_allocated").await;
        futures::stream::iter(0..ORDERS)
            .for_each_concurrent(64, |i| {
                let ledger = &ledger;
                async move {
                    let (m, c) = merchant_of(i % MERCHANTS);
                    finish(ledger, &m, &c, round * 10_000_000 + i).await;
                }
            })
            .await;
        let full = used_memory(&mut conn).await;
        let per_order = (full - start) as f64 / ORDERS as f64;
        let later = Utc::now() + Duration::days(KEEP_DAYS + 1);
        let mut removed = 0;
        for n in 0..MERCHANTS {
            let (m, _) = merchant_of(n);
            loop {
                let gone = ledger.orders.remove_finished(&m, later - Duration::days(KEEP_DAYS), 500).await.unwrap();
                removed += gone;
                if gone == 0 {
                    break;
                }
            }
        }
        let end = settled_memory(&mut conn).await;
        let allocated_end = memory_field(&mut conn, "allocator_allocated").await;
        let keys: i64 = redis::cmd("DBSIZE").query_async(&mut conn).await.unwrap();
        let back = (end - start) as f64 / start as f64 * 100.0;
        println!(
            "  round {round}: used_memory {start} B -> {full} B: {per_order:.0} B per finished order; \
             {removed} removed, {keys} keys left: {end} B, {back:+.1}% against the start \
             (jemalloc's allocated bytes {allocated_start} B -> {allocated_end} B, {:+.1}%)",
            (allocated_end - allocated_start) as f64 / allocated_start as f64 * 100.0
        );
    }

    redis_alone().await;

    let numbers: HashMap<Slot, u16> = (0..16384).map(|n| (Slot::new(n).unwrap(), n)).collect();
    let mut per_primary = [0u32; 3];
    for n in 0..1000 {
        let slot = numbers[&Slot::for_key(format!("cartgate:{{m:merchant-{n:04}}}:ix:orders"))];
        per_primary[match slot {
            0..=5460 => 0,
            5461..=10922 => 1,
            _ => 2,
        }] += 1;
    }
    let mean = 1000.0 / 3.0;
    let max = *per_primary.iter().max().unwrap() as f64;
    println!("cluster spread: 1,000 merchants over 3 primaries {per_primary:?}: max/mean {:.3}", max / mean);
}
