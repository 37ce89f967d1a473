//! `prune_ledger`: a merchant's recurring removal of the orders that finished (confirmed,
//! canceled, skipped) longer ago than `ledger.keep_finished_days`, with their index and map
//! entries (`ledger::retention`). Work is bounded: batches of [`BATCH`], at most
//! [`MAX_BATCHES`] a run, every [`EVERY`]; orders in flight are never touched.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::MerchantId;
use crate::jobs::MerchantTask;
use crate::ledger::LedgerError;
use crate::store::ClaimedJob;
use crate::workers::Outcome;
use crate::workflows::{Deps, payload, store_failed};

/// Orders removed per ledger call.
pub const BATCH: usize = 500;
/// Batches one run may take (then the next run goes on).
pub const MAX_BATCHES: usize = 20;
/// How often each merchant's finished orders are looked at.
pub const EVERY: Duration = Duration::from_secs(15 * 60);

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    prune_job(deps, job).await.unwrap_or_else(|o| o)
}

async fn prune_job(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: MerchantTask = payload(job)?;
    let merchant = deps.merchant(p.merchant.as_str()).await?;
    let removed = prune(deps, &merchant.id, deps.now()).await.map_err(store_failed)?;
    if removed > 0 {
        tracing::info!(merchant = %merchant.id, removed, "finished orders past ledger.keep_finished_days removed");
    }
    Ok(Outcome::Done)
}

/// Removes the merchant's orders finished before `now` less `ledger.keep_finished_days`, in
/// batches, at most [`MAX_BATCHES`]; returns how many went. (Tests pass a `now` moved ahead.)
pub async fn prune(deps: &Deps, merchant: &MerchantId, now: DateTime<Utc>) -> Result<usize, LedgerError> {
    let keep = chrono::Duration::days(i64::from(deps.settings.ledger.keep_finished_days));
    let mut removed = 0;
    for _ in 0..MAX_BATCHES {
        let n = deps.ledger.orders.remove_finished(merchant, now - keep, BATCH).await?;
        removed += n;
        if n < BATCH {
            break;
        }
    }
    Ok(removed)
}
