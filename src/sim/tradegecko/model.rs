//! TradeGecko's records as the API renders them: decimals as strings, timestamps with ms.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};

use crate::sim::seed::SeedAddress;
use crate::sim::util::{decimal, tg_time};

fn ser_time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&tg_time(t))
}

fn ser_dec<S: Serializer>(n: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&decimal(*n))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Draft,
    Active,
    Finalized,
    Fulfilled,
    Void,
    Deleted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    Unpaid,
    Partial,
    Paid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FulfillmentStatus {
    Unshipped,
    Partial,
    Shipped,
}

#[derive(Clone, Debug, Serialize)]
pub struct Order {
    pub id: u64,
    pub order_number: String,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub fulfillment_status: FulfillmentStatus,
    pub packed_status: String,
    pub invoice_status: String,
    pub company_id: Option<u64>,
    pub shipping_address_id: Option<u64>,
    pub billing_address_id: Option<u64>,
    pub stock_location_id: u64,
    pub currency_id: u64,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub notes: Option<String>,
    pub reference_number: Option<String>,
    pub issued_at: String,
    pub ship_at: Option<String>,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub updated_at: DateTime<Utc>,
    pub tags: Vec<String>,
    pub total: String,
    pub order_line_item_ids: Vec<u64>,
    pub fulfillment_ids: Vec<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct OrderLineItem {
    pub id: u64,
    pub order_id: u64,
    pub variant_id: Option<u64>,
    #[serde(serialize_with = "ser_dec")]
    pub quantity: i64,
    pub price: String,
    pub discount: Option<String>,
    pub freeform: bool,
    pub label: Option<String>,
    pub line_type: String,
    pub position: u32,
    pub fulfillment_line_item_ids: Vec<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Address {
    pub id: u64,
    pub company_id: Option<u64>,
    pub label: String,
    pub status: String,
    #[serde(flatten)]
    pub fields: SeedAddress,
}

/// A variant without its stock fields (those are computed when rendered).
#[derive(Clone, Debug, Serialize)]
pub struct Variant {
    pub id: u64,
    pub product_id: u64,
    pub sku: String,
    pub upc: Option<String>,
    pub name: String,
    pub product_name: String,
    pub status: String,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Location {
    pub id: u64,
    pub label: String,
    pub status: String,
    pub holds_stock: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Fulfillment {
    pub id: u64,
    pub order_id: u64,
    pub shipping_address_id: Option<u64>,
    pub billing_address_id: Option<u64>,
    pub status: String,
    pub exchange_rate: String,
    pub packed_at: Option<String>,
    pub shipped_at: Option<String>,
    pub received_at: Option<String>,
    pub delivery_type: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_company: Option<String>,
    pub tracking_url: Option<String>,
    pub notes: Option<String>,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub updated_at: DateTime<Utc>,
    pub fulfillment_line_item_ids: Vec<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FulfillmentLineItem {
    pub id: u64,
    pub fulfillment_id: u64,
    pub order_line_item_id: u64,
    #[serde(serialize_with = "ser_dec")]
    pub quantity: i64,
    pub base_price: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct StockAdjustment {
    pub id: u64,
    pub stock_location_id: u64,
    pub adjustment_number: String,
    pub reason: Option<String>,
    pub notes: Option<String>,
    pub status: String,
    #[serde(serialize_with = "ser_dec")]
    pub cached_quantity: i64,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub updated_at: DateTime<Utc>,
    pub stock_adjustment_line_item_ids: Vec<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StockAdjustmentLineItem {
    pub id: u64,
    pub stock_adjustment_id: u64,
    pub variant_id: u64,
    #[serde(serialize_with = "ser_dec")]
    pub quantity: i64,
    pub position: u32,
    pub price: String,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Webhook {
    pub id: u64,
    pub address: String,
    pub event: String,
    pub oauth_application_id: u64,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub updated_at: DateTime<Utc>,
}
