//! `push_tracking`: upload an order's parcels to the cart, one cart fulfillment each.
//!
//! One fulfillment per parcel, never two: the order's existing fulfillments are read first
//! and one already carrying the parcel's tracking number is adopted; a create carries an
//! `Idempotency-Key` named after the parcel (`cartgate:{cart}:{order}:{pick}`), so a retry after
//! a timeout that did reach TradeGecko replays instead of duplicating. Each fulfillment id is
//! recorded as soon as it is known; when every parcel has one, the order is `confirmed`.
//!
//! Without an order id the job is a cart's scheduled upload run (`shipment_upload` set to an
//! interval): it queues this job for every `shipped` order of the cart.

use crate::cart::Cart;
use crate::domain::{CartFulfillment, CartId, MerchantId, NewFulfillment, Order, OrderStatus, Shipment};
use crate::jobs::PushTracking;
use crate::settings::CartSettings;
use crate::store::{ClaimedJob, OnExisting, When};
use crate::upstream::UpstreamError;
use crate::workers::Outcome;
use crate::workflows::counters::FULFILLMENTS;
use crate::workflows::{Deps, payload, retry_or_give_up, store_failed};

/// `shipped` index members read per scheduled run.
const MAX_READ: usize = 10_000;

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    push(deps, job).await.unwrap_or_else(|o| o)
}

async fn push(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: PushTracking = payload(job)?;
    let (merchant, cart) = &deps.cart(p.cart.as_str()).await?;
    match p.order_id {
        Some(id) => upload(deps, &merchant.id, cart, id).await,
        None => upload_run(deps, &merchant.id, cart).await,
    }
}

/// The scheduled run: every `shipped` order of the cart gets its upload job.
async fn upload_run(deps: &Deps, merchant: &MerchantId, cart: &CartSettings) -> Result<Outcome, Outcome> {
    let shipped = deps
        .ledger
        .orders
        .in_status(merchant, OrderStatus::Shipped, |c| *c == cart.id, MAX_READ)
        .await
        .map_err(store_failed)?;
    for (c, order_id) in shipped {
        let job = PushTracking { cart: c, order_id: Some(order_id) }.job();
        deps.jobs.enqueue(&job, When::Now, OnExisting::Keep).await.map_err(store_failed)?;
    }
    Ok(Outcome::Done)
}

async fn upload(deps: &Deps, merchant: &MerchantId, cart: &CartSettings, order_id: u64) -> Result<Outcome, Outcome> {
    let Some(order) = deps.ledger.orders.get(merchant, &cart.id, order_id).await.map_err(store_failed)? else {
        return Ok(Outcome::Done);
    };
    let pending: Vec<&Shipment> = order.shipments.iter().filter(|s| s.fulfillment_id.is_none()).collect();
    if pending.is_empty() {
        record(deps, merchant, &cart.id, order_id, None).await?;
        return Ok(Outcome::Done);
    }
    let api = deps.cart_api(cart)?;
    let existing = api.fulfillments(order_id).await.map_err(retry_or_give_up)?;
    for s in pending {
        let id = match adopt(&existing, s) {
            Some(id) => id,
            None => create(deps, api.as_ref(), &order, s).await?,
        };
        record(deps, merchant, &cart.id, order_id, Some((&s.pick_id, id))).await?;
    }
    Ok(Outcome::Done)
}

/// A fulfillment already in the cart for this parcel (an earlier upload, or one made by hand).
fn adopt(existing: &[CartFulfillment], s: &Shipment) -> Option<u64> {
    let found = existing.iter().find(|f| f.tracking_number.as_deref() == Some(s.tracking_code.as_str()))?;
    metrics::counter!(FULFILLMENTS, "result" => "adopted").increment(1);
    Some(found.id)
}

async fn create(deps: &Deps, api: &dyn Cart, order: &Order, s: &Shipment) -> Result<u64, Outcome> {
    let lines = order.parcel_lines(&s.pick_id);
    if lines.is_empty() {
        let why = format!("parcel {} holds nothing this order asked for; not uploaded", s.tracking_code);
        note(deps, order, &why).await;
        return Err(Outcome::Permanent(why));
    }
    let new = NewFulfillment {
        order_id: order.cart_order_id,
        shipped_at: s.shipped_at,
        carrier: s.carrier.clone(),
        tracking_number: s.tracking_code.clone(),
        tracking_url: s.public_url.clone(),
        lines,
    };
    let key = crate::jobs::fulfillment_key(&order.cart, order.cart_order_id, &s.pick_id);
    match api.create_fulfillment(&new, &key).await {
        Ok(id) => {
            metrics::counter!(FULFILLMENTS, "result" => "created").increment(1);
            Ok(id)
        }
        Err(e) => {
            if matches!(e, UpstreamError::Rejected { .. }) {
                let why = format!("the cart refused tracking {}: {}", s.tracking_code, e.merchant_message());
                note(deps, order, &why).await;
            }
            Err(retry_or_give_up(e))
        }
    }
}

/// Records a parcel's fulfillment (when given) and confirms the order once all are uploaded.
async fn record(
    deps: &Deps,
    merchant: &MerchantId,
    cart: &CartId,
    order_id: u64,
    uploaded: Option<(&str, u64)>,
) -> Result<(), Outcome> {
    let now = deps.now();
    deps.ledger
        .orders
        .update(merchant, cart, order_id, |o| {
            if let Some((pick, id)) = uploaded
                && let Some(s) = o.shipments.iter_mut().find(|s| s.pick_id == pick)
            {
                s.fulfillment_id = Some(id);
            }
            let all = o.shipments.iter().all(|s| s.fulfillment_id.is_some());
            if all && o.status() == OrderStatus::Shipped {
                let ids: Vec<String> =
                    o.shipments.iter().filter_map(|s| s.fulfillment_id).map(|i| i.to_string()).collect();
                // `shipped → confirmed` is always allowed.
                o.transition_or_note(
                    OrderStatus::Confirmed,
                    &format!("tracking is in the cart (fulfillments {})", ids.join(", ")),
                    now,
                );
            }
        })
        .await
        .map_err(store_failed)?;
    Ok(())
}

/// A timeline note; best effort (the job's own outcome already says what went wrong).
async fn note(deps: &Deps, order: &Order, why: &str) {
    let now = deps.now();
    let noted =
        deps.ledger.orders.update(&order.merchant, &order.cart, order.cart_order_id, |o| o.note(why, now)).await;
    if let Err(e) = noted {
        tracing::warn!(error = %e, "timeline note not written");
    }
}
