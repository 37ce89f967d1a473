//! `check_shipment`: read one WMS order and record the parcels (picks with a tracker) the
//! ledger does not have yet; the order becomes `shipped` and its tracking is queued for upload.
//!
//! Started by EasyPost's order events and by `poll_shipments`. Parcels are keyed by pick id,
//! so running twice records nothing twice. A pick's tracker also refreshes a known parcel's
//! tracking status (by the same rules as `tracker_event`), which covers lost tracker events.

use chrono::{DateTime, Utc};

use crate::domain::{Order, OrderStatus, Parcel, Shipment, WmsOrder};
use crate::jobs::{CheckShipment, PushTracking};
use crate::settings::Interval;
use crate::store::{ClaimedJob, OnExisting, When};
use crate::upstream::UpstreamError;
use crate::workers::Outcome;
use crate::workflows::counters::{SHIPMENTS_RECORDED, UNKNOWN_WMS_ORDERS};
use crate::workflows::{Deps, payload, retry_or_give_up, store_failed};

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    check(deps, job).await.unwrap_or_else(|o| o)
}

async fn check(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: CheckShipment = payload(job)?;
    let merchant = &deps.merchant(p.merchant.as_str()).await?;
    let found = deps.ledger.orders.by_wms_order(merchant.id.as_str(), &p.wms_order_id).await.map_err(store_failed)?;
    let Some((cart_id, order_id)) = found else {
        metrics::counter!(UNKNOWN_WMS_ORDERS).increment(1);
        tracing::info!(merchant = %p.merchant, wms_order = %p.wms_order_id, "shipment check for an unknown WMS order");
        return Ok(Outcome::Done);
    };
    let (_, cart) = &deps.cart(cart_id.as_str()).await?;
    let wms = match deps.easypost(merchant)?.order(&p.wms_order_id).await {
        Ok(o) => o,
        Err(UpstreamError::NotFound { .. }) => {
            tracing::warn!(wms_order = %p.wms_order_id, "WMS order no longer exists");
            return Ok(Outcome::Done);
        }
        Err(e) => return Ok(retry_or_give_up(e)),
    };
    let now = deps.now();
    let updated = deps
        .ledger
        .orders
        .update(&merchant.id, &cart_id, order_id, |o| record(o, &wms, now))
        .await
        .map_err(store_failed)?;
    let Some((order, added)) = updated else { return Ok(Outcome::Done) };
    metrics::counter!(SHIPMENTS_RECORDED).increment(added as u64);
    let pending = order.shipments.iter().any(|s| s.fulfillment_id.is_none());
    if pending && cart.schedule.shipment_upload == Interval::Auto {
        let job = PushTracking { cart: cart_id, order_id: Some(order_id) }.job();
        deps.jobs.enqueue(&job, When::Now, OnExisting::Keep).await.map_err(store_failed)?;
    }
    Ok(Outcome::Done)
}

/// Records new parcels and refreshes known ones; returns how many were new.
fn record(order: &mut Order, wms: &WmsOrder, now: DateTime<Utc>) -> usize {
    let mut added = Vec::new();
    for parcel in parcels(order, wms, now) {
        // By pick, or by tracking code: a parcel first seen as a bare tracker may later show
        // up inside a pick.
        let known =
            order.shipments.iter_mut().find(|s| s.pick_id == parcel.pick_id || s.tracking_code == parcel.tracking_code);
        match known {
            Some(known) => {
                known.apply_tracking(&parcel.tracking_status, parcel.tracking_updated_at);
            }
            None => {
                added.push(parcel.tracking_code.clone());
                order.shipments.push(parcel);
            }
        }
    }
    if !added.is_empty() {
        let reason = format!("shipped by the warehouse: tracking {}", added.join(", "));
        if order.transition(OrderStatus::Shipped, &reason, now).is_err() {
            order.note(&format!("{reason} (order is {})", order.status()), now);
        }
    }
    added.len()
}

/// The WMS order's parcels as shipments. A parcel without its own contents (a tracker reported
/// without picks) holds every line of the order.
fn parcels(order: &Order, wms: &WmsOrder, now: DateTime<Utc>) -> Vec<Shipment> {
    wms.parcels.iter().map(|p| shipment(order, p, now)).collect()
}

fn shipment(order: &Order, p: &Parcel, now: DateTime<Utc>) -> Shipment {
    let whole = || order.lines.iter().map(|l| (l.barcode.clone().unwrap_or_else(|| l.sku.as_barcode()), l.quantity));
    Shipment {
        pick_id: p.pick_id.clone(),
        tracking_code: p.tracking.code.clone(),
        carrier: p.tracking.carrier.clone(),
        public_url: p.tracking.public_url.clone(),
        tracking_status: p.tracking.status.clone(),
        tracking_updated_at: p.tracking.updated_at,
        items: p.items.clone().unwrap_or_else(|| whole().collect()),
        shipped_at: p.shipped_at.unwrap_or(now),
        fulfillment_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Barcode, OrderLine, Sku, Tracking};

    fn at_wms_order() -> Order {
        let line = |id: u64, barcode: &str, quantity| OrderLine {
            line_item_id: id,
            variant_id: id,
            sku: Sku::parse(&format!("S{id}")).unwrap(),
            upc: None,
            barcode: Some(Barcode::parse(barcode).unwrap()),
            quantity,
        };
        let mut o = Order::sample(vec![line(1, "A", 2), line(2, "B", 1)]);
        o.transition(OrderStatus::AtWms, "accepted", Utc::now()).unwrap();
        o
    }

    fn parcel(id: &str, code: &str, barcode: &str, units: u32) -> Parcel {
        let tracking = Tracking {
            code: code.into(),
            carrier: Some("USPS".into()),
            public_url: None,
            status: "pre_transit".into(),
            updated_at: None,
        };
        Parcel {
            pick_id: id.into(),
            tracking,
            items: Some(vec![(Barcode::parse(barcode).unwrap(), units)]),
            shipped_at: None,
        }
    }

    fn wms(parcels: Vec<Parcel>) -> WmsOrder {
        WmsOrder { id: "order_1".into(), parcels }
    }

    #[test]
    fn picks_with_trackers_are_recorded_once_and_ship_the_order() {
        let mut o = at_wms_order();
        let first = wms(vec![parcel("pick_1", "T1", "A", 2)]);
        assert_eq!(record(&mut o, &first, Utc::now()), 1);
        assert_eq!(o.status(), OrderStatus::Shipped);
        assert_eq!(record(&mut o, &first, Utc::now()), 0, "a second look records nothing");
        let both = wms(vec![parcel("pick_1", "T1", "A", 2), parcel("pick_2", "T2", "B", 1)]);
        assert_eq!(record(&mut o, &both, Utc::now()), 1);
        assert_eq!(o.shipments.iter().map(|s| s.tracking_code.as_str()).collect::<Vec<_>>(), ["T1", "T2"]);
        assert!(o.fully_shipped());
        assert_eq!(o.parcel_lines("pick_2"), [(2, 1)]);
    }

    #[test]
    fn a_parcel_without_contents_holds_the_whole_order() {
        let mut o = at_wms_order();
        let mut whole = parcel("trk_1", "T9", "A", 1);
        whole.items = None;
        assert_eq!(record(&mut o, &wms(vec![whole]), Utc::now()), 1);
        assert!(o.fully_shipped());
    }
}
