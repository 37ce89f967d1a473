//! Shopify's GraphQL `data` shapes (UPSTREAMS-shopify.md §2–§5), read tolerantly: everything
//! Shopify may leave out or null is optional, and status words stay strings (unknown values
//! pass through).

use serde::{Deserialize, Serialize};

/// A connection's page: `nodes` and, where asked for, `pageInfo`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Connection<T> {
    #[serde(default = "Vec::new")]
    pub(super) nodes: Vec<T>,
    #[serde(default)]
    pub(super) page_info: Option<PageInfo>,
}

impl<T> Default for Connection<T> {
    fn default() -> Self {
        Self { nodes: Vec::new(), page_info: None }
    }
}

impl<T> Connection<T> {
    /// The cursor of the next page, while there is one.
    pub(super) fn next(&self) -> Option<String> {
        let info = self.page_info.as_ref()?;
        if info.has_next_page { info.end_cursor.clone() } else { None }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PageInfo {
    #[serde(default)]
    pub(super) has_next_page: bool,
    #[serde(default)]
    pub(super) end_cursor: Option<String>,
}

/// Anything with only an id (`inventoryItem{id}`, `location{id}`, `lineItem{id}`).
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Node {
    pub(super) id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Order {
    pub(super) id: String,
    pub(super) name: Option<String>,
    pub(super) email: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) created_at: Option<String>,
    pub(super) updated_at: Option<String>,
    pub(super) cancelled_at: Option<String>,
    pub(super) display_financial_status: Option<String>,
    pub(super) display_fulfillment_status: Option<String>,
    #[serde(default)]
    pub(super) tags: Vec<String>,
    pub(super) shipping_address: Option<Address>,
    pub(super) shipping_line: Option<ShippingLine>,
    #[serde(default)]
    pub(super) line_items: Connection<LineItem>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Address {
    pub(super) name: Option<String>,
    pub(super) company: Option<String>,
    pub(super) address1: Option<String>,
    pub(super) address2: Option<String>,
    pub(super) city: Option<String>,
    pub(super) province_code: Option<String>,
    pub(super) zip: Option<String>,
    #[serde(rename = "countryCodeV2")]
    pub(super) country_code: Option<String>,
    pub(super) phone: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct ShippingLine {
    pub(super) title: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct LineItem {
    pub(super) id: String,
    pub(super) sku: Option<String>,
    #[serde(default)]
    pub(super) quantity: i64,
    pub(super) variant: Option<Variant>,
}

/// A product variant with its codes and, where asked for, its stock at one location.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Variant {
    pub(super) id: String,
    pub(super) sku: Option<String>,
    pub(super) barcode: Option<String>,
    pub(super) inventory_item: Option<InventoryItem>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InventoryItem {
    pub(super) id: String,
    #[serde(default)]
    pub(super) inventory_level: Option<InventoryLevel>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct InventoryLevel {
    #[serde(default)]
    pub(super) quantities: Vec<Quantity>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Quantity {
    pub(super) name: String,
    #[serde(default)]
    pub(super) quantity: i64,
}

/// An order's fulfillment and its tracking numbers.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Fulfillment {
    pub(super) id: String,
    #[serde(default)]
    pub(super) tracking_info: Vec<TrackingInfo>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct TrackingInfo {
    pub(super) number: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FulfillmentOrder {
    pub(super) id: String,
    pub(super) status: Option<String>,
    pub(super) assigned_location: Option<AssignedLocation>,
    #[serde(default)]
    pub(super) line_items: Connection<FulfillmentOrderLineItem>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct AssignedLocation {
    pub(super) location: Option<Node>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FulfillmentOrderLineItem {
    pub(super) id: String,
    #[serde(default)]
    pub(super) remaining_quantity: i64,
    pub(super) line_item: Option<Node>,
}

/// A mutation's `userErrors` (validation failed; nothing was written).
#[derive(Debug, Clone, Deserialize)]
pub(super) struct UserError {
    pub(super) code: Option<String>,
    #[serde(default)]
    pub(super) field: Option<Vec<String>>,
    pub(super) message: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct WebhookSubscription {
    pub(super) topic: String,
    pub(super) uri: Option<String>,
}

/// `FulfillmentInput` (§4).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FulfillmentInput {
    pub(super) line_items_by_fulfillment_order: Vec<FulfillmentOrderLines>,
    pub(super) tracking_info: TrackingInput,
    pub(super) notify_customer: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FulfillmentOrderLines {
    pub(super) fulfillment_order_id: String,
    pub(super) fulfillment_order_line_items: Vec<FulfillmentOrderLineInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct FulfillmentOrderLineInput {
    pub(super) id: String,
    pub(super) quantity: u32,
}

/// `FulfillmentTrackingInput`: `url` only with a `number` (Shopify refuses it alone).
#[derive(Debug, Clone, Serialize)]
pub(super) struct TrackingInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) company: Option<String>,
    pub(super) number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) url: Option<String>,
}

/// `InventorySetQuantitiesInput` (§5).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InventorySetQuantitiesInput {
    pub(super) name: &'static str,
    pub(super) reason: &'static str,
    pub(super) reference_document_uri: String,
    pub(super) quantities: Vec<QuantityInput>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct QuantityInput {
    pub(super) inventory_item_id: String,
    pub(super) location_id: String,
    pub(super) quantity: i64,
    pub(super) change_from_quantity: i64,
}

/// An order as the "changed since" listing names it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UpdatedOrder {
    pub(super) id: String,
    pub(super) updated_at: Option<String>,
}
