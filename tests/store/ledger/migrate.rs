//! `cartgate migrate` on a store written by the previous release (`tests/data/store-v1.jsonl`,
//! made by `tests/data/store-v1.make.rs` at main@2ab779d), in a fresh `redis-server`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cartgate::domain::{CartId, MerchantId, Order, OrderStatus};
use cartgate::ledger::layout::{self, Unmigrated};
use cartgate::ledger::orders::parse_member;
use cartgate::ledger::redis_kv::RedisKv;
use cartgate::ledger::{Ledger, OrderFilter, migrate};
use cartgate::store::redis::RedisConn;
use cartgate::testkit::{TestRedis, dump};
use chrono::DateTime;
use serde_json::Value;

const FIXTURE: &str = include_str!("../../data/store-v1.jsonl");
const PREFIX: &str = "cartgate";

fn owners() -> HashMap<String, String> {
    [("acme-tg", "acme"), ("beta-tg", "beta")].into_iter().map(|(c, m)| (c.to_owned(), m.to_owned())).collect()
}

/// A fresh server holding the fixture.
async fn fixture() -> (TestRedis, RedisConn, BTreeMap<String, Value>) {
    let server = TestRedis::start(false, None).unwrap();
    let mut conn = RedisConn::standalone(server.url()).unwrap();
    assert_eq!(dump::load(&mut conn, FIXTURE).await.unwrap(), FIXTURE.lines().count());
    let before = dump::dump(&mut conn, "*").await.unwrap();
    (server, conn, before)
}

fn merchant(id: &str) -> MerchantId {
    MerchantId::parse(id).unwrap()
}

#[tokio::test]
async fn a_store_of_the_previous_release_migrates_with_every_order_alias_cursor_and_queued_job() {
    let (_server, mut conn, before) = fixture().await;
    assert_eq!(layout::ensure_current(&conn, PREFIX).await.unwrap(), Err(Unmigrated::PreviousLayout));

    let report = migrate::run(&conn, PREFIX, owners()).await.unwrap();
    assert_eq!(report.orders, 22);
    assert!(report.left.is_empty(), "{:?}", report.left);
    let after = dump::dump(&mut conn, "*").await.unwrap();
    let relative = |k: &str| k.strip_prefix("cartgate:").unwrap().to_owned();
    let old: Vec<&String> = after.keys().filter(|k| layout::is_previous_layout(&relative(k))).collect();
    assert!(old.is_empty(), "previous-layout keys left: {old:?}");
    assert_eq!(after["cartgate:ledger_layout"]["value"], "2");

    // The queue is not the ledger's: every job, due index and partition key byte for byte.
    let queue: Vec<&String> = before.keys().filter(|k| k.starts_with("cartgate:{p")).collect();
    assert_eq!(queue.iter().filter(|k| k.contains(":job:")).count(), 6, "the fixture's queued jobs");
    for k in queue {
        assert_eq!(after.get(k), before.get(k), "{k}");
    }

    let ledger = Ledger::new(Arc::new(RedisKv::new(conn.clone(), PREFIX)));
    let mut orders = Vec::new();
    for (k, v) in &before {
        let Some(m) = k.strip_prefix("cartgate:{ledger}:order:") else { continue };
        let (cart, id) = parse_member(m).unwrap();
        let was: Order = serde_json::from_str(v["value"]["d"].as_str().unwrap()).unwrap();
        let now = ledger.orders.get(&was.merchant, &cart, id).await.unwrap();
        assert_eq!(now.as_ref(), Some(&was), "{k}");
        let held = ledger.orders.with_status(&was.merchant, was.status(), 0, 100).await.unwrap();
        assert!(held.contains(&m.to_owned()), "{k} in its status index");
        if let Some(wms) = &was.wms_order_id {
            assert_eq!(ledger.orders.by_wms_order(was.merchant.as_str(), wms).await.unwrap(), Some((cart.clone(), id)));
        }
        for s in &was.shipments {
            let found = ledger.orders.by_tracking_code(was.merchant.as_str(), &s.tracking_code).await.unwrap();
            assert_eq!(found, Some((cart.clone(), id)));
        }
        orders.push(was);
    }
    assert_eq!(orders.len(), 22);

    // The merged listing: every order once, by creation time, ties by `<cart>:<id>`.
    orders.sort_by_key(|o| (o.created_at, o.cart.to_string(), o.cart_order_id));
    let (mut listed, mut cursor) = (Vec::new(), None);
    loop {
        let (page, next) = ledger
            .orders
            .list(&[merchant("acme"), merchant("beta")], &OrderFilter::default(), 5, cursor)
            .await
            .unwrap();
        listed.extend(page);
        if next.is_none() {
            break;
        }
        cursor = next;
    }
    assert_eq!(listed, orders, "oldest first, no gaps, no repeats");

    // Aliases, waiting orders, cursors, caches, watch list, ship methods, audit.
    for (m, cart) in [("acme", "acme-tg"), ("beta", "beta-tg")] {
        let (id, cart_id) = (merchant(m), CartId::parse(cart).unwrap());
        let aliases: BTreeMap<String, String> = ledger.aliases.map(m).await.unwrap().into_iter().collect();
        let was: BTreeMap<String, String> =
            serde_json::from_value(before[&format!("cartgate:aliases:{m}")]["value"].clone()).unwrap();
        assert_eq!(aliases, was);
        assert_eq!(ledger.aliases.awaiting(m).await.unwrap().len(), 1);
        let cursors = &before["cartgate:cursors"]["value"];
        let poll = DateTime::parse_from_rfc3339(cursors[format!("poll_orders:{cart}")].as_str().unwrap()).unwrap();
        assert_eq!(ledger.cursors.order_poll(&id, &cart_id).await.unwrap(), Some(poll.into()));
        let start = DateTime::parse_from_rfc3339(cursors[format!("cart_start:{cart}")].as_str().unwrap()).unwrap();
        assert_eq!(ledger.cursors.cart_start(&id, &cart_id).await.unwrap(), Some(start.into()));
        assert!(ledger.products.read_at(&id).await.unwrap().is_some());
        assert_eq!(ledger.products.barcodes(&id).await.unwrap().len(), 1);
        assert_eq!(ledger.ship_watch.all(&id).await.unwrap().len(), 1);
        assert_eq!(ledger.ship_methods.awaiting(&id, &cart_id).await.unwrap().len(), 1);
        assert_eq!(ledger.audit.newest(&id, 10).await.unwrap().len(), 1);
        assert_eq!(ledger.holds.released_at(m).await.unwrap(), Some(1_700_000_000_000));
    }

    // Run twice: the same store.
    migrate::run(&conn, PREFIX, owners()).await.unwrap();
    assert_eq!(dump::dump(&mut conn, "*").await.unwrap(), after);
    assert_eq!(layout::ensure_current(&conn, PREFIX).await.unwrap(), Ok(()));
}

/// A crash leaves some orders copied but not removed, a cursor copied but not deleted, a key
/// renamed, and the marker at `migrating`: `serve` refuses, and a rerun ends where a clean run
/// does.
#[tokio::test]
async fn a_migration_interrupted_part_way_converges_when_run_again() {
    let (_clean_server, mut clean, _) = fixture().await;
    migrate::run(&clean, PREFIX, owners()).await.unwrap();
    let reference = dump::dump(&mut clean, "*").await.unwrap();

    let (_server, mut conn, before) = fixture().await;
    let ledger = Ledger::new(Arc::new(RedisKv::new(conn.clone(), PREFIX)));
    for key in ["cartgate:{ledger}:order:acme-tg:5707", "cartgate:{ledger}:order:beta-tg:5710"] {
        let o: Order = serde_json::from_str(before[key]["value"]["d"].as_str().unwrap()).unwrap();
        assert!(ledger.orders.create(&o).await.unwrap());
    }
    let poll = before["cartgate:cursors"]["value"]["poll_orders:acme-tg"].as_str().unwrap();
    let steps = [
        vec!["SET", "cartgate:ledger_layout", "migrating"],
        vec!["HSET", "cartgate:{m:acme}:cursors", "poll_orders:acme-tg", poll],
        vec!["RENAME", "cartgate:aliases:beta", "cartgate:{m:beta}:aliases"],
        vec!["HSET", "cartgate:{m:acme}:aliases", "SKU-1", "0001"],
    ];
    for step in steps {
        redis::cmd(step[0]).arg(&step[1..]).query_async::<()>(&mut conn).await.unwrap();
    }
    assert_eq!(layout::ensure_current(&conn, PREFIX).await.unwrap(), Err(Unmigrated::Migrating));

    migrate::run(&conn, PREFIX, owners()).await.unwrap();
    assert_eq!(dump::dump(&mut conn, "*").await.unwrap(), reference);
    let held = ledger.orders.with_status(&merchant("acme"), OrderStatus::OnHold, 0, 10).await.unwrap();
    assert_eq!(held, ["acme-tg:5702"]);
}
