//! The settings of one cart (`[[merchants.carts]]` and its tables). Field docs are the
//! reference; `config/example.toml` shows every key with a comment.

use serde::{Deserialize, Serialize};
use url::Url;

use super::model::default_timeout_secs;
use super::{CalendarDate, Interval, RateLimit, Secret, ShipMethods};
use crate::domain::{AdjustmentReason, CartId, SkuPatterns, StockView};

/// How a cart authenticates to TradeGecko.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CartAuth {
    /// A fixed (privileged) `access_token` in the settings, and the cart's own `client_secret`.
    #[default]
    Token,
    /// Connected through `[apps.tradegecko]` (`POST /admin/carts/{c}/connect`); tokens are kept
    /// sealed in the store and refreshed.
    Oauth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CartKind {
    Tradegecko,
}

/// Which variant field is sent to the warehouse when no alias exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemField {
    #[default]
    Sku,
    Upc,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CartSettings {
    pub id: CartId,
    pub kind: CartKind,
    /// The TradeGecko API host; webhook `resource_url`s must point here.
    pub base_url: Url,
    /// `token` (the default: `access_token` + `client_secret`) or `oauth` (`[apps.tradegecko]`).
    #[serde(default)]
    pub auth: CartAuth,
    /// The privileged access token (`auth = "token"` only).
    pub access_token: Option<Secret>,
    /// The OAuth application's client secret, which signs webhooks (`auth = "token"`; an
    /// `oauth` cart's webhooks are signed with `[apps.tradegecko].client_secret`).
    pub client_secret: Option<Secret>,
    /// The previous client secret, accepted too while a rotation is under way.
    pub client_secret_previous: Option<Secret>,
    /// The stock location orders ship from and inventory is written to.
    pub stock_location_id: Option<i64>,
    #[serde(default)]
    pub item_field: ItemField,
    #[serde(default = "RateLimit::tradegecko")]
    pub rate_limit: RateLimit,
    #[serde(default)]
    pub filters: OrderFilters,
    #[serde(default)]
    pub schedule: CartSchedule,
    /// How the warehouse's stock is written to the cart.
    #[serde(default)]
    pub inventory: CartInventory,
    /// Which warehouse service each of the cart's shipping methods goes out with.
    #[serde(default)]
    pub ship_methods: ShipMethods,
    /// Per-request timeout in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

/// How the warehouse's stock is written to the cart.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CartInventory {
    /// The `reason` of every stock adjustment: one of TradeGecko's documented reasons
    /// (`supplier`, `customer`, `damaged`, `shrinkage`, `promotion`, `production`).
    #[serde(default)]
    pub adjustment_reason: AdjustmentReason,
    /// Units kept back from each product's warehouse quantity before it is uploaded (never
    /// below 0), so the cart does not sell the last units the warehouse is still counting.
    /// Held orders are released early only against the stock left after it.
    #[serde(default)]
    pub reserve: u32,
    /// EasyPost warehouse ids (`wh_…`) whose quantities are summed; empty: every warehouse.
    #[serde(default)]
    pub locations: Vec<String>,
}

impl CartInventory {
    /// What of the warehouse's stock this cart sees.
    pub fn view(&self) -> StockView<'_> {
        StockView { locations: &self.locations, reserve: self.reserve }
    }
}

/// Which cart orders go to the warehouse (CartRover's defaults).
///
/// `status`, `payment_status` and `fulfillment_status` say when an order is ready: one that
/// does not match is not imported (yet). The others leave an order out for good — it is
/// recorded as `skipped` with the reason, and looked at again when it changes in the cart.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrderFilters {
    pub status: Vec<String>,
    pub payment_status: Vec<String>,
    pub fulfillment_status: Vec<String>,
    /// Only orders from these TradeGecko stock locations; empty: every location.
    pub stock_location_ids: Vec<i64>,
    /// Only orders carrying at least one of these tags (case-insensitive); empty: any.
    pub tags_any: Vec<String>,
    /// No order carrying any of these tags (case-insensitive).
    pub tags_none: Vec<String>,
    /// Only orders created on or after this day (UTC); also where the first download starts.
    /// Unset: the first download reads one day back, and that day is the filter.
    pub created_after: Option<CalendarDate>,
    /// Lines whose SKU matches one of these globs (`*`, `?`) are never sent; an order left
    /// with no line to ship is skipped.
    pub skip_skus: SkuPatterns,
}

impl Default for OrderFilters {
    fn default() -> Self {
        Self {
            status: vec!["finalized".into()],
            payment_status: vec!["paid".into()],
            fulfillment_status: vec!["unshipped".into()],
            stock_location_ids: Vec::new(),
            tags_any: Vec::new(),
            tags_none: Vec::new(),
            created_after: None,
            skip_skus: SkuPatterns::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CartSchedule {
    pub order_download: Interval,
    pub shipment_upload: Interval,
    pub inventory_upload: Interval,
}

impl Default for CartSchedule {
    fn default() -> Self {
        Self {
            order_download: Interval::Every(std::time::Duration::from_secs(300)),
            shipment_upload: Interval::Auto,
            inventory_upload: Interval::Auto,
        }
    }
}
