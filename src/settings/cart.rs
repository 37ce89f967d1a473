//! The settings of one cart (`[[merchants.carts]]` and its tables). Field docs are the
//! reference; `config/example.toml` shows every key with a comment.

use serde::{Deserialize, Serialize};
use url::Url;

use super::model::default_timeout_secs;
use super::{CalendarDate, Interval, RateLimit, Secret, ShipMethods};
use crate::domain::{AdjustmentReason, CartId, SkuPatterns, StockView};

/// How a cart authenticates to its cart platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CartAuth {
    /// A fixed `access_token` in the settings (TradeGecko: a privileged token; Shopify: a custom
    /// app's Admin API token), and the secret that signs its webhooks.
    #[default]
    Token,
    /// Connected through `[apps.tradegecko]` / `[apps.shopify]` (`POST /admin/carts/{c}/connect`);
    /// tokens are kept sealed in the store and refreshed.
    Oauth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CartKind {
    Tradegecko,
    Shopify,
}

impl CartKind {
    /// The name in configuration, URLs (`/webhooks/{kind}/{cart}`) and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tradegecko => "tradegecko",
            Self::Shopify => "shopify",
        }
    }

    /// The platform's name, for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Tradegecko => "TradeGecko",
            Self::Shopify => "Shopify",
        }
    }
}

/// Which variant field is sent to the warehouse when no alias exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemField {
    #[default]
    Sku,
    /// TradeGecko: the variant's UPC.
    Upc,
    /// Shopify: the variant's barcode (adapters put it where TradeGecko puts the UPC).
    Barcode,
}

impl ItemField {
    /// Whether the variant's own barcode (TradeGecko UPC, Shopify barcode) is the warehouse's.
    pub fn uses_cart_barcode(self) -> bool {
        matches!(self, Self::Upc | Self::Barcode)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CartSettings {
    pub id: CartId,
    pub kind: CartKind,
    /// The cart's API host: TradeGecko's webhook `resource_url`s must point here. Unset:
    /// `https://api.tradegecko.com`, or `https://{shop}` for Shopify ([`Self::api_base`]).
    pub base_url: Option<Url>,
    /// Shopify: the shop's `*.myshopify.com` domain (its webhooks' `X-Shopify-Shop-Domain`).
    pub shop: Option<String>,
    /// Shopify: the location (`gid://shopify/Location/<n>`) whose fulfillment orders cartgate
    /// fulfils and whose stock it sets.
    pub location_id: Option<String>,
    /// `token` (the default: `access_token` + `client_secret`) or `oauth` (`[apps.tradegecko]`).
    #[serde(default)]
    pub auth: CartAuth,
    /// The access token (`auth = "token"` only).
    pub access_token: Option<Secret>,
    /// The client secret that signs the cart's webhooks (`auth = "token"`; an `oauth` cart's
    /// webhooks are signed with its application's `client_secret`; a Shopify token cart without
    /// one uses `[apps.shopify].client_secret`).
    pub client_secret: Option<Secret>,
    /// The previous client secret, accepted too while a rotation is under way.
    pub client_secret_previous: Option<Secret>,
    /// TradeGecko: the stock location orders ship from and inventory is written to.
    pub stock_location_id: Option<i64>,
    #[serde(default)]
    pub item_field: ItemField,
    /// Calls per window to the cart's API, across replicas. Unset: the kind's own
    /// ([`Self::call_rate`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
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

/// TradeGecko's API host.
pub const TRADEGECKO_API: &str = "https://api.tradegecko.com";

impl CartSettings {
    /// The API host calls go to: `base_url`, else the kind's own.
    pub fn api_base(&self) -> Url {
        if let Some(url) = &self.base_url {
            return url.clone();
        }
        let host = match (self.kind, &self.shop) {
            (CartKind::Shopify, Some(shop)) => format!("https://{shop}"),
            _ => TRADEGECKO_API.to_owned(),
        };
        // A shop that is not a domain is a settings error (`cart_problems`); the constant parses.
        #[allow(clippy::expect_used)]
        Url::parse(&host).or_else(|_| Url::parse(TRADEGECKO_API)).expect("TradeGecko's API host parses")
    }

    /// The call rate in force: `rate_limit`, else TradeGecko's 300 per 300 s, or for Shopify 40
    /// per second — Shopify limits by query cost (paced per shop on its own), not by calls, so
    /// this only caps bursts.
    pub fn call_rate(&self) -> RateLimit {
        self.rate_limit.unwrap_or(match self.kind {
            CartKind::Tradegecko => RateLimit::tradegecko(),
            CartKind::Shopify => RateLimit { requests: 40, per_secs: 1 },
        })
    }

    /// The numeric id of the stock location inventory is written to and fulfilled from:
    /// TradeGecko's `stock_location_id`, Shopify's `location_id` gid.
    pub fn stock_location(&self) -> Option<i64> {
        match self.kind {
            CartKind::Tradegecko => self.stock_location_id,
            CartKind::Shopify => self.location_id.as_deref().and_then(|g| shopify_gid(g, "Location")),
        }
    }
}

/// The number in a Shopify global id `gid://shopify/<kind>/<n>` (`None` for another shape).
pub fn shopify_gid(gid: &str, kind: &str) -> Option<i64> {
    let n = gid.strip_prefix("gid://shopify/")?.strip_prefix(kind)?.strip_prefix('/')?;
    n.parse().ok().filter(|n| *n > 0)
}

/// Whether `shop` is a shop's own `*.myshopify.com` domain (Shopify's weak-shop-validation
/// rule: `^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$`).
pub fn is_shop_domain(shop: &str) -> bool {
    let Some(name) = shop.strip_suffix(".myshopify.com") else { return false };
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric()) && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
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
/// The ready-filters (`status`, `payment_status` — Shopify: `financial_status` — and
/// `fulfillment_status`) say when an order is ready: one that does not match is not imported
/// (yet). Unset, each takes its cart kind's default ([`Self::ready_words`]). The others leave an
/// order out for good — it is recorded as `skipped` with the reason, and looked at again when it
/// changes in the cart.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrderFilters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_status: Option<Vec<String>>,
    /// Shopify's name for `payment_status` (its `displayFinancialStatus`, lower case).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub financial_status: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulfillment_status: Option<Vec<String>>,
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

/// The ready-filters in force: the words each of an order's statuses must be one of (empty:
/// any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyWords {
    pub status: Vec<String>,
    pub payment: Vec<String>,
    pub fulfillment: Vec<String>,
}

impl OrderFilters {
    /// The ready-filters, each the configured list or the kind's default: TradeGecko
    /// `finalized` / `paid` / `unshipped`, Shopify any / `paid` / `unfulfilled`.
    pub fn ready_words(&self, kind: CartKind) -> ReadyWords {
        let words = |list: &[&str]| list.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
        let (status, payment, fulfillment) = match kind {
            CartKind::Tradegecko => (words(&["finalized"]), words(&["paid"]), words(&["unshipped"])),
            CartKind::Shopify => (Vec::new(), words(&["paid"]), words(&["unfulfilled"])),
        };
        let payment_set = match kind {
            CartKind::Shopify => self.financial_status.as_ref().or(self.payment_status.as_ref()),
            CartKind::Tradegecko => self.payment_status.as_ref(),
        };
        ReadyWords {
            status: self.status.clone().unwrap_or(status),
            payment: payment_set.cloned().unwrap_or(payment),
            fulfillment: self.fulfillment_status.clone().unwrap_or(fulfillment),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Settings, cart_problems};

    const SHOP: &str = r#"
        [[merchants]]
        id = "acme"
        [merchants.wms]
        kind = "easypost"
        base_url = "https://api.easypost.com"
        production_api_key = "EZAK-x"
        [[merchants.carts]]
        id = "acme-shop"
        kind = "shopify"
        shop = "acme.myshopify.com"
        access_token = "shpat_x"
        location_id = "gid://shopify/Location/7"
        item_field = "barcode"
        filters = { financial_status = ["paid", "partially_refunded"], tags_none = ["wholesale"] }
        [apps.shopify]
        client_id = "id"
        client_secret = "secret"
    "#;

    #[test]
    fn a_shopify_cart_reads_with_its_kinds_defaults() {
        let settings = Settings::from_toml(SHOP).unwrap();
        let cart = &settings.merchants[0].carts[0];
        assert_eq!(cart.api_base().as_str(), "https://acme.myshopify.com/");
        assert_eq!(cart.stock_location(), Some(7));
        assert!(cart.item_field.uses_cart_barcode());
        let ready = cart.filters.ready_words(cart.kind);
        assert_eq!(ready.payment, ["paid", "partially_refunded"]);
        assert_eq!(ready.fulfillment, ["unfulfilled"]);
        assert!(ready.status.is_empty(), "any status");
        assert_eq!(settings.apps.shopify_api_version(), "2026-10");
        let tg = OrderFilters::default().ready_words(CartKind::Tradegecko);
        assert_eq!(
            (tg.status, tg.payment, tg.fulfillment),
            (vec!["finalized".into()], vec!["paid".into()], vec!["unshipped".into()])
        );
    }

    #[test]
    fn shop_domains_and_location_ids_are_checked() {
        for good in ["acme.myshopify.com", "a-1.myshopify.com", "A9.myshopify.com"] {
            assert!(is_shop_domain(good), "{good}");
        }
        for bad in ["-acme.myshopify.com", "acme.myshopify.com.evil.com", "ac me.myshopify.com", ".myshopify.com"] {
            assert!(!is_shop_domain(bad), "{bad}");
        }
        assert_eq!(shopify_gid("gid://shopify/Location/12", "Location"), Some(12));
        for bad in ["gid://shopify/Order/12", "12", "gid://shopify/Location/x", "gid://shopify/Location/0"] {
            assert_eq!(shopify_gid(bad, "Location"), None, "{bad}");
        }
        let mut cart = Settings::from_toml(SHOP).unwrap().merchants[0].carts[0].clone();
        cart.shop = Some("acme.example.com".into());
        cart.location_id = Some("7".into());
        cart.stock_location_id = Some(1);
        let keys: Vec<String> = cart_problems(&cart).iter().map(|e| e.to_string()).collect();
        for key in ["shop", "location_id", "stock_location_id"] {
            assert!(keys.iter().any(|k| k.contains(key)), "{key} in {keys:?}");
        }
    }

    #[test]
    fn a_shopify_token_cart_needs_a_webhook_secret_and_the_api_version_is_quarterly() {
        let without_app = SHOP.split("[apps.shopify]").next().unwrap();
        let errors = Settings::from_toml(without_app).unwrap_err();
        assert!(errors.iter().any(|e| e.to_string().contains("client_secret")), "{errors:?}");
        let bad_version = format!("{SHOP}api_version = \"2026-11\"\n");
        let errors = Settings::from_toml(&bad_version).unwrap_err();
        assert!(errors.iter().any(|e| e.to_string().contains("api_version")), "{errors:?}");
    }
}
