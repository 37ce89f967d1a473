//! `[apps]`: the applications cartgate runs as on the carts' platforms (OAuth clients whose
//! secrets also sign their carts' webhooks).

use serde::{Deserialize, Serialize};
use url::Url;

use super::{ConfigError, Secret};

/// `[apps]`: the OAuth applications cartgate runs as.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AppsSettings {
    pub tradegecko: Option<TradeGeckoApp>,
    pub shopify: Option<ShopifyApp>,
}

/// `[apps.tradegecko]`: the TradeGecko OAuth application every `auth = "oauth"` cart connects
/// through. Its client secret also signs those carts' webhooks.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TradeGeckoApp {
    pub client_id: Secret,
    pub client_secret: Secret,
    /// The previous client secret, accepted too on webhooks while a rotation is under way.
    pub client_secret_previous: Option<Secret>,
    /// Where the merchant's browser is sent to grant access.
    #[serde(default = "default_authorize_url")]
    pub authorize_url: Url,
}

/// TradeGecko's documented authorize endpoint (UPSTREAMS.md, "Authentication").
pub const TRADEGECKO_AUTHORIZE_URL: &str = "https://api.tradegecko.com/oauth/authorize";

#[allow(clippy::expect_used)] // a constant that parses (tested); read once at start-up
fn default_authorize_url() -> Url {
    Url::parse(TRADEGECKO_AUTHORIZE_URL).expect("the default authorize URL parses")
}

/// `[apps.shopify]`: the Shopify app every `auth = "oauth"` Shopify cart is installed through.
/// Its client secret signs the webhooks of every Shopify cart (a token cart may name its own).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ShopifyApp {
    pub client_id: Secret,
    pub client_secret: Secret,
    /// The previous client secret, accepted too on webhooks for the hour a rotation takes.
    pub client_secret_previous: Option<Secret>,
    /// The access scopes asked for at Connect (comma-separated, Shopify's spelling).
    #[serde(default = "default_shopify_scopes")]
    pub scopes: String,
    /// The Admin API version every call names (`YYYY-MM`); Shopify answers an unsupported one
    /// with its oldest, which cartgate reports.
    #[serde(default = "default_shopify_api_version")]
    pub api_version: String,
}

/// The scopes cartgate needs: orders, merchant-managed fulfillment orders, inventory and
/// locations (UPSTREAMS-shopify.md, "Scopes").
pub const SHOPIFY_SCOPES: &str = "read_orders,read_merchant_managed_fulfillment_orders,\
write_merchant_managed_fulfillment_orders,read_inventory,write_inventory,read_locations";

/// The Admin API version cartgate is written against.
pub const SHOPIFY_API_VERSION: &str = "2026-10";

fn default_shopify_scopes() -> String {
    SHOPIFY_SCOPES.to_owned()
}

fn default_shopify_api_version() -> String {
    SHOPIFY_API_VERSION.to_owned()
}

impl ShopifyApp {
    /// `api_version` is a quarterly `YYYY-MM` (01, 04, 07 or 10); `scopes` names at least one.
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let quarterly = self.api_version.split_once('-').is_some_and(|(y, m)| {
            y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) && matches!(m, "01" | "04" | "07" | "10")
        });
        if !quarterly {
            let msg = format!("\"{}\" is not a Shopify API version (YYYY-01/04/07/10)", self.api_version);
            errors.push(ConfigError::invalid("apps.shopify.api_version", msg));
        }
        if self.scopes.split(',').all(|s| s.trim().is_empty()) {
            errors.push(ConfigError::invalid("apps.shopify.scopes", "must name at least one scope"));
        }
        errors
    }
}

impl AppsSettings {
    /// The Admin API version Shopify calls name: `[apps.shopify].api_version`, else cartgate's.
    pub fn shopify_api_version(&self) -> &str {
        self.shopify.as_ref().map_or(SHOPIFY_API_VERSION, |a| a.api_version.as_str())
    }
}
