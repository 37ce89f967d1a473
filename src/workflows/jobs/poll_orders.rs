//! `poll_orders`: the backstop order download (TradeGecko sends no webhook for edits or voids,
//! and deletes webhooks after 3 days of failures).
//!
//! Reads the orders updated since a cursor (minus an overlap, so an order updated while the
//! previous poll was paging is not missed) and enqueues an import for each; imports are
//! idempotent, so the overlap costs one cheap read per order, never a duplicate.

use chrono::Duration;

use crate::jobs::{CartTask, ImportOrder};
use crate::store::{ClaimedJob, OnExisting, When};
use crate::workers::Outcome;
use crate::workflows::{Deps, payload, retry_or_give_up, store_failed};

/// Re-read this much before the cursor.
const OVERLAP: Duration = Duration::minutes(5);
/// A cart seen for the first time is read this far back.
const FIRST_LOOKBACK: Duration = Duration::days(1);
/// Pages per run; the next run continues from the cursor.
const MAX_PAGES: u32 = 40;

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    poll(deps, job).await.unwrap_or_else(|o| o)
}

async fn poll(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: CartTask = payload(job)?;
    let (_, cart) = &deps.cart(p.cart.as_str()).await?;
    let api = deps.cart_api(cart)?;
    let cursor = deps.ledger.cursors.order_poll(&cart.id).await.map_err(store_failed)?;
    let since = cursor.map(|t| t - OVERLAP).unwrap_or_else(|| deps.now() - FIRST_LOOKBACK);
    let mut newest = since;
    for page in 1..=MAX_PAGES {
        let (orders, more) = api.orders_updated_since(since, page).await.map_err(retry_or_give_up)?;
        for o in &orders {
            let job = ImportOrder { cart: cart.id.clone(), order_id: o.id, trigger: "poll".into() }.job();
            deps.jobs.enqueue(&job, When::Now, OnExisting::Keep).await.map_err(store_failed)?;
            newest = newest.max(o.updated_at.unwrap_or(newest));
        }
        if !more || orders.is_empty() {
            break;
        }
    }
    deps.ledger.cursors.set_order_poll(&cart.id, newest.max(since + OVERLAP)).await.map_err(store_failed)?;
    Ok(Outcome::Done)
}
