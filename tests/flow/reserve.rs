//! The cart's inventory reserve and locations: the cart sells what the chosen warehouses hold
//! less the reserve, and held orders are released only against that.

use std::time::Duration;

use cartgate::domain::OrderStatus;
use cartgate::settings::CartInventory;
use cartgate::sim::easypost::InventoryItem;
use cartgate::sim::seed;
use cartgate::sim::tradegecko::{NewLine, NewOrder};

use crate::support::{Flow, Options, eventually, start};

const SYNC: &str = "sync_inventory:acme";

fn inventory(reserve: u32, locations: &[&str]) -> Option<CartInventory> {
    Some(CartInventory {
        reserve,
        locations: locations.iter().map(|l| (*l).to_owned()).collect(),
        ..CartInventory::default()
    })
}

fn cart_stock(flow: &Flow, n: usize) -> i64 {
    flow.tg.stock_on_hand(flow.tg.variant_id(&seed::sku(n)).unwrap(), flow.tg.location_id())
}

fn level(n: usize, warehouse: &str, quantity: i64) -> InventoryItem {
    InventoryItem { barcode: seed::barcode(n), quantity, warehouse_id: Some(warehouse.into()) }
}

/// Sets the warehouse's levels, syncs, and waits until the cart's stock of items 1 and 2 is
/// `want` (or the time runs out); returns what the cart has.
async fn sync_to(flow: &Flow, levels: &[InventoryItem], want: (i64, i64)) -> (i64, i64) {
    assert!(flow.wait_recurring_idle(SYNC, Duration::from_secs(30)).await);
    flow.ep.set_inventory(levels).unwrap();
    assert_eq!(flow.post_admin("/admin/merchants/acme/sync/inventory").await, 202);
    eventually(Duration::from_secs(30), || async { (cart_stock(flow, 1), cart_stock(flow, 2)) == want }).await;
    (cart_stock(flow, 1), cart_stock(flow, 2))
}

#[tokio::test]
async fn with_a_reserve_of_two_the_cart_gets_the_warehouse_count_less_two_and_never_below_zero() {
    let flow = start(Options { inventory: inventory(2, &[]), ..Options::default() }).await;
    let got = sync_to(&flow, &[level(1, "wh_sim_east", 5), level(2, "wh_sim_east", 1)], (3, 0)).await;
    assert_eq!(got, (3, 0));
    assert_eq!(cart_stock(&flow, 3), 1000 - 2, "the reserve applies to every product");
}

#[tokio::test]
async fn with_locations_only_those_warehouses_are_summed() {
    let flow = start(Options { inventory: inventory(1, &["wh_sim_west"]), ..Options::default() }).await;
    let levels = [level(1, "wh_sim_east", 5), level(1, "wh_sim_west", 4), level(2, "wh_sim_east", 7)];
    let got = sync_to(&flow, &levels, (3, 0)).await;
    assert_eq!(got, (3, 0), "west's 4 less the reserve; item 2 is only in the east");
}

#[tokio::test]
async fn a_held_order_is_released_early_only_against_the_stock_left_after_the_reserve() {
    let flow = start(Options { warehouse_stock: 3, inventory: inventory(2, &[]), ..Options::default() }).await;
    assert!(flow.wait_recurring_idle(SYNC, Duration::from_secs(30)).await);
    let lines = vec![NewLine { sku: Some(seed::sku(2)), quantity: 5, ..Default::default() }];
    let id = flow.tg.create_order(NewOrder { lines, ..Default::default() }).unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::OnHold, Duration::from_secs(20)).await.is_empty());
    // Parked until the daily release: a duplicate import (`order.finalized` right after
    // `order.create`) may have asked for one more try, which must be over before stock arrives.
    let send = cartgate::store::JobId::parse(&format!("send_order:acme-tg:{id}")).unwrap();
    let parked = eventually(Duration::from_secs(20), || async {
        let job = flow.deps.jobs.job(&send).await.unwrap();
        job.is_some_and(|j| j.state == cartgate::store::JobState::Hold)
    })
    .await;
    assert!(parked, "the held send was not parked");

    // 3 + 3 = 6 units: enough without the reserve, not with it (6 - 2 < 5).
    flow.ep.receive(&seed::barcode(2), None, 3).unwrap();
    assert_eq!(flow.post_admin("/admin/merchants/acme/sync/inventory").await, 202);
    assert!(flow.wait_recurring_idle(SYNC, Duration::from_secs(30)).await);
    let held = flow.order(id).await.unwrap();
    assert_eq!(held.status(), OrderStatus::OnHold, "{:?}", held.timeline());
    assert!(flow.ep.orders().is_empty());

    // One more: 7 - 2 = 5 units, the order fits.
    flow.ep.receive(&seed::barcode(2), None, 1).unwrap();
    assert_eq!(flow.post_admin("/admin/merchants/acme/sync/inventory").await, 202);
    let pending = flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(30)).await;
    assert!(pending.is_empty(), "not released: {pending:?}");
    assert_eq!(flow.ep.orders().len(), 1);
}
