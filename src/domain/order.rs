//! The order ledger's record: one per cart order, with its timeline.
//!
//! Status changes go only through [`Order::transition`], which checks the state machine and
//! appends the timeline entry (invariant 8).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Barcode, CartId, IllegalTransition, MerchantId, OrderStatus, Sku};

/// Where the parcel goes (EasyPost's `destination` fields).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    pub name: String,
    pub company: Option<String>,
    pub street1: String,
    pub street2: Option<String>,
    pub city: String,
    pub state: Option<String>,
    pub zip: String,
    pub country: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// One product line of the cart order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredLine")]
pub struct OrderLine {
    /// The cart's order line item id (fulfillments refer to it).
    pub line_item_id: u64,
    pub variant_id: u64,
    pub sku: Sku,
    pub upc: Option<Barcode>,
    /// The warehouse barcode sent, once translated.
    pub barcode: Option<Barcode>,
    pub quantity: u32,
}

/// An order line as the ledger holds it. Records written before SKUs and barcodes had their
/// own types may hold blank strings: a blank UPC or barcode reads as none, a blank SKU as the
/// name an import gives a variant without one.
#[derive(Deserialize)]
struct StoredLine {
    line_item_id: u64,
    variant_id: u64,
    sku: String,
    upc: Option<String>,
    barcode: Option<String>,
    quantity: u32,
}

impl From<StoredLine> for OrderLine {
    fn from(l: StoredLine) -> Self {
        Self {
            line_item_id: l.line_item_id,
            variant_id: l.variant_id,
            sku: Sku::try_from(l.sku).unwrap_or_else(|_| Sku::of_unnamed_variant(l.variant_id)),
            upc: l.upc.and_then(|u| Barcode::try_from(u).ok()),
            barcode: l.barcode.and_then(|b| Barcode::try_from(b).ok()),
            quantity: l.quantity,
        }
    }
}

/// One parcel the warehouse shipped (a pick) and its upload to the cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub pick_id: String,
    pub tracking_code: String,
    pub carrier: Option<String>,
    pub public_url: Option<String>,
    pub tracking_status: String,
    /// When the tracking status was last updated (upstream time), to drop older updates.
    pub tracking_updated_at: Option<DateTime<Utc>>,
    /// `(barcode, units)` in this parcel.
    #[serde(deserialize_with = "stored_items")]
    pub items: Vec<(Barcode, u32)>,
    pub shipped_at: DateTime<Utc>,
    /// The cart fulfillment created for it, once uploaded.
    pub fulfillment_id: Option<u64>,
}

/// A parcel's items as the ledger holds them; a blank barcode (older records) names nothing.
fn stored_items<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<(Barcode, u32)>, D::Error> {
    let items = Vec::<(String, u32)>::deserialize(d)?;
    Ok(items.into_iter().filter_map(|(b, n)| Some((Barcode::try_from(b).ok()?, n))).collect())
}

/// A timeline entry: every status change and notable event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub status: OrderStatus,
    pub reason: String,
}

/// The ledger record of one cart order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub cart: CartId,
    pub cart_order_id: u64,
    pub order_number: String,
    pub merchant: MerchantId,
    status: OrderStatus,
    pub status_reason: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub wms_order_id: Option<String>,
    pub destination: Destination,
    pub lines: Vec<OrderLine>,
    pub shipments: Vec<Shipment>,
    timeline: Vec<TimelineEntry>,
    /// Set just before the order is posted to the warehouse, cleared once the outcome is
    /// recorded: if it is set when a send starts, an earlier attempt may have reached the
    /// warehouse, and it must be looked for before posting again.
    pub send_started_at: Option<DateTime<Utc>>,
    /// A fingerprint of what the last import read from the cart (its `updated_at`, address and
    /// product lines): an import that reads the same skips the address and variant calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart_version: Option<String>,
    /// The cart's shipping method (the label of its shipping line, as the cart wrote it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_method: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an import knows about a new order.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub cart: CartId,
    pub cart_order_id: u64,
    pub order_number: String,
    pub merchant: MerchantId,
    pub destination: Destination,
    pub lines: Vec<OrderLine>,
    /// The cart's shipping method, if the order has one.
    pub ship_method: Option<String>,
}

/// Timelines are bounded; the oldest entries beyond this are dropped.
const MAX_TIMELINE: usize = 200;

impl Order {
    /// A freshly imported order, status `new`.
    pub fn new(new: NewOrder, now: DateTime<Utc>, reason: &str) -> Self {
        let NewOrder { cart, cart_order_id, order_number, merchant, destination, lines, ship_method } = new;
        Self {
            cart,
            cart_order_id,
            order_number,
            merchant,
            status: OrderStatus::New,
            status_reason: None,
            next_attempt_at: None,
            wms_order_id: None,
            destination,
            lines,
            shipments: Vec::new(),
            timeline: vec![TimelineEntry { at: now, status: OrderStatus::New, reason: reason.to_owned() }],
            send_started_at: None,
            cart_version: None,
            ship_method,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn status(&self) -> OrderStatus {
        self.status
    }

    pub fn timeline(&self) -> &[TimelineEntry] {
        &self.timeline
    }

    /// Moves to `to` if the state machine allows it, recording why.
    pub fn transition(&mut self, to: OrderStatus, reason: &str, now: DateTime<Utc>) -> Result<(), IllegalTransition> {
        self.status = self.status.transition(to)?;
        self.status_reason = Some(reason.to_owned()).filter(|r| !r.is_empty());
        if to != OrderStatus::OnHold {
            self.next_attempt_at = None;
        }
        self.note(reason, now);
        Ok(())
    }

    /// A transition the caller expects the state machine to allow (it has just checked where
    /// the order is). Should it be refused all the same, the order keeps its status and the
    /// refusal is recorded on the timeline, so it is never lost silently. Whether it moved.
    pub fn transition_or_note(&mut self, to: OrderStatus, reason: &str, now: DateTime<Utc>) -> bool {
        match self.transition(to, reason, now) {
            Ok(()) => true,
            Err(refused) => {
                self.note(&format!("{reason} (not applied: {refused})"), now);
                false
            }
        }
    }

    /// Records an event on the timeline without changing the status.
    pub fn note(&mut self, reason: &str, now: DateTime<Utc>) {
        self.timeline.push(TimelineEntry { at: now, status: self.status, reason: reason.to_owned() });
        if self.timeline.len() > MAX_TIMELINE {
            let excess = self.timeline.len() - MAX_TIMELINE;
            self.timeline.drain(..excess);
        }
        self.updated_at = now;
    }
}

#[cfg(test)]
impl Order {
    /// Order 1 (`SO1`) of cart `c`, merchant `m`, status `new`, with these lines (unit tests).
    pub(crate) fn sample(lines: Vec<OrderLine>) -> Self {
        let new = NewOrder {
            cart: CartId::parse("c").unwrap_or_else(|e| panic!("{e}")),
            cart_order_id: 1,
            order_number: "SO1".into(),
            merchant: MerchantId::parse("m").unwrap_or_else(|e| panic!("{e}")),
            destination: Destination::default(),
            lines,
            ship_method: None,
        };
        Order::new(new, Utc::now(), "imported")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> Order {
        Order::sample(vec![])
    }

    #[test]
    fn transitions_are_checked_and_recorded() {
        let mut o = order();
        let now = Utc::now();
        o.transition(OrderStatus::OnHold, "insufficient inventory", now).unwrap();
        assert_eq!(o.status(), OrderStatus::OnHold);
        assert!(o.transition(OrderStatus::Confirmed, "nope", now).is_err());
        assert_eq!(o.status(), OrderStatus::OnHold, "a refused transition changes nothing");
        o.transition(OrderStatus::AtWms, "accepted", now).unwrap();
        let statuses: Vec<_> = o.timeline().iter().map(|t| t.status).collect();
        assert_eq!(statuses, [OrderStatus::New, OrderStatus::OnHold, OrderStatus::AtWms]);
    }

    #[test]
    fn a_refused_expected_transition_is_noted_not_lost() {
        let mut o = order();
        let now = Utc::now();
        assert!(o.transition_or_note(OrderStatus::CancelSending, "voided in cart", now));
        assert!(!o.transition_or_note(OrderStatus::AtWms, "found at the warehouse", now));
        assert_eq!(o.status(), OrderStatus::CancelSending);
        let last = o.timeline().last().unwrap();
        assert_eq!(
            last.reason,
            "found at the warehouse (not applied: an order cannot go from cancel_sending to at_wms)"
        );
    }

    #[test]
    fn the_timeline_is_bounded() {
        let mut o = order();
        for i in 0..500 {
            o.note(&format!("tracker update {i}"), Utc::now());
        }
        assert_eq!(o.timeline().len(), MAX_TIMELINE);
        assert_eq!(o.timeline().last().unwrap().reason, "tracker update 499");
    }
}
