//! Rules about shipments: which tracker update wins, and which cart order lines a parcel fills.
//!
//! Tracker events arrive late, twice and out of order (UPSTREAMS.md): an update older than the
//! one recorded is dropped, `delivered` is never replaced by anything else, and `delivered`
//! always replaces a non-final status, however its time compares.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{Barcode, Order, OrderLine, Shipment};

/// The final tracker status.
pub const DELIVERED: &str = "delivered";

/// What a tracker update did to a shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackingChange {
    /// The status changed.
    Changed,
    /// Same status (perhaps a newer time): nothing worth a timeline entry.
    Same,
    /// Older than what is recorded, or a regression from `delivered`: ignored.
    Stale,
}

impl Shipment {
    /// Applies a tracker status observed at `at` (upstream time, when known).
    pub fn apply_tracking(&mut self, status: &str, at: Option<DateTime<Utc>>) -> TrackingChange {
        let older = matches!((at, self.tracking_updated_at), (Some(new), Some(old)) if new < old);
        let regresses = self.tracking_status == DELIVERED && status != DELIVERED;
        // `delivered` is final: it wins even over a later-stamped non-final update that was
        // processed first (events are handled concurrently, in any order).
        let finishes = status == DELIVERED && self.tracking_status != DELIVERED;
        if (older && !finishes) || regresses {
            return TrackingChange::Stale;
        }
        self.tracking_updated_at =
            if finishes { at.or(self.tracking_updated_at) } else { self.tracking_updated_at.max(at) };
        if self.tracking_status == status {
            return TrackingChange::Same;
        }
        status.clone_into(&mut self.tracking_status);
        TrackingChange::Changed
    }
}

impl Order {
    /// `(order line item id, units)` of the parcel `pick_id`, mapping its barcodes back to the
    /// order's lines. Earlier parcels fill lines first, so two parcels of one barcode split over
    /// two lines each get their own; units beyond what the lines ordered are not claimed.
    pub fn parcel_lines(&self, pick_id: &str) -> Vec<(u64, u32)> {
        let mut left: HashMap<u64, u32> = self.lines.iter().map(|l| (l.line_item_id, l.quantity)).collect();
        for shipment in &self.shipments {
            let mut out: Vec<(u64, u32)> = Vec::new();
            for (barcode, units) in &shipment.items {
                let mut want = *units;
                for line in self.lines.iter().filter(|l| line_has(l, barcode)) {
                    let free = left.entry(line.line_item_id).or_default();
                    let take = want.min(*free);
                    if take > 0 {
                        *free -= take;
                        want -= take;
                        add(&mut out, line.line_item_id, take);
                    }
                }
            }
            if shipment.pick_id == pick_id {
                return out;
            }
        }
        Vec::new()
    }

    /// Whether the recorded parcels hold every unit the order asked for.
    pub fn fully_shipped(&self) -> bool {
        let mut shipped: HashMap<&str, u64> = HashMap::new();
        for (barcode, units) in self.shipments.iter().flat_map(|s| &s.items) {
            *shipped.entry(barcode.as_str()).or_default() += u64::from(*units);
        }
        let mut wanted: HashMap<&str, u64> = HashMap::new();
        for line in &self.lines {
            let key = line.barcode.as_ref().map_or(line.sku.as_str(), Barcode::as_str);
            *wanted.entry(key).or_default() += u64::from(line.quantity);
        }
        !self.shipments.is_empty() && wanted.iter().all(|(b, n)| shipped.get(b).copied().unwrap_or(0) >= *n)
    }
}

/// A parcel's barcode names this line: the barcode it was sent as (or, for lines sent before
/// barcodes were kept, its UPC or SKU).
fn line_has(line: &OrderLine, barcode: &Barcode) -> bool {
    match &line.barcode {
        Some(b) => b == barcode,
        None => line.upc.as_ref() == Some(barcode) || line.sku.as_str() == barcode.as_str(),
    }
}

fn add(out: &mut Vec<(u64, u32)>, line: u64, units: u32) {
    match out.iter_mut().find(|(l, _)| *l == line) {
        Some((_, n)) => *n += units,
        None => out.push((line, units)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Sku;

    fn shipment(pick: &str, items: &[(&str, u32)]) -> Shipment {
        Shipment {
            pick_id: pick.into(),
            tracking_code: format!("T{pick}"),
            carrier: None,
            public_url: None,
            tracking_status: "pre_transit".into(),
            tracking_updated_at: None,
            items: items.iter().map(|(b, n)| (Barcode::parse(b).unwrap(), *n)).collect(),
            shipped_at: Utc::now(),
            fulfillment_id: None,
        }
    }

    fn order(lines: &[(u64, &str, u32)]) -> Order {
        let lines = lines
            .iter()
            .map(|(id, b, q)| OrderLine {
                line_item_id: *id,
                variant_id: *id,
                sku: Sku::parse(&format!("S{id}")).unwrap(),
                upc: None,
                barcode: Some(Barcode::parse(b).unwrap()),
                quantity: *q,
            })
            .collect();
        Order::sample(lines)
    }

    #[test]
    fn older_updates_and_regressions_from_delivered_are_stale() {
        let mut s = shipment("p", &[]);
        let t = |secs| DateTime::from_timestamp(secs, 0);
        assert_eq!(s.apply_tracking("in_transit", t(100)), TrackingChange::Changed);
        assert_eq!(s.apply_tracking("pre_transit", t(50)), TrackingChange::Stale);
        assert_eq!(s.apply_tracking(DELIVERED, t(200)), TrackingChange::Changed);
        assert_eq!(s.apply_tracking("in_transit", t(300)), TrackingChange::Stale);
        assert_eq!(s.apply_tracking("some_new_status", None), TrackingChange::Stale);
        assert_eq!((s.tracking_status.as_str(), s.tracking_updated_at), (DELIVERED, t(200)));
    }

    #[test]
    fn delivered_processed_after_a_later_stamped_update_still_wins() {
        let mut s = shipment("p", &[]);
        let t = |secs| DateTime::from_timestamp(secs, 0);
        assert_eq!(s.apply_tracking("out_for_delivery", t(300)), TrackingChange::Changed);
        assert_eq!(s.apply_tracking(DELIVERED, t(200)), TrackingChange::Changed);
        assert_eq!((s.tracking_status.as_str(), s.tracking_updated_at), (DELIVERED, t(200)));
    }

    #[test]
    fn split_parcels_map_back_to_their_lines() {
        let mut o = order(&[(10, "A", 2), (11, "B", 1), (12, "A", 1)]);
        o.shipments = vec![shipment("p1", &[("A", 2)]), shipment("p2", &[("A", 1), ("B", 1)])];
        assert_eq!(o.parcel_lines("p1"), [(10, 2)]);
        assert_eq!(o.parcel_lines("p2"), [(12, 1), (11, 1)]);
        assert!(o.fully_shipped());
        o.shipments.pop();
        assert!(!o.fully_shipped());
    }
}
