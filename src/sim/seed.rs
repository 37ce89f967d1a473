//! Seed data shared by both simulators: one catalogue (SKU in the cart ↔ barcode/UPC at the
//! warehouse), stock on each side, and a few cart orders.
//!
//! From a TOML file (`config/sim-seed.toml`) and/or generated: `generate = { items = N, orders = M }`
//! adds items `SKU-0001` ↔ barcode `0000000000017` (a valid EAN-13 built from the number) and
//! finalized, paid orders cycling through them.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Why a seed file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid seed file {path}: {source}")]
    Parse { path: String, source: toml::de::Error },
}

/// The whole seed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Seed {
    /// Generated items and orders, added after the listed ones.
    pub generate: Option<Generate>,
    pub items: Vec<SeedItem>,
    pub orders: Vec<SeedOrder>,
}

/// How much to generate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Generate {
    pub items: usize,
    pub orders: usize,
    /// Stock of each generated item on both sides.
    pub stock: i64,
}

/// One catalogue item: a TradeGecko variant and an EasyPost product.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedItem {
    pub sku: String,
    /// The variant's `upc` and the warehouse product's `barcode`.
    pub barcode: String,
    pub title: String,
    /// `stock_on_hand` at the cart's first location.
    pub cart_stock: i64,
    /// Units at the warehouse's first warehouse.
    pub warehouse_stock: i64,
}

/// One cart order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedOrder {
    pub order_number: Option<String>,
    /// `draft|active|finalized|fulfilled|void`.
    pub status: String,
    /// `unpaid|partial|paid`.
    pub payment_status: String,
    pub lines: Vec<SeedLine>,
    pub ship_to: Option<SeedAddress>,
}

impl Default for SeedOrder {
    fn default() -> Self {
        Self {
            order_number: None,
            status: "finalized".into(),
            payment_status: "paid".into(),
            lines: Vec::new(),
            ship_to: None,
        }
    }
}

/// An order line by SKU.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedLine {
    pub sku: String,
    pub quantity: i64,
}

/// A shipping address (TradeGecko field names).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedAddress {
    pub first_name: String,
    pub last_name: String,
    pub company_name: Option<String>,
    pub address1: String,
    pub address2: Option<String>,
    pub suburb: Option<String>,
    pub city: String,
    pub state: String,
    pub zip_code: String,
    pub country: String,
    pub country_code: String,
    pub phone_number: Option<String>,
    pub email: Option<String>,
}

impl SeedAddress {
    /// A plausible US address for generated orders.
    pub fn sample(n: usize) -> Self {
        Self {
            first_name: "Ada".into(),
            last_name: format!("Customer{n}"),
            company_name: None,
            address1: format!("{} Market St", 100 + n),
            address2: None,
            suburb: None,
            city: "San Francisco".into(),
            state: "CA".into(),
            zip_code: "94105".into(),
            country: "United States".into(),
            country_code: "US".into(),
            phone_number: Some("415-555-0100".into()),
            email: Some(format!("customer{n}@example.com")),
        }
    }
}

impl Seed {
    /// Reads a TOML seed file.
    pub fn load(path: &Path) -> Result<Self, SeedError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read { path: name.clone(), source })?;
        toml::from_str(&text).map_err(|source| SeedError::Parse { path: name, source })
    }

    /// Only generated data.
    pub fn generated(items: usize, orders: usize) -> Self {
        Self { generate: Some(Generate { items, orders, stock: 100 }), ..Self::default() }
    }

    /// Listed items, then generated ones.
    pub fn all_items(&self) -> Vec<SeedItem> {
        let mut out = self.items.clone();
        if let Some(g) = &self.generate {
            out.extend((1..=g.items).map(|n| SeedItem {
                sku: sku(n),
                barcode: barcode(n),
                title: format!("Generated item {n}"),
                cart_stock: g.stock,
                warehouse_stock: g.stock,
            }));
        }
        out
    }

    /// Listed orders, then generated ones (1–3 units of one generated item each).
    pub fn all_orders(&self) -> Vec<SeedOrder> {
        let mut out = self.orders.clone();
        if let Some(g) = self.generate.as_ref().filter(|g| g.items > 0) {
            out.extend((1..=g.orders).map(|n| SeedOrder {
                order_number: Some(format!("SO-{n:05}")),
                lines: vec![SeedLine { sku: sku((n - 1) % g.items + 1), quantity: (n % 3) as i64 + 1 }],
                ship_to: Some(SeedAddress::sample(n)),
                ..SeedOrder::default()
            }));
        }
        out
    }
}

/// The generated SKU for item `n`: `SKU-0001`.
pub fn sku(n: usize) -> String {
    format!("SKU-{n:04}")
}

/// The generated barcode for item `n`: 12 digits of `n` plus the EAN-13 check digit.
pub fn barcode(n: usize) -> String {
    let body = format!("{n:012}");
    let sum: u32 = body.bytes().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 }).sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_barcodes_are_valid_ean13() {
        assert_eq!(barcode(1), "0000000000017");
        assert_eq!(sku(12), "SKU-0012");
    }

    #[test]
    fn the_shipped_seed_file_parses() {
        let seed = Seed::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/sim-seed.toml"))).unwrap();
        assert!(!seed.all_items().is_empty());
        assert!(!seed.all_orders().is_empty());
    }
}
