//! `poll_orders`: the backstop order download (TradeGecko sends no webhook for edits or voids,
//! and deletes webhooks after 3 days of failures).
//!
//! Reads the orders updated since a cursor (minus an overlap, so an order updated while the
//! previous poll was paging is not missed) and enqueues an import for each; imports are
//! idempotent, so the overlap costs one cheap read per order, never a duplicate.
//!
//! The first run of a cart reads from the cart's `filters.created_after` (midnight UTC) when it
//! is set, else one day back; where it started is recorded once (`cart_start`), and is the
//! cart's `created_after` when it sets none — one day before the cart was added, as near as
//! cartgate knows (its first poll follows the cart's creation).

use chrono::{DateTime, Duration, Utc};

use crate::jobs::{CartTask, ImportOrder};
use crate::settings::CalendarDate;
use crate::store::{ClaimedJob, OnExisting, When};
use crate::workers::Outcome;
use crate::workflows::{Deps, payload, retry_or_give_up, store_failed};

/// Re-read this much before the cursor.
const OVERLAP: Duration = Duration::minutes(5);
/// A cart seen for the first time, without `created_after`, is read this far back.
const FIRST_LOOKBACK: Duration = Duration::days(1);
/// Pages per run; the next run continues from the cursor.
const MAX_PAGES: u32 = 40;

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    poll(deps, job).await.unwrap_or_else(|o| o)
}

async fn poll(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: CartTask = payload(job)?;
    let (merchant, cart) = &deps.cart(p.cart.as_str()).await?;
    let api = deps.cart_api(cart)?;
    let cursor = deps.ledger.cursors.order_poll(&merchant.id, &cart.id).await.map_err(store_failed)?;
    let since = cursor.map(|t| t - OVERLAP).unwrap_or_else(|| first_since(cart.filters.created_after, deps.now()));
    if cursor.is_none() {
        // The default `created_after` of a cart that sets none: one day before it was added.
        deps.ledger.cursors.set_cart_start_once(&merchant.id, &cart.id, since).await.map_err(store_failed)?;
    }
    let mut newest = since;
    let mut after: Option<String> = None;
    for _ in 1..=MAX_PAGES {
        let (orders, next) = api.orders_updated_since(since, after.as_deref()).await.map_err(retry_or_give_up)?;
        for o in &orders {
            let job = ImportOrder { cart: cart.id.clone(), order_id: o.id, trigger: "poll".into() }.job();
            deps.jobs.enqueue(&job, When::Now, OnExisting::Keep).await.map_err(store_failed)?;
            newest = newest.max(o.updated_at.unwrap_or(newest));
        }
        match next {
            Some(token) if !orders.is_empty() => after = Some(token),
            _ => break,
        }
    }
    deps.ledger
        .cursors
        .set_order_poll(&merchant.id, &cart.id, newest.max(since + OVERLAP))
        .await
        .map_err(store_failed)?;
    Ok(Outcome::Done)
}

/// Where a cart's first download starts: its `created_after`, else one day back.
fn first_since(created_after: Option<CalendarDate>, now: DateTime<Utc>) -> DateTime<Utc> {
    created_after.and_then(|day| day.0.and_hms_opt(0, 0, 0)).map_or(now - FIRST_LOOKBACK, |t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    #[test]
    fn the_first_download_starts_at_created_after_else_one_day_back() {
        let now = Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap();
        assert_eq!(first_since(None, now), now - Duration::days(1));
        let day = CalendarDate(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        assert_eq!(first_since(Some(day), now), Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    }
}
