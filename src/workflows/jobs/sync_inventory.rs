//! `sync_inventory`: read the warehouse's stock and turn it into one snapshot per cart.
//!
//! The WMS `quantity` summed over warehouses is what each mapped variant's `stock_on_hand`
//! becomes (DESIGN.md, "Contract notes") — over the warehouses the cart's
//! `inventory.locations` names (all when none), less its `inventory.reserve`, never below 0
//! ([`crate::domain::stock`]). A variant's barcode is found as delivery finds it
//! ([`crate::domain::barcodes`]): the merchant's alias for its SKU, else its UPC when the
//! cart's `item_field` is `upc`, else its SKU if that is a WMS barcode. Barcodes no variant
//! maps to are counted and skipped. Each cart's snapshot is stored and a `push_inventory`
//! queued (at once when `inventory_upload` is `auto`, else one interval later). Held orders the
//! new stock can fill are released first ([`crate::workflows::release_early`]).

use std::collections::{BTreeMap, HashMap};

use crate::domain::{BarcodeRules, CartItem, ItemCodes, MerchantId, StockLevels};
use crate::jobs::{MerchantTask, PushInventory};
use crate::ledger::Snapshot;
use crate::settings::{CartSettings, Interval};
use crate::store::{ClaimedJob, OnExisting, When};
use crate::workers::Outcome;
use crate::workflows::counters::INVENTORY_LINES;
use crate::workflows::translate::barcode_rules;
use crate::workflows::{Deps, payload, release_early, retry_or_give_up, store_failed};

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    sync(deps, job).await.unwrap_or_else(|o| o)
}

async fn sync(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: MerchantTask = payload(job)?;
    let merchant = &deps.merchant(p.merchant.as_str()).await?;
    if merchant.carts.is_empty() {
        // Nothing to write to and no orders to release: the warehouse is being set up first.
        return Ok(Outcome::Done);
    }
    let stock = deps.easypost(merchant)?.stock_levels().await.map_err(retry_or_give_up)?;
    release_early::release(deps, merchant, &stock).await?;
    let aliases = deps.ledger.aliases.map(merchant.id.as_str()).await.map_err(store_failed)?;
    for cart in &merchant.carts {
        let items = deps.cart_api(cart)?.all_items().await.map_err(retry_or_give_up)?;
        let totals = stock.for_cart(cart.inventory.view());
        let (mut levels, skipped) = levels(&totals, &items, &barcode_rules(&aliases, cart.item_field));
        metrics::counter!(INVENTORY_LINES, "result" => "skipped").increment(skipped as u64);
        if skipped > 0 {
            tracing::info!(cart = %cart.id, skipped, "WMS barcodes the cart has no variant for were skipped");
        }
        let Some(location) = cart.stock_location() else {
            tracing::warn!(cart = %cart.id, "inventory not uploaded: the cart has no stock_location_id");
            continue;
        };
        // Only variants that differ now; push_inventory re-reads them just before writing.
        let by_id: HashMap<u64, &CartItem> = items.iter().map(|v| (v.variant_id, v)).collect();
        levels.retain(|id, units| by_id.get(id).is_none_or(|v| v.on_hand_at(location) != *units));
        if !levels.is_empty() {
            queue_push(deps, &merchant.id, cart, Snapshot::new(&cart.id, levels, deps.now())).await?;
        }
    }
    Ok(Outcome::Done)
}

async fn queue_push(deps: &Deps, merchant: &MerchantId, cart: &CartSettings, snap: Snapshot) -> Result<(), Outcome> {
    deps.ledger.inventory.replace(merchant, &cart.id, &snap).await.map_err(store_failed)?;
    let when = match cart.schedule.inventory_upload {
        Interval::Auto => When::Now,
        Interval::Every(period) => When::After(period),
    };
    let job = PushInventory { cart: cart.id.clone(), snapshot: snap.hash }.job();
    deps.jobs.enqueue(&job, when, OnExisting::Keep).await.map_err(store_failed)?;
    Ok(())
}

/// Target level per variant, and how many WMS barcodes no variant maps to.
pub fn levels(totals: &StockLevels, items: &[CartItem], rules: &BarcodeRules) -> (BTreeMap<u64, i64>, usize) {
    let codes = items.iter().map(|v| (v.variant_id, ItemCodes { sku: v.sku.as_ref(), upc: v.upc.as_ref() }));
    rules.levels(codes, totals)
}
