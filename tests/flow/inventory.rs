//! Workflows 3 and 4 for inventory: the warehouse's stock becomes the cart's stock on hand in
//! one adjustment per change, and held orders go out as soon as a sync shows their stock.

use std::time::Duration;

use cartgate::domain::OrderStatus;
use cartgate::sim::easypost::InventoryItem;
use cartgate::sim::seed;
use cartgate::sim::tradegecko::{NewLine, NewOrder};

use crate::support::{Flow, Options, eventually, start};

const SYNC: &str = "sync_inventory:acme";

/// Warehouse totals after the change: item `n` split over both warehouses.
fn wms_total(n: usize) -> i64 {
    (n as i64 * 7) % 40 + (n as i64) % 5
}

fn mapped_stock_matches(flow: &Flow, items: usize) -> bool {
    let loc = flow.tg.location_id();
    (1..=items).all(|n| flow.tg.stock_on_hand(flow.tg.variant_id(&seed::sku(n)).unwrap(), loc) == wms_total(n))
}

#[tokio::test]
async fn a_sync_sets_the_cart_stock_to_the_warehouse_totals_in_one_adjustment_and_an_unchanged_one_sends_nothing() {
    let flow = start(Options { items: 100, ..Options::default() }).await;
    // The first sync runs at start-up: both sides were seeded alike, so it writes nothing.
    assert!(flow.wait_recurring_idle(SYNC, Duration::from_secs(30)).await);
    assert!(flow.tg.stock_adjustments().is_empty(), "{:#?}", flow.tg.stock_adjustments());

    let mut items = Vec::new();
    for n in 1..=100 {
        let east = (n as i64 * 7) % 40;
        items.push(InventoryItem {
            barcode: seed::barcode(n),
            quantity: east,
            warehouse_id: Some("wh_sim_east".into()),
        });
        let west = n as i64 % 5;
        items.push(InventoryItem {
            barcode: seed::barcode(n),
            quantity: west,
            warehouse_id: Some("wh_sim_west".into()),
        });
    }
    // A product the cart has no variant for is skipped, not an error.
    items.push(InventoryItem { barcode: "NOT-IN-THE-CART".into(), quantity: 9, warehouse_id: None });
    flow.ep.set_inventory(&items).unwrap();
    assert_eq!(flow.post_admin("/admin/merchants/acme/sync/inventory").await, 202);
    assert!(
        eventually(Duration::from_secs(30), || async { mapped_stock_matches(&flow, 100) }).await,
        "cart stock is not the warehouse's: {:?} {:#?}",
        (1..=5)
            .map(|n| (
                flow.tg.stock_on_hand(flow.tg.variant_id(&seed::sku(n)).unwrap(), flow.tg.location_id()),
                wms_total(n)
            ))
            .collect::<Vec<_>>(),
        flow.tg.stock_adjustments().iter().map(|a| a["stock_adjustment"].clone()).collect::<Vec<_>>()
    );
    let adjustments = flow.tg.stock_adjustments();
    assert_eq!(adjustments.len(), 1, "one adjustment for the whole snapshot");
    let lines = adjustments[0]["stock_adjustment_line_items"].as_array().unwrap();
    assert_eq!(lines.len(), 100);
    let notes = adjustments[0]["stock_adjustment"]["notes"].as_str().unwrap_or_default();
    assert!(notes.contains("cartgate"), "{notes}");
    assert_eq!(adjustments[0]["stock_adjustment"]["reason"], "shrinkage", "a documented reason, the default");

    assert_eq!(flow.post_admin("/admin/merchants/acme/sync/inventory").await, 202);
    assert!(flow.wait_recurring_idle(SYNC, Duration::from_secs(30)).await);
    assert_eq!(flow.tg.stock_adjustments().len(), 1, "nothing changed, nothing sent");
    assert_eq!(flow.tg.record().count("POST /stock_adjustments"), 1);
    assert!(mapped_stock_matches(&flow, 100));
    assert_eq!(flow.deps.jobs.depths().await.unwrap().dead, 0);
}

fn held_order(flow: &Flow, units: i64) -> u64 {
    let lines = vec![NewLine { sku: Some(seed::sku(2)), quantity: units, ..Default::default() }];
    flow.tg.create_order(NewOrder { lines, ..Default::default() }).unwrap()
}

#[tokio::test]
async fn a_held_order_is_sent_right_after_a_sync_brings_its_stock_and_only_as_many_as_the_stock_fills() {
    let flow = start(Options { warehouse_stock: 3, ..Options::default() }).await;
    assert!(flow.wait_recurring_idle(SYNC, Duration::from_secs(30)).await);
    let first = held_order(&flow, 5);
    assert!(flow.wait_all(&[first], OrderStatus::OnHold, Duration::from_secs(20)).await.is_empty());
    let second = held_order(&flow, 5);
    assert!(flow.wait_all(&[second], OrderStatus::OnHold, Duration::from_secs(20)).await.is_empty());

    // 3 + 4 = 7 units: enough for the older order, not for both.
    flow.ep.receive(&seed::barcode(2), None, 4).unwrap();
    assert_eq!(flow.post_admin("/admin/merchants/acme/sync/inventory").await, 202);
    let pending = flow.wait_all(&[first], OrderStatus::AtWms, Duration::from_secs(30)).await;
    assert!(pending.is_empty(), "the older held order was not released: {pending:?}");
    assert!(flow.wait_recurring_idle(SYNC, Duration::from_secs(30)).await);
    let still = flow.order(second).await.unwrap();
    assert_eq!(still.status(), OrderStatus::OnHold, "{:?}", still.timeline());
    assert_eq!(flow.ep.orders().len(), 1, "only the order the stock fills went out");
    let released = flow.order(first).await.unwrap();
    assert!(released.timeline().iter().any(|t| t.reason.contains("released early")), "{:?}", released.timeline());
}

#[tokio::test]
async fn a_stock_adjustment_whose_answer_is_lost_is_not_sent_twice() {
    let flow = start(Options::default()).await;
    assert!(flow.wait_recurring_idle(SYNC, Duration::from_secs(30)).await);
    flow.tg.set_faults(cartgate::sim::faults::FaultConfig {
        reset_rate: 1.0,
        reset_after_handler: true,
        method: Some("POST".into()),
        path_contains: Some("/stock_adjustments".into()),
        ..Default::default()
    });
    let items: Vec<InventoryItem> = (1..=10)
        .map(|n| InventoryItem { barcode: seed::barcode(n), quantity: wms_total(n), warehouse_id: None })
        .collect();
    flow.ep.set_inventory(&items).unwrap();
    assert_eq!(flow.post_admin("/admin/merchants/acme/sync/inventory").await, 202);
    assert!(eventually(Duration::from_secs(30), || async { mapped_stock_matches(&flow, 10) }).await);
    // The retry re-reads the levels, finds them right and sends nothing.
    let snap = flow
        .deps
        .ledger
        .inventory
        .latest(&cartgate::domain::MerchantId::parse("acme").unwrap(), &flow.cart())
        .await
        .unwrap()
        .unwrap();
    let push = vec![format!("push_inventory:acme-tg:{}", snap.hash)];
    assert!(eventually(Duration::from_secs(30), || flow.no_pending(&push)).await, "the push did not finish");
    assert_eq!(flow.tg.stock_adjustments().len(), 1);
    assert_eq!(flow.tg.record().count("POST /stock_adjustments"), 1);
}
