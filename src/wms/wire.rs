//! EasyPost Fulfillment wire shapes, read tolerantly (the shapes are observed, not published:
//! unknown fields are ignored, optional ones default).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct Product {
    pub id: String,
    #[serde(default)]
    pub barcode: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProductRef {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub barcode: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WarehouseRef {
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Inventory {
    pub product: ProductRef,
    #[serde(default)]
    pub warehouse: Option<WarehouseRef>,
    #[serde(default)]
    pub quantity: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Tracker {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub tracking_code: Option<String>,
    #[serde(default)]
    pub carrier: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub public_url: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LineItem {
    pub product: ProductRef,
    #[serde(default)]
    pub units: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Pick {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default)]
    pub tracker: Option<Tracker>,
    #[serde(default)]
    pub created_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default)]
    pub picks: Vec<Pick>,
    /// Some integrations send trackers beside the order instead of inside picks.
    #[serde(default)]
    pub trackers: Vec<Tracker>,
}

/// `POST orders` body.
#[derive(Debug, Clone, Serialize)]
pub struct NewOrder {
    pub service: &'static str,
    pub description: String,
    /// Serialised with EasyPost's field names (name, company, street1, …, phone, email).
    pub destination: crate::domain::Destination,
    pub line_items: Vec<NewLineItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NewLineItem {
    pub product: NewProductRef,
    pub units: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct NewProductRef {
    pub barcode: String,
}
