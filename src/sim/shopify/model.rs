//! The Shopify simulator's records: one shop's locations, variants and their inventory items,
//! inventory levels, orders, fulfillment orders, fulfillments and webhook subscriptions.
//!
//! Ids are numbers; the API shows them as global ids (`gid://shopify/<Kind>/<n>`, [`gid`]).
//! Order ids start above 2^53 (Shopify's sample order 820982911946154508 is one), so a client
//! that reads them as JSON doubles loses digits, as it would against Shopify.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::sim::seed::SeedAddress;

/// `gid://shopify/<kind>/<id>`.
pub(crate) fn gid(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

/// The number of a global id of `kind` (`None` for another kind or shape).
pub(crate) fn gid_id(kind: &str, text: &str) -> Option<u64> {
    text.strip_prefix("gid://shopify/")?.strip_prefix(kind)?.strip_prefix('/')?.parse().ok()
}

#[derive(Clone, Debug, Serialize)]
pub struct Location {
    pub id: u64,
    pub name: String,
    pub is_active: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Variant {
    pub id: u64,
    pub product_id: u64,
    pub inventory_item_id: u64,
    pub sku: String,
    pub barcode: Option<String>,
    pub title: String,
}

/// Quantities of one inventory item at one location.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Level {
    pub available: i64,
    pub on_hand: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct LineItem {
    pub id: u64,
    pub variant_id: Option<u64>,
    pub sku: Option<String>,
    pub title: String,
    pub quantity: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ShippingLine {
    pub title: String,
    pub code: String,
    pub source: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Order {
    pub id: u64,
    /// `#1001`.
    pub name: String,
    pub email: String,
    pub customer_id: u64,
    pub created_at: DateTime<Utc>,
    /// Moves on every change (edit, cancel, fulfillment).
    pub updated_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// `displayFinancialStatus` (`PAID`, `PENDING`, …).
    pub financial_status: String,
    /// `displayFulfillmentStatus` (`UNFULFILLED`, `PARTIALLY_FULFILLED`, `FULFILLED`).
    pub fulfillment_status: String,
    pub tags: Vec<String>,
    pub shipping_address: SeedAddress,
    pub shipping_line: Option<ShippingLine>,
    pub line_items: Vec<LineItem>,
    pub fulfillment_order_ids: Vec<u64>,
    pub fulfillment_ids: Vec<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FoLine {
    pub id: u64,
    pub line_item_id: u64,
    pub total_quantity: i64,
    pub remaining_quantity: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct FulfillmentOrder {
    pub id: u64,
    pub order_id: u64,
    pub location_id: u64,
    /// `OPEN`, `IN_PROGRESS`, `CLOSED`, `CANCELLED`, …
    pub status: String,
    pub lines: Vec<FoLine>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrackingInfo {
    pub company: Option<String>,
    pub number: Option<String>,
    pub url: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Fulfillment {
    pub id: u64,
    pub order_id: u64,
    pub location_id: u64,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub tracking: TrackingInfo,
    /// (order line item id, quantity).
    pub lines: Vec<(u64, i64)>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WebhookSubscription {
    pub id: u64,
    /// `ORDERS_CREATE`, …
    pub topic: String,
    pub uri: String,
    pub created_at: DateTime<Utc>,
}

/// One applied `inventorySetQuantities`: the changes it made.
#[derive(Clone, Debug, Serialize)]
pub struct AdjustmentGroup {
    pub id: u64,
    pub created_at: DateTime<Utc>,
    pub reason: String,
    pub reference_document_uri: Option<String>,
    /// (quantity name, delta, inventory item id, location id).
    pub changes: Vec<(String, i64, u64, u64)>,
}

/// The webhook topics subscriptions may name, with their REST spelling (`X-Shopify-Topic`).
pub(crate) const TOPICS: [(&str, &str); 5] = [
    ("ORDERS_CREATE", "orders/create"),
    ("ORDERS_UPDATED", "orders/updated"),
    ("ORDERS_CANCELLED", "orders/cancelled"),
    ("ORDERS_FULFILLED", "orders/fulfilled"),
    ("APP_UNINSTALLED", "app/uninstalled"),
];

/// The header spelling of a GraphQL topic enum value.
pub(crate) fn topic_header(topic: &str) -> Option<&'static str> {
    TOPICS.iter().find(|(t, _)| *t == topic).map(|(_, h)| *h)
}
