//! What the workflows know about a cart, whichever cart it is: its orders, its items (variants)
//! with their stock, and what cartgate writes back (fulfillments, stock adjustments).
//!
//! Each cart adapter (`cart/tradegecko/`, later `cart/shopify/`) converts its own wire shapes
//! into these at its edge; nothing past it sees an upstream status string or field name.

use chrono::{DateTime, Utc};

use super::{Barcode, Sku};

/// Whether the cart still wants the order shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CartOrderState {
    /// Anything the cart may still fulfil (whether it passes the cart's filters is separate).
    Open,
    /// Voided or deleted in the cart: never send it, cancel it at the warehouse if it went.
    Voided,
}

/// The cart's own status words for an order, matched against the cart's configured filters
/// (case-insensitively, as the merchant typed them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CartStatusWords {
    pub status: String,
    pub payment: Option<String>,
    pub fulfillment: Option<String>,
}

/// One product line of a cart order, before its variant is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CartLine {
    pub line_item_id: u64,
    pub variant_id: u64,
    /// Units ordered, rounded; lines with none are not shipped.
    pub quantity: u32,
}

/// A cart order as an import first reads it: enough to decide whether to go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartOrder {
    pub id: u64,
    /// The merchant's order number (the cart's id when it has none).
    pub number: String,
    pub state: CartOrderState,
    pub words: CartStatusWords,
    /// A fingerprint of what the cart says changed (its update time, address and lines);
    /// `None` when the cart gives no update time. Equal fingerprints mean nothing to re-read.
    pub version: Option<String>,
    /// Product lines only (freeform and service lines never go to the warehouse).
    pub lines: Vec<CartLine>,
    /// The cart's reference to the shipping address, read by the adapter's `order_details`.
    pub shipping_address_id: Option<u64>,
    /// Contact details on the order itself, used when the address has none.
    pub email: Option<String>,
    pub phone: Option<String>,
    /// How the customer asked for it to be shipped: the label of its shipping line, as the
    /// cart wrote it (`None`: no shipping line, or one without a label).
    pub ship_method: Option<String>,
    /// The order's tags as the cart spells them (the cart's `tags_any` / `tags_none`).
    pub tags: Vec<String>,
    /// The cart stock location the order ships from (the cart's `stock_location_ids`).
    pub stock_location_id: Option<i64>,
    /// When the order was created in the cart (the cart's `created_after`).
    pub created_at: Option<DateTime<Utc>>,
}

/// An order seen by a "changed since" poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdatedOrder {
    pub id: u64,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A cart item (variant): how it is named, and its stock per stock location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartItem {
    pub variant_id: u64,
    pub sku: Option<Sku>,
    pub upc: Option<Barcode>,
    /// `(stock location id, units on hand)`, rounded.
    pub on_hand: Vec<(u64, i64)>,
}

impl CartItem {
    /// Units on hand at one location (not listed: 0).
    pub fn on_hand_at(&self, location: i64) -> i64 {
        let at = self.on_hand.iter().find(|(id, _)| i64::try_from(*id).is_ok_and(|id| id == location));
        at.map_or(0, |(_, units)| *units)
    }
}

/// A fulfillment already recorded on a cart order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartFulfillment {
    pub id: u64,
    pub tracking_number: Option<String>,
}

/// One parcel's tracking, to be recorded on the cart order as a fulfillment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFulfillment {
    pub order_id: u64,
    pub shipped_at: DateTime<Utc>,
    pub carrier: Option<String>,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    /// `(order line item id, units)` in the parcel.
    pub lines: Vec<(u64, u32)>,
}

/// Why a stock adjustment is filed: TradeGecko accepts only its documented reasons (anything
/// else is a 422), so the configuration can name no other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentReason {
    Supplier,
    Customer,
    Damaged,
    /// The closest to "the count was corrected to the warehouse's": the default.
    #[default]
    Shrinkage,
    Promotion,
    Production,
}

impl AdjustmentReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Supplier => "supplier",
            Self::Customer => "customer",
            Self::Damaged => "damaged",
            Self::Shrinkage => "shrinkage",
            Self::Promotion => "promotion",
            Self::Production => "production",
        }
    }
}

/// Changes of stock on hand at one stock location: from what was read just before to the
/// warehouse's level. TradeGecko is sent the signed difference; Shopify the level itself, with
/// the level read as its compare-and-set `changeFromQuantity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockAdjustment {
    pub location: i64,
    pub reason: AdjustmentReason,
    /// Shown to the merchant beside the adjustment.
    pub notes: String,
    pub lines: Vec<StockLine>,
}

/// One variant's stock change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLine {
    pub variant_id: u64,
    /// Units on hand the cart reported just before.
    pub seen: i64,
    /// Units on hand it should have.
    pub target: i64,
}

impl StockLine {
    /// The signed difference, `target − seen`.
    pub fn delta(&self) -> i64 {
        self.target - self.seen
    }
}
