//! Early hold release: after an inventory sync, held orders the stock can now fill are sent
//! at once instead of at the next daily release.
//!
//! Oldest first (the `on_hold` index is ordered by creation), each released order reserves its
//! units from what is free, so no more is released than the stock can fill. What is free is
//! the WMS quantity as the order's cart sees it (its `inventory.locations`, less its
//! `inventory.reserve`: [`crate::domain::stock`]) minus the units of orders the warehouse
//! accepted and has not shipped yet (`at_wms`), because the WMS counts those on hand until they
//! leave, and minus what orders released before it in this run take.

use std::collections::{BTreeMap, HashMap};

use super::counters::HOLDS_RELEASED_EARLY;
use super::{Deps, holds, store_failed};
use crate::domain::{Barcode, CartId, Order, OrderStatus, SkuPatterns, StockLevels, WarehouseStock};
use crate::settings::MerchantSettings;
use crate::workers::Outcome;

/// Index members read per status per run (bounds the work).
const MAX_READ: usize = 5_000;

/// Releases the merchant's held orders that `stock` can fill, as each order's cart sees it;
/// returns how many.
pub async fn release(deps: &Deps, merchant: &MerchantSettings, stock: &WarehouseStock) -> Result<u64, Outcome> {
    let views: HashMap<&CartId, (StockLevels, &SkuPatterns)> =
        merchant.carts.iter().map(|c| (&c.id, (stock.for_cart(c.inventory.view()), &c.filters.skip_skus))).collect();
    let skip = |o: &Order| views.get(&o.cart).map(|(_, skip)| *skip);
    let mut taken: BTreeMap<Barcode, i64> = BTreeMap::new();
    for order in orders(deps, merchant, OrderStatus::AtWms).await? {
        for (barcode, units) in needs(&order, skip(&order)).unwrap_or_default() {
            *taken.entry(barcode).or_default() += units;
        }
    }
    let mut ids = Vec::new();
    let mut released = Vec::new();
    for order in orders(deps, merchant, OrderStatus::OnHold).await? {
        let Some((view, skip)) = views.get(&order.cart) else { continue };
        let Some(needs) = needs(&order, Some(*skip)) else { continue };
        let free = |b: &Barcode| view.get(b).map(|units| units - taken.get(b).copied().unwrap_or(0));
        if needs.iter().all(|(b, n)| free(b).is_some_and(|f| f >= *n)) {
            for (b, n) in &needs {
                *taken.entry(b.clone()).or_default() += n;
            }
            ids.push((order.cart.clone(), order.cart_order_id));
            released.push(order);
        }
    }
    if ids.is_empty() {
        return Ok(0);
    }
    // Not only parked jobs: one being parked right now runs again (see `holds`).
    let count = holds::send_now(deps, ids).await.map_err(store_failed)?;
    metrics::counter!(HOLDS_RELEASED_EARLY).increment(count);
    let now = deps.now();
    for o in released {
        let noted = deps
            .ledger
            .orders
            .update(&o.merchant, &o.cart, o.cart_order_id, |o| {
                if o.status() == OrderStatus::OnHold {
                    o.note("released early: the inventory sync shows enough stock", now);
                }
            })
            .await;
        noted.map_err(store_failed)?;
    }
    Ok(count)
}

/// Units per barcode an order takes; `None` when a line has no barcode (never translated).
/// Lines of SKUs the cart's item filter skips take nothing: they are never sent.
fn needs(order: &Order, skip: Option<&SkuPatterns>) -> Option<BTreeMap<Barcode, i64>> {
    let mut out = BTreeMap::new();
    for line in order.lines.iter().filter(|l| skip.is_none_or(|s| s.matching(&l.sku).is_none())) {
        *out.entry(line.barcode.clone()?).or_default() += i64::from(line.quantity);
    }
    Some(out)
}

/// The merchant's orders in `status`, oldest first (bounded).
async fn orders(deps: &Deps, merchant: &MerchantSettings, status: OrderStatus) -> Result<Vec<Order>, Outcome> {
    let members = deps
        .ledger
        .orders
        .in_status(&merchant.id, status, |c| merchant.has_cart(c), MAX_READ)
        .await
        .map_err(store_failed)?;
    let mut out = Vec::new();
    for (cart, id) in members {
        if let Some(o) = deps.ledger.orders.get(&merchant.id, &cart, id).await.map_err(store_failed)?
            && o.status() == status
        {
            out.push(o);
        }
    }
    Ok(out)
}
