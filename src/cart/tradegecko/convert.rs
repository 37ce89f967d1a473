//! TradeGecko's shapes into cartgate's and back: the only place their field names and status
//! words are read.
//!
//! * An order whose `status` is `void` or `deleted` is [`CartOrderState::Voided`]; any other
//!   word is open (the cart's filters decide the rest, on the words themselves).
//! * Only product lines count: not `freeform`, with a variant, `line_type` absent or `product`.
//! * The order's ship method is the label of its first `shipping` line with a label.
//! * Quantities arrive as decimals and are rounded; a blank SKU or UPC is none.

use chrono::{DateTime, SecondsFormat, Utc};

use super::wire;
use crate::domain::{
    Barcode, CartFulfillment, CartItem, CartLine, CartOrder, CartOrderState, CartStatusWords, Destination,
    NewFulfillment, Sku, StockAdjustment, UpdatedOrder,
};

impl wire::OrderLineItem {
    /// Only non-freeform product lines go to the warehouse.
    fn is_product(&self) -> bool {
        !self.freeform && self.variant_id.is_some() && self.line_type.as_deref().is_none_or(|t| t == "product")
    }
}

/// The order and its line items as an import reads them.
pub(super) fn cart_order(order: wire::Order, lines: &[wire::OrderLineItem]) -> CartOrder {
    let state = match order.status.as_str() {
        "void" | "deleted" => CartOrderState::Voided,
        _ => CartOrderState::Open,
    };
    let version = version(&order, lines);
    let ship_method = lines
        .iter()
        .filter(|l| l.line_type.as_deref() == Some("shipping"))
        .find_map(|l| l.label.clone().filter(|label| !label.trim().is_empty()));
    let created_at = order.created_at.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    let lines = lines
        .iter()
        .filter(|l| l.is_product())
        .filter_map(|l| {
            let quantity = l.quantity.round().clamp(0.0, f64::from(u32::MAX)) as u32;
            Some(CartLine { line_item_id: l.id, variant_id: l.variant_id?, quantity })
        })
        .collect();
    CartOrder {
        id: order.id,
        number: order.order_number.unwrap_or_else(|| order.id.to_string()),
        state,
        words: CartStatusWords {
            status: order.status,
            payment: order.payment_status,
            fulfillment: order.fulfillment_status,
        },
        version,
        lines,
        shipping_address_id: order.shipping_address_id,
        email: order.email,
        phone: order.phone_number,
        ship_method,
        tags: order.tags,
        stock_location_id: order.stock_location_id,
        created_at: created_at.map(|t| t.with_timezone(&Utc)),
    }
}

/// What an import reads from the cart, fingerprinted; `None` when the cart gives no
/// `updated_at` (then every import reads everything).
fn version(order: &wire::Order, lines: &[wire::OrderLineItem]) -> Option<String> {
    use sha2::{Digest, Sha256};
    let updated_at = order.updated_at.as_deref()?;
    let mut h = Sha256::new();
    h.update(format!("{updated_at}|{:?}|{}", order.shipping_address_id, order.status));
    // What the cart's order filters read: an edit of these alone is a change too.
    h.update(format!("|{:?}|{:?}", order.stock_location_id, order.tags));
    for l in lines {
        h.update(format!("|{}:{:?}:{}:{}:{:?}", l.id, l.variant_id, l.quantity, l.freeform, l.line_type));
        if l.line_type.as_deref() == Some("shipping") {
            h.update(format!(":{:?}", l.label));
        }
    }
    Some(hex::encode(&h.finalize()[..12]))
}

impl From<&wire::Order> for UpdatedOrder {
    fn from(o: &wire::Order) -> Self {
        let updated_at = o.updated_at.as_deref().and_then(|u| DateTime::parse_from_rfc3339(u).ok());
        Self { id: o.id, updated_at: updated_at.map(|u| u.with_timezone(&Utc)) }
    }
}

impl From<wire::Variant> for CartItem {
    fn from(v: wire::Variant) -> Self {
        Self {
            variant_id: v.id,
            sku: Sku::parse_opt(v.sku.as_deref()),
            upc: Barcode::parse_opt(v.upc.as_deref()),
            on_hand: v.locations.iter().map(|l| (l.location_id, l.stock_on_hand.round() as i64)).collect(),
        }
    }
}

impl From<wire::Fulfillment> for CartFulfillment {
    fn from(f: wire::Fulfillment) -> Self {
        Self { id: f.id, tracking_number: f.tracking_number }
    }
}

/// The shipping address as EasyPost's destination; the order's own phone and e-mail fill in
/// what the address lacks.
pub(super) fn destination(a: &wire::Address, order: &CartOrder) -> Destination {
    let text = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let name = [text(&a.first_name), text(&a.last_name)].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let company = text(&a.company_name);
    Destination {
        name: if name.is_empty() { company.clone().unwrap_or_default() } else { name },
        company,
        street1: text(&a.address1).unwrap_or_default(),
        street2: text(&a.address2).or_else(|| text(&a.suburb)),
        city: text(&a.city).unwrap_or_default(),
        state: text(&a.state),
        zip: text(&a.zip_code).unwrap_or_default(),
        country: text(&a.country_code).or_else(|| text(&a.country)).unwrap_or_default(),
        phone: text(&a.phone_number).or_else(|| text(&order.phone)),
        email: text(&a.email).or_else(|| text(&order.email)),
    }
}

impl From<&NewFulfillment> for wire::NewFulfillment {
    fn from(f: &NewFulfillment) -> Self {
        Self {
            order_id: f.order_id,
            status: "fulfilled",
            shipped_at: f.shipped_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            tracking_company: f.carrier.clone(),
            tracking_number: f.tracking_number.clone(),
            tracking_url: f.tracking_url.clone(),
            fulfillment_line_items: f
                .lines
                .iter()
                .map(|&(order_line_item_id, quantity)| wire::NewFulfillmentLine { order_line_item_id, quantity })
                .collect(),
        }
    }
}

impl From<&StockAdjustment> for wire::NewStockAdjustment {
    fn from(a: &StockAdjustment) -> Self {
        Self {
            stock_location_id: a.location,
            reason: a.reason.as_str(),
            notes: a.notes.clone(),
            stock_adjustment_line_items: a
                .lines
                .iter()
                .map(|l| wire::NewStockAdjustmentLine { variant_id: l.variant_id, quantity: l.delta() })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn order(status: &str, lines: serde_json::Value) -> CartOrder {
        let order: wire::Order = serde_json::from_value(json!({
            "id": 7, "status": status, "updated_at": "2026-01-02T03:04:05Z", "shipping_address_id": 3
        }))
        .unwrap();
        let lines: Vec<wire::OrderLineItem> = serde_json::from_value(lines).unwrap();
        cart_order(order, &lines)
    }

    #[test]
    fn void_and_deleted_orders_are_voided_and_every_other_word_is_open() {
        assert_eq!(order("void", json!([])).state, CartOrderState::Voided);
        assert_eq!(order("deleted", json!([])).state, CartOrderState::Voided);
        let active = order("active", json!([]));
        assert_eq!((active.state, active.words.status.as_str()), (CartOrderState::Open, "active"));
        assert_eq!(active.number, "7", "no order number: the cart's id");
    }

    #[test]
    fn only_product_lines_count_and_quantities_are_rounded() {
        let o = order(
            "active",
            json!([
                {"id": 1, "variant_id": 10, "quantity": "2.0"},
                {"id": 2, "variant_id": 11, "quantity": 1, "freeform": true},
                {"id": 3, "quantity": "1"},
                {"id": 4, "variant_id": 12, "quantity": "1.0", "line_type": "shipping"},
                {"id": 5, "variant_id": 13, "quantity": 0.4, "line_type": "product"}
            ]),
        );
        let lines: Vec<_> = o.lines.iter().map(|l| (l.line_item_id, l.variant_id, l.quantity)).collect();
        assert_eq!(lines, [(1, 10, 2), (5, 13, 0)]);
    }

    #[test]
    fn the_ship_method_is_the_label_of_the_shipping_line() {
        let o = order(
            "active",
            json!([
                {"id": 1, "variant_id": 10, "quantity": "1", "label": "Widget"},
                {"id": 2, "quantity": "1", "line_type": "shipping", "label": " Express "}
            ]),
        );
        assert_eq!(o.ship_method.as_deref(), Some(" Express "), "as the cart wrote it");
        assert_eq!(o.lines.len(), 1);
        let none = order("active", json!([{"id": 1, "variant_id": 10, "quantity": "1", "label": "Widget"}]));
        assert_eq!(none.ship_method, None);
    }

    #[test]
    fn the_fingerprint_follows_the_lines_and_needs_an_update_time() {
        let one = order("active", json!([{"id": 1, "variant_id": 10, "quantity": "2.0"}]));
        let two = order("active", json!([{"id": 1, "variant_id": 10, "quantity": "3.0"}]));
        assert!(one.version.is_some());
        assert_ne!(one.version, two.version);
        let undated: wire::Order = serde_json::from_value(json!({"id": 7, "status": "active"})).unwrap();
        assert_eq!(cart_order(undated, &[]).version, None);
    }

    #[test]
    fn tags_location_and_creation_time_are_read_and_comma_joined_tags_split() {
        let read = |extra: serde_json::Value| {
            let mut o = json!({"id": 7, "status": "finalized", "updated_at": "2026-01-02T03:04:05Z"});
            o.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            cart_order(serde_json::from_value(o).unwrap(), &[])
        };
        let o = read(json!({"tags": ["Suspended,Replacement", " wholesale "], "stock_location_id": 2,
                            "created_at": "2025-12-31T23:30:00.000Z"}));
        assert_eq!(o.tags, ["Suspended", "Replacement", "wholesale"]);
        assert_eq!(o.stock_location_id, Some(2));
        assert_eq!(o.created_at.map(|t| t.to_rfc3339()), Some("2025-12-31T23:30:00+00:00".into()));
        let bare = read(json!({"tags": null}));
        assert_eq!((bare.tags.len(), bare.stock_location_id, bare.created_at), (0, None, None));
        assert_eq!(read(json!({"tags": "gift"})).tags, ["gift"]);
        assert_ne!(
            read(json!({"tags": ["a"]})).version,
            read(json!({"tags": ["b"]})).version,
            "a tag edit is a change"
        );
    }

    #[test]
    fn blank_codes_are_none_and_stock_is_rounded_per_location() {
        let v: wire::Variant = serde_json::from_value(json!({
            "id": 10, "sku": "A-1", "upc": "", "locations": [{"location_id": 5, "stock_on_hand": "3.6"}]
        }))
        .unwrap();
        let item = CartItem::from(v);
        assert_eq!((item.on_hand_at(5), item.on_hand_at(6)), (4, 0));
        assert_eq!((item.sku.map(|s| s.to_string()), item.upc), (Some("A-1".into()), None));
    }
}
