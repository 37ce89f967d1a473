//! TradeGecko wire shapes (what the API sends), read tolerantly.
//!
//! Decimals arrive as strings (`"quantity":"2.0"`) and sometimes as numbers or `null`
//! (see the recorded fixtures), so numeric fields go through [`decimal`].

use serde::{Deserialize, Deserializer, Serialize};

/// Reads `"2.0"`, `2`, `2.5` or `null` as an `f64` (null → 0).
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        F(f64),
        S(String),
        Null(()),
    }
    match Num::deserialize(d)? {
        Num::F(f) => Ok(f),
        Num::S(s) if s.trim().is_empty() => Ok(0.0),
        Num::S(s) => s.trim().parse().map_err(|_| serde::de::Error::custom(format!("`{s}` is not a number"))),
        Num::Null(()) => Ok(0.0),
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    pub id: u64,
    #[serde(default)]
    pub order_number: Option<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub payment_status: Option<String>,
    #[serde(default)]
    pub fulfillment_status: Option<String>,
    #[serde(default)]
    pub shipping_address_id: Option<u64>,
    #[serde(default)]
    pub stock_location_id: Option<u64>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub order_line_item_ids: Vec<u64>,
    #[serde(default)]
    pub fulfillment_ids: Vec<u64>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OrderLineItem {
    pub id: u64,
    #[serde(default)]
    pub order_id: Option<u64>,
    #[serde(default)]
    pub variant_id: Option<u64>,
    #[serde(deserialize_with = "decimal", default)]
    pub quantity: f64,
    #[serde(default)]
    pub freeform: bool,
    #[serde(default)]
    pub line_type: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
}

impl OrderLineItem {
    /// Only non-freeform product lines go to the warehouse.
    pub fn is_product(&self) -> bool {
        !self.freeform && self.variant_id.is_some() && self.line_type.as_deref().is_none_or(|t| t == "product")
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Address {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub address1: Option<String>,
    #[serde(default)]
    pub address2: Option<String>,
    #[serde(default)]
    pub suburb: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub zip_code: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VariantLocation {
    pub location_id: u64,
    #[serde(deserialize_with = "decimal", default)]
    pub stock_on_hand: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Variant {
    pub id: u64,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub upc: Option<String>,
    #[serde(default)]
    pub locations: Vec<VariantLocation>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Fulfillment {
    pub id: u64,
    #[serde(default)]
    pub order_id: Option<u64>,
    #[serde(default)]
    pub tracking_number: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Webhook {
    pub id: u64,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub event: String,
}

/// `POST /fulfillments` body.
#[derive(Debug, Clone, Serialize)]
pub struct NewFulfillment {
    pub order_id: u64,
    pub status: &'static str,
    pub shipped_at: String,
    pub tracking_company: Option<String>,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    pub fulfillment_line_items: Vec<NewFulfillmentLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NewFulfillmentLine {
    pub order_line_item_id: u64,
    pub quantity: u32,
}

/// `POST /stock_adjustments` body.
#[derive(Debug, Clone, Serialize)]
pub struct NewStockAdjustment {
    pub stock_location_id: i64,
    pub reason: &'static str,
    pub notes: String,
    pub stock_adjustment_line_items: Vec<NewStockAdjustmentLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NewStockAdjustmentLine {
    pub variant_id: u64,
    pub quantity: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Orders {
        orders: Vec<Order>,
    }
    #[derive(Deserialize)]
    struct Lines {
        order_line_items: Vec<OrderLineItem>,
    }
    #[derive(Deserialize)]
    struct Variants {
        variants: Vec<Variant>,
    }
    #[derive(Deserialize)]
    struct Addresses {
        addresses: Vec<Address>,
    }

    #[test]
    fn the_recorded_tradegecko_payloads_parse() {
        let orders: Orders = serde_json::from_str(include_str!("../../tests/data/tradegecko/orders.json")).unwrap();
        assert_eq!(orders.orders[0].id, 5706);
        assert_eq!(orders.orders[0].order_number.as_deref(), Some("SO0211"));
        let lines: Lines =
            serde_json::from_str(include_str!("../../tests/data/tradegecko/order_line_items.json")).unwrap();
        assert!(lines.order_line_items.iter().all(|l| l.quantity >= 0.0));
        let variants: Variants =
            serde_json::from_str(include_str!("../../tests/data/tradegecko/variants.json")).unwrap();
        assert_eq!(variants.variants.len(), 5);
        let addresses: Addresses =
            serde_json::from_str(include_str!("../../tests/data/tradegecko/addresses.json")).unwrap();
        assert_eq!(addresses.addresses.len(), 5);
    }
}
