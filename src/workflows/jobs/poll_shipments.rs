//! `poll_shipments`: the backstop for lost EasyPost events — look at the merchant's orders
//! still waiting for (all) their parcels or their upload, a bounded number per run.
//!
//! The orders watched are kept in the ledger's watch list ([`ShipWatch`](crate::ledger::ShipWatch)),
//! with when each was last checked. Each run adds the merchant's `at_wms` orders, then checks the
//! [`BATCH`] least recently checked (never-checked first), so every order gets its turn
//! however many there are. An order leaves the watch once it is `confirmed` with every unit
//! shipped, cancelled, gone, or older than [`WATCH_DAYS`]. A check is a `check_shipment` job
//! (the same job an event starts, so an event and the poll never check one order twice at once).

use chrono::Duration;

use crate::domain::{Order, OrderStatus};
use crate::jobs::{CheckShipment, MerchantTask};
use crate::ledger::orders::{member, parse_member};
use crate::settings::MerchantSettings;
use crate::store::{ClaimedJob, OnExisting, When};
use crate::workers::Outcome;
use crate::workflows::{Deps, payload, store_failed};

/// Orders checked per run (one WMS read each, paced by the rate limit).
pub const BATCH: usize = 50;
/// `at_wms` index members read per run.
const MAX_READ: usize = 10_000;
/// An order still not fully shipped after this long stops being polled.
const WATCH_DAYS: i64 = 60;

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    poll(deps, job).await.unwrap_or_else(|o| o)
}

async fn poll(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: MerchantTask = payload(job)?;
    let merchant = &deps.merchant(p.merchant.as_str()).await?;
    let list = &deps.ledger.ship_watch;
    let mut watch = list.all(&merchant.id).await.map_err(store_failed)?;
    let fresh: Vec<String> = at_wms(deps, merchant).await?.into_iter().filter(|m| !watch.contains_key(m)).collect();
    list.add(&merchant.id, &fresh).await.map_err(store_failed)?;
    watch.extend(fresh.into_iter().map(|m| (m, 0)));
    let mut turn: Vec<(String, i64)> = watch.into_iter().collect();
    turn.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    let now_ms = job.claimed_at;
    let (mut checked, mut done) = (Vec::new(), Vec::new());
    for (member, _) in turn.into_iter().take(BATCH) {
        let order = match parse_member(&member) {
            Some((cart, id)) => deps.ledger.orders.get(&merchant.id, &cart, id).await.map_err(store_failed)?,
            None => None,
        };
        match order.filter(|o| watched(o, deps)).and_then(|o| o.wms_order_id) {
            Some(wms_order_id) => {
                let job = CheckShipment { merchant: merchant.id.clone(), wms_order_id }.job();
                deps.jobs.enqueue(&job, When::Now, OnExisting::Keep).await.map_err(store_failed)?;
                checked.push(member);
            }
            None => done.push(member),
        }
    }
    list.checked(&merchant.id, &checked, now_ms).await.map_err(store_failed)?;
    list.remove(&merchant.id, &done).await.map_err(store_failed)?;
    Ok(Outcome::Done)
}

/// Whether an order may still bring parcels or need its upload.
fn watched(o: &Order, deps: &Deps) -> bool {
    let young = deps.now() - o.created_at < Duration::days(WATCH_DAYS);
    let waiting = match o.status() {
        OrderStatus::AtWms | OrderStatus::Shipped => true,
        OrderStatus::Confirmed => !o.fully_shipped(),
        _ => false,
    };
    young && waiting
}

/// The merchant's `at_wms` orders (index members), bounded.
async fn at_wms(deps: &Deps, merchant: &MerchantSettings) -> Result<Vec<String>, Outcome> {
    let at_wms = deps
        .ledger
        .orders
        .in_status(&merchant.id, OrderStatus::AtWms, |c| merchant.has_cart(c), MAX_READ)
        .await
        .map_err(store_failed)?;
    Ok(at_wms.iter().map(|(cart, id)| member(cart, *id)).collect())
}
