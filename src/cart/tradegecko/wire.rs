//! TradeGecko wire shapes (what the API sends), read tolerantly.
//!
//! Decimals arrive as strings (`"quantity":"2.0"`) and sometimes as numbers or `null`
//! (see the recorded fixtures), so numeric fields go through [`decimal`].

use serde::{Deserialize, Deserializer, Serialize};

/// Reads `"2.0"`, `2`, `2.5` or `null` as an `f64` (null → 0).
fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
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
pub(super) struct Order {
    pub(super) id: u64,
    #[serde(default)]
    pub(super) order_number: Option<String>,
    #[serde(default)]
    pub(super) status: String,
    #[serde(default)]
    pub(super) payment_status: Option<String>,
    #[serde(default)]
    pub(super) fulfillment_status: Option<String>,
    #[serde(default)]
    pub(super) shipping_address_id: Option<u64>,
    #[serde(default)]
    pub(super) email: Option<String>,
    #[serde(default)]
    pub(super) phone_number: Option<String>,
    #[serde(default)]
    pub(super) order_line_item_ids: Vec<u64>,
    #[serde(default)]
    pub(super) updated_at: Option<String>,
    #[serde(default)]
    pub(super) stock_location_id: Option<i64>,
    #[serde(default)]
    pub(super) created_at: Option<String>,
    #[serde(default, deserialize_with = "tags")]
    pub(super) tags: Vec<String>,
}

/// Reads `tags` as a list, a single string or `null`. An element may itself hold several
/// comma-separated tags (a recorded order has `["Suspended,Replacement"]`): each is one tag.
fn tags<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Tags {
        List(Vec<Option<String>>),
        One(String),
        Null(()),
    }
    let raw = match Tags::deserialize(d)? {
        Tags::List(list) => list.into_iter().flatten().collect(),
        Tags::One(s) => vec![s],
        Tags::Null(()) => Vec::new(),
    };
    Ok(raw.iter().flat_map(|t| t.split(',')).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect())
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct OrderLineItem {
    pub(super) id: u64,
    #[serde(default)]
    pub(super) order_id: Option<u64>,
    #[serde(default)]
    pub(super) variant_id: Option<u64>,
    #[serde(deserialize_with = "decimal", default)]
    pub(super) quantity: f64,
    #[serde(default)]
    pub(super) freeform: bool,
    #[serde(default)]
    pub(super) line_type: Option<String>,
    #[serde(default)]
    pub(super) label: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Address {
    #[serde(default)]
    pub(super) first_name: Option<String>,
    #[serde(default)]
    pub(super) last_name: Option<String>,
    #[serde(default)]
    pub(super) company_name: Option<String>,
    #[serde(default)]
    pub(super) address1: Option<String>,
    #[serde(default)]
    pub(super) address2: Option<String>,
    #[serde(default)]
    pub(super) suburb: Option<String>,
    #[serde(default)]
    pub(super) city: Option<String>,
    #[serde(default)]
    pub(super) state: Option<String>,
    #[serde(default)]
    pub(super) zip_code: Option<String>,
    #[serde(default)]
    pub(super) country: Option<String>,
    #[serde(default)]
    pub(super) country_code: Option<String>,
    #[serde(default)]
    pub(super) phone_number: Option<String>,
    #[serde(default)]
    pub(super) email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct VariantLocation {
    pub(super) location_id: u64,
    #[serde(deserialize_with = "decimal", default)]
    pub(super) stock_on_hand: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Variant {
    pub(super) id: u64,
    #[serde(default)]
    pub(super) sku: Option<String>,
    #[serde(default)]
    pub(super) upc: Option<String>,
    #[serde(default)]
    pub(super) locations: Vec<VariantLocation>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Fulfillment {
    pub(super) id: u64,
    #[serde(default)]
    pub(super) order_id: Option<u64>,
    #[serde(default)]
    pub(super) tracking_number: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Webhook {
    #[serde(default)]
    pub(super) address: String,
    #[serde(default)]
    pub(super) event: String,
}

/// `POST /fulfillments` body.
#[derive(Debug, Clone, Serialize)]
pub(super) struct NewFulfillment {
    pub(super) order_id: u64,
    pub(super) status: &'static str,
    pub(super) shipped_at: String,
    pub(super) tracking_company: Option<String>,
    pub(super) tracking_number: String,
    pub(super) tracking_url: Option<String>,
    pub(super) fulfillment_line_items: Vec<NewFulfillmentLine>,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct NewFulfillmentLine {
    pub(super) order_line_item_id: u64,
    pub(super) quantity: u32,
}

/// `POST /stock_adjustments` body.
#[derive(Debug, Clone, Serialize)]
pub(super) struct NewStockAdjustment {
    pub(super) stock_location_id: i64,
    pub(super) reason: &'static str,
    pub(super) notes: String,
    pub(super) stock_adjustment_line_items: Vec<NewStockAdjustmentLine>,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct NewStockAdjustmentLine {
    pub(super) variant_id: u64,
    pub(super) quantity: i64,
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
        let orders: Orders = serde_json::from_str(include_str!("../../../tests/data/tradegecko/orders.json")).unwrap();
        assert_eq!(orders.orders[0].id, 5706);
        assert_eq!(orders.orders[0].order_number.as_deref(), Some("SO0211"));
        let lines: Lines =
            serde_json::from_str(include_str!("../../../tests/data/tradegecko/order_line_items.json")).unwrap();
        assert!(lines.order_line_items.iter().all(|l| l.quantity >= 0.0));
        let variants: Variants =
            serde_json::from_str(include_str!("../../../tests/data/tradegecko/variants.json")).unwrap();
        assert_eq!(variants.variants.len(), 5);
        let addresses: Addresses =
            serde_json::from_str(include_str!("../../../tests/data/tradegecko/addresses.json")).unwrap();
        assert_eq!(addresses.addresses.len(), 5);
    }
}
