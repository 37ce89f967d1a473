//! Shopify's shapes into cartgate's and back: the only place its field names, global ids and
//! status words are read.
//!
//! * Ids on the cart boundary are the numbers of Shopify's global ids
//!   (`gid://shopify/Order/<n>`); they may exceed 2^53, so they are `u64`, never floats.
//! * An order with `cancelledAt` is [`CartOrderState::Voided`] (status word `cancelled`, else
//!   `open`); the payment and fulfillment words are `displayFinancialStatus` and
//!   `displayFulfillmentStatus` in lower case, unknown values passed through.
//! * Product lines have a variant and at least one unit; the ship method is the shipping
//!   line's title; the variant's barcode is the line's UPC (the `item_field = "barcode"` rule).

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::wire;
use crate::domain::{
    Barcode, CartFulfillment, CartItem, CartLine, CartOrder, CartOrderState, CartStatusWords, Destination, OrderLine,
    Sku, UpdatedOrder,
};
use crate::upstream::UpstreamError;

/// The number in `gid://shopify/<kind>/<n>` (`None` for another shape or kind).
pub(super) fn number_of(gid: &str, kind: &str) -> Option<u64> {
    let n = gid.strip_prefix("gid://shopify/")?.strip_prefix(kind)?.strip_prefix('/')?;
    // A gid may carry parameters (`…/LineItem/1?x=y`); the number is before them.
    n.split(['?', '/']).next()?.parse().ok()
}

/// The number in a gid Shopify answered, or why the answer cannot be read.
pub(super) fn id_of(gid: &str, kind: &str) -> Result<u64, UpstreamError> {
    number_of(gid, kind)
        .ok_or_else(|| UpstreamError::Invalid { reason: format!("Shopify sent `{gid}` for a {kind} id") })
}

/// `gid://shopify/<kind>/<n>`.
pub(super) fn gid(kind: &str, n: impl std::fmt::Display) -> String {
    format!("gid://shopify/{kind}/{n}")
}

fn text(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn time(s: &Option<String>) -> Option<DateTime<Utc>> {
    s.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
}

/// A line's `(line item id, variant id, units)` when it is a product line.
fn product_line(l: &wire::LineItem) -> Result<Option<CartLine>, UpstreamError> {
    let Some(variant) = &l.variant else { return Ok(None) };
    let quantity = u32::try_from(l.quantity.max(0)).unwrap_or(u32::MAX);
    if quantity == 0 {
        return Ok(None);
    }
    let line = CartLine {
        line_item_id: id_of(&l.id, "LineItem")?,
        variant_id: id_of(&variant.id, "ProductVariant")?,
        quantity,
    };
    Ok(Some(line))
}

/// The order as an import first reads it.
pub(super) fn cart_order(o: &wire::Order) -> Result<CartOrder, UpstreamError> {
    let id = id_of(&o.id, "Order")?;
    let voided = o.cancelled_at.is_some();
    let mut lines = Vec::new();
    for l in &o.line_items.nodes {
        lines.extend(product_line(l)?);
    }
    Ok(CartOrder {
        id,
        number: text(&o.name).unwrap_or_else(|| id.to_string()),
        state: if voided { CartOrderState::Voided } else { CartOrderState::Open },
        words: CartStatusWords {
            status: if voided { "cancelled" } else { "open" }.to_owned(),
            payment: o.display_financial_status.as_deref().map(str::to_lowercase),
            fulfillment: o.display_fulfillment_status.as_deref().map(str::to_lowercase),
        },
        version: version(o),
        lines,
        shipping_address_id: None,
        email: text(&o.email),
        phone: text(&o.phone),
        ship_method: o.shipping_line.as_ref().and_then(|s| s.title.clone()),
        tags: o.tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).map(str::to_owned).collect(),
        stock_location_id: None,
        created_at: time(&o.created_at),
    })
}

/// What an import reads, fingerprinted (`None` without `updatedAt`): the update time, the
/// address, the lines and what the cart's filters read.
fn version(o: &wire::Order) -> Option<String> {
    let updated_at = o.updated_at.as_deref()?;
    let mut h = Sha256::new();
    h.update(format!("{updated_at}|{:?}|{:?}|{:?}", o.cancelled_at, o.shipping_address, o.tags));
    h.update(format!("|{:?}|{:?}", o.display_financial_status, o.display_fulfillment_status));
    h.update(format!("|{:?}", o.shipping_line.as_ref().map(|s| &s.title)));
    for l in &o.line_items.nodes {
        let variant = l.variant.as_ref().map(|v| (&v.id, &v.sku, &v.barcode));
        h.update(format!("|{}:{}:{:?}:{:?}", l.id, l.quantity, l.sku, variant));
    }
    Some(hex::encode(&h.finalize()[..12]))
}

/// The order's product lines with their SKU (the variant's, else the line's, else the name of
/// an unnamed variant) and the variant's barcode as UPC.
pub(super) fn order_lines(o: &wire::Order) -> Result<Vec<OrderLine>, UpstreamError> {
    let mut out = Vec::new();
    for l in &o.line_items.nodes {
        let Some(line) = product_line(l)? else { continue };
        let variant = l.variant.as_ref();
        let sku = Sku::parse_opt(variant.and_then(|v| v.sku.as_deref()))
            .or_else(|| Sku::parse_opt(l.sku.as_deref()))
            .unwrap_or_else(|| Sku::of_unnamed_variant(line.variant_id));
        out.push(OrderLine {
            line_item_id: line.line_item_id,
            variant_id: line.variant_id,
            sku,
            upc: Barcode::parse_opt(variant.and_then(|v| v.barcode.as_deref())),
            barcode: None,
            quantity: line.quantity,
        });
    }
    Ok(out)
}

/// The shipping address as EasyPost's destination (empty when the order has none); the
/// order's own phone and e-mail fill in.
pub(super) fn destination(o: &wire::Order) -> Destination {
    let a = o.shipping_address.clone().unwrap_or_default();
    let company = text(&a.company);
    Destination {
        name: text(&a.name).or_else(|| company.clone()).unwrap_or_default(),
        company,
        street1: text(&a.address1).unwrap_or_default(),
        street2: text(&a.address2),
        city: text(&a.city).unwrap_or_default(),
        state: text(&a.province_code),
        zip: text(&a.zip).unwrap_or_default(),
        country: text(&a.country_code).unwrap_or_default(),
        phone: text(&a.phone).or_else(|| text(&o.phone)),
        email: text(&o.email),
    }
}

pub(super) fn updated_order(o: &wire::UpdatedOrder) -> Result<UpdatedOrder, UpstreamError> {
    Ok(UpdatedOrder { id: id_of(&o.id, "Order")?, updated_at: time(&o.updated_at) })
}

/// A variant with its `available` units at `location` (the only level asked for).
pub(super) fn cart_item(v: &wire::Variant, location: Option<u64>) -> Result<CartItem, UpstreamError> {
    let level = v.inventory_item.as_ref().and_then(|i| i.inventory_level.as_ref());
    let available = level.and_then(|l| l.quantities.iter().find(|q| q.name == "available")).map(|q| q.quantity);
    Ok(CartItem {
        variant_id: id_of(&v.id, "ProductVariant")?,
        sku: Sku::parse_opt(v.sku.as_deref()),
        upc: Barcode::parse_opt(v.barcode.as_deref()),
        on_hand: location.zip(available).into_iter().collect(),
    })
}

/// One fulfillment per tracking number it carries (a parcel is found by its number).
pub(super) fn cart_fulfillments(f: &wire::Fulfillment) -> Result<Vec<CartFulfillment>, UpstreamError> {
    let id = id_of(&f.id, "Fulfillment")?;
    let numbers: Vec<Option<String>> = f.tracking_info.iter().map(|t| text(&t.number)).collect();
    if numbers.is_empty() {
        return Ok(vec![CartFulfillment { id, tracking_number: None }]);
    }
    Ok(numbers.into_iter().map(|tracking_number| CartFulfillment { id, tracking_number }).collect())
}
