//! The story's Shopify store, beside the TradeGecko cart: its cancel step, and what the report
//! reads from the Shopify simulator — fulfillments against the warehouse's picks, the levels
//! the inventory sync wrote, the THROTTLED answers cartgate's pacing ran into.

use anyhow::{Context, ensure};

use super::carts::{Cart, OrderKey};
use super::pickup::picks_of;
use super::report::{OrderOutcome, Role, ShopCounts};
use super::scenario::Ctx;
use super::world::{ITEMS, World};
use crate::domain::OrderStatus;
use crate::sim::seed;
use crate::testkit::shopify::ShopifyStore;

/// The GraphQL mutation that writes Shopify's stock.
const INVENTORY_WRITE: &str = "inventorySetQuantities";

/// The demo's Shopify store (the demo's world always has one).
pub fn store(world: &World) -> anyhow::Result<&ShopifyStore> {
    world.shop().context("the demo's world has no Shopify store")
}

/// Step: a delivered Shopify order is cancelled in Shopify; `orders/cancelled` reaches cartgate,
/// which cancels the warehouse order.
pub async fn cancel_after_sending(cx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let regular: Vec<OrderKey> = cx.ids(Role::Regular).into_iter().filter(|(c, _)| *c == Cart::Shopify).collect();
    let key = *regular.first().context("no regular Shopify order to cancel")?;
    cx.roles.insert(key, Role::Voided);
    store(cx.world)?.sim.cancel_order(key.1)?;
    let number = cx.watch.get(key).map(|o| o.order_number.clone()).unwrap_or_default();
    cx.progress.action(&format!("Shopify: {number} cancelled (signed orders/cancelled webhook)"));
    cx.wait(&[key], OrderStatus::Canceled).await?;
    let wms_id = cx.watch.get(key).and_then(|o| o.wms_order_id.clone()).context("no warehouse order id")?;
    let at_wms = cx.world.ep.order(&wms_id).map(|o| o["status"].clone()).unwrap_or_default();
    ensure!(at_wms == "cancelled", "warehouse order {wms_id} is {at_wms}, not cancelled");
    cx.progress.ok(&format!("the webhook cancelled warehouse order {wms_id}"));
    Ok(())
}

/// Shopify fulfillments of `key` (0 for a TradeGecko order).
pub fn fulfillments_of(cx: &Ctx<'_>, key: OrderKey) -> usize {
    match (key.0, store(cx.world)) {
        (Cart::Shopify, Ok(shop)) => shop.sim.fulfillments(key.1).len(),
        _ => 0,
    }
}

/// Shopify orders among `keys` whose fulfillments are not one per warehouse pick, described.
pub fn fulfillments_off(cx: &Ctx<'_>, keys: &[OrderKey]) -> anyhow::Result<Vec<String>> {
    let sim = &store(cx.world)?.sim;
    let off = keys.iter().filter(|(cart, _)| *cart == Cart::Shopify).filter_map(|key| {
        let number = cx.watch.get(*key)?.order_number.clone();
        let (made, picks) = (sim.fulfillments(key.1).len(), picks_of(cx, &number));
        (made != picks).then(|| format!("{number}: {made} fulfillments for {picks} picks"))
    });
    Ok(off.collect())
}

/// "SKU-0003 Shopify 97 / warehouse 95" for every catalogue item whose `available` at the
/// cart's location differs from the warehouse's stock.
pub fn stock_differences(cx: &Ctx<'_>) -> Vec<String> {
    let Ok(shop) = store(cx.world) else { return vec!["no Shopify store".to_owned()] };
    let warehouse = cx.world.ep.stock();
    let on_hand = |barcode: &str| {
        warehouse.iter().find(|s| s["barcode"] == barcode).and_then(|s| s["on_hand"].as_i64()).unwrap_or(0)
    };
    (1..=ITEMS)
        .filter_map(|n| {
            let sku = seed::sku(n);
            let available = shop.sim.level(&sku).map_or(0, |l| l.available);
            let wms = on_hand(&seed::barcode(n));
            (available != wms).then(|| format!("{sku} Shopify {available} / warehouse {wms}"))
        })
        .collect()
}

/// Inventory writes Shopify has received so far (answered or throttled).
pub fn inventory_writes(cx: &Ctx<'_>) -> usize {
    store(cx.world).map_or(0, |s| s.sim.calls_of(INVENTORY_WRITE))
}

/// What the Shopify simulator saw, against the story's Shopify orders.
pub fn counts(cx: &Ctx<'_>, orders: &[OrderOutcome]) -> ShopCounts {
    let Ok(shop) = store(cx.world) else { return ShopCounts::default() };
    let ours: Vec<&OrderOutcome> = orders.iter().filter(|o| o.cart == Cart::Shopify).collect();
    let made = |o: &OrderOutcome| shop.sim.fulfillments(o.cart_order_id).len();
    ShopCounts {
        orders: ours.len(),
        fulfillments: ours.iter().map(|o| made(o)).sum(),
        picks: ours.iter().map(|o| picks_of(cx, &o.order_number)).sum(),
        extra_fulfillments: ours.iter().map(|o| made(o).saturating_sub(picks_of(cx, &o.order_number))).sum(),
        inventory_writes: inventory_writes(cx),
        throttled: shop.sim.throttled(),
        stock_differences: stock_differences(cx),
    }
}
