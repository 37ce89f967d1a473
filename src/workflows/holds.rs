//! Releasing held orders: by hand (`POST /admin/merchants/{m}/holds/release`) and the step
//! every release shares, sending chosen orders now.
//!
//! A send the warehouse refuses for inventory writes `on_hold` to the ledger and returns; only
//! then does the pool park its job in the hold set. A release that moved parked jobs alone
//! would miss an order in that window, and the order would wait for the next daily release.
//! So a release by hand
//! 1. records when it happened: a refused send reads this after writing `on_hold`, and if a
//!    release came after its attempt began it tries again at once instead of parking;
//! 2. enqueues a send for every order the ledger has `on_hold`: a parked job moves to due, one
//!    being parked is marked to run again right after (the store's rerun), a missing one is
//!    created;
//! 3. then moves any of the merchant's parked sends left in the hold set.
//!
//! Together they leave no gap: a release that began before the refused send read the record
//! is seen by it; one that began after finds the order `on_hold` in the ledger.

use futures::{StreamExt, TryStreamExt};

use super::Deps;
use crate::domain::{CartId, OrderStatus};
use crate::jobs::SendOrder;
use crate::ledger::LedgerError;
use crate::settings::MerchantSettings;
use crate::store::{ClaimedJob, Enqueued, HoldFilter, OnExisting, StoreError, When};

/// Enqueues in flight at once (the store batches concurrent ones).
const CONCURRENCY: usize = 64;

/// Releases every held order of `merchant`; returns how many sends that made due.
pub async fn release(deps: &Deps, merchant: &MerchantSettings) -> Result<u64, LedgerError> {
    let now = deps.jobs.now().await?;
    deps.ledger.holds.note_released(merchant.id.as_str(), now).await?;
    let held =
        deps.ledger.orders.in_status(&merchant.id, OrderStatus::OnHold, |c| merchant.has_cart(c), usize::MAX).await?;
    // The ledger's orders first, so each counts once (a parked job moves, one being parked is
    // marked); then any parked send the ledger does not show as held.
    let sent = send_now(deps, held).await?;
    let prefixes = merchant.carts.iter().map(|c| SendOrder::id_prefix(&c.id)).collect();
    Ok(sent + deps.jobs.release_holds(&HoldFilter::IdPrefixes(prefixes)).await?)
}

/// Makes each order's send due now, whatever its job is doing; returns how many were not due
/// already (moved from the hold set or a later time, marked to run again, or created).
pub async fn send_now(deps: &Deps, orders: Vec<(CartId, u64)>) -> Result<u64, StoreError> {
    let results: Vec<Enqueued> = futures::stream::iter(orders)
        .map(|(cart, order_id)| async move {
            let job = SendOrder { cart, order_id }.job();
            deps.jobs.enqueue(&job, When::Now, OnExisting::MoveEarlier).await
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    Ok(results.iter().filter(|e| !matches!(e, Enqueued::AlreadyPending)).count() as u64)
}

/// Whether the merchant's holds were released by hand since `job`'s attempt began.
pub async fn released_during(deps: &Deps, merchant: &str, job: &ClaimedJob) -> Result<bool, StoreError> {
    Ok(deps.ledger.holds.released_at(merchant).await?.is_some_and(|at| at >= job.claimed_at))
}
