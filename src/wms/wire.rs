//! EasyPost Fulfillment wire shapes, read tolerantly (the shapes are observed, not published:
//! unknown fields are ignored, optional ones default).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Product {
    pub(super) id: String,
    #[serde(default)]
    pub(super) barcode: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct ProductRef {
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) barcode: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct WarehouseRef {
    #[serde(default)]
    pub(super) id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Inventory {
    pub(super) product: ProductRef,
    #[serde(default)]
    pub(super) warehouse: Option<WarehouseRef>,
    #[serde(default)]
    pub(super) quantity: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Tracker {
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) tracking_code: Option<String>,
    #[serde(default)]
    pub(super) carrier: Option<String>,
    #[serde(default)]
    pub(super) status: Option<String>,
    #[serde(default)]
    pub(super) public_url: Option<String>,
    #[serde(default)]
    pub(super) updated_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct LineItem {
    pub(super) product: ProductRef,
    #[serde(default)]
    pub(super) units: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Pick {
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) line_items: Vec<LineItem>,
    #[serde(default)]
    pub(super) tracker: Option<Tracker>,
    #[serde(default)]
    pub(super) created_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Order {
    pub(super) id: String,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) picks: Vec<Pick>,
    /// Some integrations send trackers beside the order instead of inside picks.
    #[serde(default)]
    pub(super) trackers: Vec<Tracker>,
}

/// `POST orders` body.
#[derive(Debug, Clone, Serialize)]
pub(super) struct NewOrder {
    pub(super) service: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) shipment_options: Option<ShipmentOptions>,
    pub(super) description: String,
    /// Serialised with EasyPost's field names (name, company, street1, …, phone, email).
    pub(super) destination: crate::domain::Destination,
    pub(super) line_items: Vec<NewLineItem>,
}

/// `shipment_options` of `POST orders` (only what cartgate sets).
#[derive(Debug, Clone, Serialize)]
pub(super) struct ShipmentOptions {
    pub(super) delivery_confirmation: String,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct NewLineItem {
    pub(super) product: NewProductRef,
    pub(super) units: u32,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct NewProductRef {
    pub(super) barcode: String,
}
