//! `push_inventory`: make the cart's stock on hand at its stock location equal a snapshot.
//!
//! Stock levels are read-only in TradeGecko; a level is set with a stock adjustment of signed
//! deltas. The current levels are read just before writing, variants already right are left
//! alone, and when nothing differs no call is made. All lines go in one adjustment (chunked
//! only above [`MAX_LINES`]) whose `Idempotency-Key` names the cart, the snapshot and the exact
//! deltas: a retry after a timeout that did land re-reads the levels and finds nothing to do,
//! one that did not land sends the same deltas under the same key.
//!
//! Shopify sets absolute levels with the level read as `changeFromQuantity`: when the level
//! moved in between (a sale), the write is refused as stale ([`is_stale_level`]) and nothing is
//! written. The levels are then read again and the write retried once under a new key (its
//! input differs); stale a second time, the lines are left for the next sync and counted
//! (`cartgate_inventory_lines_total{result="stale"}`).

use crate::cart::{Cart, is_stale_level};
use crate::domain::{CartId, CartItem, StockAdjustment, StockLine};
use crate::jobs::{self, PushInventory};
use crate::ledger::Snapshot;
use crate::store::ClaimedJob;
use crate::workers::Outcome;
use crate::workflows::counters::INVENTORY_LINES;
use crate::workflows::{Deps, payload, retry_or_give_up, store_failed};

/// Lines per stock adjustment.
const MAX_LINES: usize = 500;

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    push(deps, job).await.unwrap_or_else(|o| o)
}

async fn push(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: PushInventory = payload(job)?;
    let (merchant, cart) = &deps.cart(p.cart.as_str()).await?;
    let Some(location) = cart.stock_location() else {
        return Ok(Outcome::Permanent(format!("cart `{}` has no stock_location_id", cart.id)));
    };
    let snap = deps.ledger.inventory.latest(&merchant.id, &cart.id).await.map_err(store_failed)?;
    let Some(snap) = snap.filter(|s| s.hash == p.snapshot) else {
        tracing::debug!(cart = %cart.id, snapshot = %p.snapshot, "inventory snapshot superseded");
        return Ok(Outcome::Done);
    };
    let api = deps.cart_api(cart)?;
    let ids: Vec<u64> = snap.levels.keys().copied().collect();
    let items = api.items(&ids).await.map_err(retry_or_give_up)?;
    let lines = differing(&items, &snap, location);
    for (n, chunk) in lines.chunks(MAX_LINES).enumerate() {
        let adjustment = StockAdjustment {
            location,
            reason: cart.inventory.adjustment_reason,
            notes: notes(&snap, n, lines.len()),
            lines: chunk.to_vec(),
        };
        let key = jobs::stock_adjustment_key(&cart.id, &snap.hash, chunk.iter().map(|l| (l.variant_id, l.delta())));
        match api.adjust_stock(&adjustment, &key).await {
            Ok(()) => metrics::counter!(INVENTORY_LINES, "result" => "adjusted").increment(chunk.len() as u64),
            Err(e) if is_stale_level(&e) => reread_once(api.as_ref(), &cart.id, adjustment, &snap).await?,
            Err(e) => return Err(retry_or_give_up(e)),
        }
    }
    Ok(Outcome::Done)
}

/// The lines whose level in the cart differs from the snapshot's.
fn differing(items: &[CartItem], snap: &Snapshot, location: i64) -> Vec<StockLine> {
    items
        .iter()
        .filter_map(|v| {
            let line = StockLine {
                variant_id: v.variant_id,
                seen: v.on_hand_at(location),
                target: *snap.levels.get(&v.variant_id)?,
            };
            (line.delta() != 0).then_some(line)
        })
        .collect()
}

/// A stale write: read these lines' levels again and write once more under a key of its own
/// (the first key's answer is Shopify's to replay, even when the levels read are the same);
/// stale again, leave them to the next sync.
async fn reread_once(api: &dyn Cart, cart: &CartId, stale: StockAdjustment, snap: &Snapshot) -> Result<(), Outcome> {
    let ids: Vec<u64> = stale.lines.iter().map(|l| l.variant_id).collect();
    let items = api.items(&ids).await.map_err(retry_or_give_up)?;
    let lines = differing(&items, snap, stale.location);
    if lines.is_empty() {
        return Ok(());
    }
    let count = lines.len() as u64;
    let reread = StockAdjustment { lines, ..stale };
    let deltas = reread.lines.iter().map(|l| (l.variant_id, l.delta()));
    let key = format!("{}:reread", jobs::stock_adjustment_key(cart, &snap.hash, deltas));
    match api.adjust_stock(&reread, &key).await {
        Ok(()) => metrics::counter!(INVENTORY_LINES, "result" => "adjusted").increment(count),
        Err(e) if is_stale_level(&e) => {
            tracing::info!(snapshot = %snap.hash, lines = count, "stock moved in the cart twice during the sync; left for the next one");
            metrics::counter!(INVENTORY_LINES, "result" => "stale").increment(count);
        }
        Err(e) => return Err(retry_or_give_up(e)),
    }
    Ok(())
}

fn notes(snap: &Snapshot, chunk: usize, lines: usize) -> String {
    let part = if lines > MAX_LINES { format!(", part {}", chunk + 1) } else { String::new() };
    format!(
        "cartgate: stock set to the warehouse's inventory as of {} (snapshot {}{part})",
        snap.taken_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        snap.hash
    )
}
