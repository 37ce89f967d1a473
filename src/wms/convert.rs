//! EasyPost's shapes into cartgate's and back: the only place their field names are read.
//!
//! * A product without a barcode cannot be ordered or counted, so it is no [`WmsProduct`].
//! * A shipped order carries `picks[]`, each with what that parcel holds and a `tracker`; a pick
//!   without a tracker (or whose tracker has no code) is not a parcel yet. An order with no
//!   picks but exactly one tracker (seen from some integrations) is one parcel of everything.

use chrono::{DateTime, Utc};

use super::wire;
use crate::domain::{Barcode, Order, OrderLine, Parcel, Tracking, WarehouseService, WmsOrder, WmsProduct};

/// Why an upstream product is not one cartgate can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("warehouse product {0} has no barcode")]
pub struct NoBarcode(pub String);

impl TryFrom<wire::Product> for WmsProduct {
    type Error = NoBarcode;

    fn try_from(p: wire::Product) -> Result<Self, Self::Error> {
        match Barcode::parse_opt(p.barcode.as_deref()) {
            Some(barcode) => Ok(Self { id: p.id, barcode }),
            None => Err(NoBarcode(p.id)),
        }
    }
}

impl From<wire::Order> for WmsOrder {
    fn from(o: wire::Order) -> Self {
        let mut parcels: Vec<Parcel> = o.picks.iter().filter_map(pick_parcel).collect();
        if o.picks.is_empty()
            && let [tracker] = o.trackers.as_slice()
            && let Some(id) = tracker.id.clone().or_else(|| tracker.tracking_code.clone())
            && let Some(tracking) = tracking(tracker)
        {
            parcels.push(Parcel { pick_id: id, tracking, items: None, shipped_at: None });
        }
        Self { id: o.id, parcels }
    }
}

fn pick_parcel(pick: &wire::Pick) -> Option<Parcel> {
    let tracker = pick.tracker.as_ref()?;
    let items = pick
        .line_items
        .iter()
        .filter_map(|l| Some((Barcode::parse_opt(l.product.barcode.as_deref())?, l.units.round().max(0.0) as u32)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let pick_id = pick.id.clone().or_else(|| tracker.id.clone())?;
    Some(Parcel {
        pick_id,
        tracking: tracking(tracker)?,
        items: Some(items),
        shipped_at: time(pick.created_at.as_deref()),
    })
}

fn tracking(t: &wire::Tracker) -> Option<Tracking> {
    Some(Tracking {
        code: t.tracking_code.clone().filter(|c| !c.trim().is_empty())?,
        carrier: t.carrier.clone(),
        public_url: t.public_url.clone(),
        status: t.status.clone().unwrap_or_else(|| "unknown".into()),
        updated_at: time(t.updated_at.as_deref()),
    })
}

/// An upstream RFC 3339 time.
fn time(s: Option<&str>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}

/// `POST orders` body: the order's lines that have a barcode, with the service (and its
/// `shipment_options`, when it has any) the order's ship method maps to.
pub(super) fn new_order(order: &Order, lines: &[OrderLine], service: &WarehouseService) -> wire::NewOrder {
    let delivery_confirmation = service.delivery_confirmation.clone();
    wire::NewOrder {
        service: service.service.clone(),
        shipment_options: delivery_confirmation
            .map(|delivery_confirmation| wire::ShipmentOptions { delivery_confirmation }),
        description: order.order_number.clone(),
        destination: order.destination.clone(),
        line_items: lines
            .iter()
            .filter_map(|l| {
                let barcode = l.barcode.as_ref()?.to_string();
                Some(wire::NewLineItem { product: wire::NewProductRef { barcode }, units: l.quantity })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wms(value: serde_json::Value) -> WmsOrder {
        serde_json::from_value::<wire::Order>(value).unwrap().into()
    }

    #[test]
    fn picks_with_tracking_are_parcels_and_untracked_ones_are_not() {
        let order = wms(serde_json::json!({"id": "order_1", "picks": [
            {"id": "pick_1", "created_at": "2026-01-02T03:04:05Z",
             "line_items": [{"product": {"barcode": "A"}, "units": 2}, {"product": {"barcode": "B"}, "units": 0}],
             "tracker": {"tracking_code": "T1", "carrier": "USPS", "status": "pre_transit"}},
            {"id": "pick_0", "line_items": []},
            {"id": "pick_2", "line_items": [], "tracker": {"tracking_code": " "}}
        ]}));
        let [parcel] = order.parcels.as_slice() else { panic!("{order:?}") };
        assert_eq!(parcel.pick_id, "pick_1");
        assert_eq!(parcel.tracking.code, "T1");
        assert_eq!(parcel.items, Some(vec![(Barcode::parse("A").unwrap(), 2)]));
        assert_eq!(parcel.shipped_at, time(Some("2026-01-02T03:04:05Z")));
    }

    #[test]
    fn the_order_goes_with_its_service_and_options_only_when_set() {
        let order = Order::sample(Vec::new());
        let plain = serde_json::to_value(new_order(&order, &[], &WarehouseService::standard())).unwrap();
        assert_eq!(plain["service"], "standard");
        assert!(plain.get("shipment_options").is_none(), "{plain}");
        let signed = WarehouseService { service: "overnight".into(), delivery_confirmation: Some("signature".into()) };
        let body = serde_json::to_value(new_order(&order, &[], &signed)).unwrap();
        assert_eq!(body["service"], "overnight");
        assert_eq!(body["shipment_options"], serde_json::json!({"delivery_confirmation": "signature"}));
    }

    #[test]
    fn a_lone_tracker_without_picks_is_one_parcel_of_everything() {
        let order = wms(serde_json::json!({"id": "order_1", "trackers": [{"id": "trk_1", "tracking_code": "T9"}]}));
        let [parcel] = order.parcels.as_slice() else { panic!("{order:?}") };
        assert_eq!((parcel.pick_id.as_str(), parcel.items.as_ref()), ("trk_1", None));
        assert_eq!(parcel.tracking.status, "unknown");
    }
}
