//! A Shopify store for a world: the Shopify simulator started on a free loopback port with the
//! same catalogue as the other simulators (`SKU-0001…`, each variant's barcode the warehouse
//! barcode), and the pieces of cartgate's configuration that point a cart at it — so a flow test
//! runs a Shopify cart next to the TradeGecko one in a few lines:
//!
//! ```ignore
//! let shop = ShopifyStore::start(&ShopifyOptions::default()).await?;
//! wired.cartgate.apps.get_or_insert_default().shopify = Some(shop.app_wiring());
//! merchant.carts.push(shop.cart(SHOPIFY_CART, CartAuth::Token)?);
//! // … start cartgate, then:
//! shop.wait_for_subscriptions(&["ORDERS_CREATE", "ORDERS_UPDATED"]).await?;
//! let id = shop.order(&[("SKU-0001", 2)])?;
//! ```
//!
//! (`sims.rs` knows the world's fixed simulators; this one is added beside them, not into them,
//! while the Shopify cart is new.)

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::wiring::{CartWiring, ShopifyAppWiring, WiredSecret};
use crate::domain::CartId;
use crate::settings::{CartAuth, CartKind, ItemField, RateLimit};
use crate::sim::SimError;
use crate::sim::delivery::DeliveryPolicy;
use crate::sim::faults::FaultConfig;
use crate::sim::seed::Seed;
use crate::sim::shopify::{BucketConfig, NewShopLine, NewShopOrder, NewVariant, ShopError, ShopifyOAuthConfig};
use crate::sim::{ShopifyConfig, ShopifySim};

/// The world's Shopify cart id.
pub const SHOPIFY_CART: &str = "acme-shop";
/// How long cartgate may take to create its webhook subscriptions after it started.
const SUBSCRIPTIONS_WITHIN: Duration = Duration::from_secs(30);

/// Why the store could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ShopifyKitError {
    #[error("starting the Shopify simulator: {0}")]
    Sim(#[from] SimError),
    #[error("seeding the shop: {0}")]
    Shop(#[from] ShopError),
    #[error("invalid id: {0}")]
    Id(String),
    #[error("invalid URL: {0}")]
    Url(#[from] url::ParseError),
    #[error("cartgate subscribed to {1:?} only within {0:?}")]
    Subscriptions(Duration, Vec<String>),
}

/// A variant beyond the generated catalogue.
#[derive(Clone, Debug)]
pub struct ShopVariant {
    pub sku: String,
    pub barcode: Option<String>,
    pub stock: i64,
}

/// What the store starts with.
#[derive(Clone, Debug)]
pub struct ShopifyOptions {
    /// Catalogue items `SKU-0001…` (barcode = the warehouse barcode).
    pub items: usize,
    /// Units of each at the first location.
    pub stock: i64,
    pub variants: Vec<ShopVariant>,
    /// The cost bucket (Standard plan by default).
    pub bucket: BucketConfig,
    /// Short retries, as the other simulators in tests.
    pub delivery: DeliveryPolicy,
    pub faults: FaultConfig,
    pub oauth: ShopifyOAuthConfig,
    pub shop: String,
    /// The cart's call-rate cap (`None`: the Shopify default, 40 calls a second).
    pub cart_rate_limit: Option<RateLimit>,
}

impl Default for ShopifyOptions {
    fn default() -> Self {
        Self {
            items: 10,
            stock: 1000,
            variants: Vec::new(),
            bucket: BucketConfig::default(),
            delivery: DeliveryPolicy::fast(),
            faults: FaultConfig::default(),
            oauth: ShopifyOAuthConfig::default(),
            shop: "acme.myshopify.com".into(),
            cart_rate_limit: None,
        }
    }
}

/// The running store. `sim` is shared, so a test can hand it to tasks.
pub struct ShopifyStore {
    pub sim: Arc<ShopifySim>,
}

impl ShopifyStore {
    pub async fn start(opts: &ShopifyOptions) -> Result<Self, ShopifyKitError> {
        let mut seed = Seed::generated(opts.items, 0);
        if let Some(g) = seed.generate.as_mut() {
            g.stock = opts.stock;
        }
        let sim = ShopifySim::start(ShopifyConfig {
            shop: opts.shop.clone(),
            seed,
            bucket: opts.bucket,
            delivery: opts.delivery.clone(),
            faults: opts.faults.clone(),
            oauth: opts.oauth,
            ..ShopifyConfig::default()
        })
        .await?;
        for v in &opts.variants {
            let variant =
                NewVariant { sku: v.sku.clone(), barcode: v.barcode.clone(), stock: v.stock, ..Default::default() };
            sim.add_variant(&variant)?;
        }
        Ok(Self { sim: Arc::new(sim) })
    }

    /// `[apps.shopify]` for cartgate: the simulator's app.
    pub fn app_wiring(&self) -> ShopifyAppWiring {
        ShopifyAppWiring {
            client_id: self.sim.client_id().to_owned(),
            client_secret: WiredSecret::new(self.sim.client_secret()),
        }
    }

    /// A Shopify cart `id` on this store at its first location, variants matched by barcode.
    /// `Token`: the custom app's `shpat_` token (webhooks signed with `[apps.shopify]`'s secret);
    /// `Oauth`: no token, connected through the app.
    pub fn cart(&self, id: &str, auth: CartAuth) -> Result<CartWiring, ShopifyKitError> {
        let id = CartId::parse(id).map_err(|e| ShopifyKitError::Id(e.to_string()))?;
        let base = Url::parse(self.sim.url())?;
        let mut cart = CartWiring::tradegecko(id, base, WiredSecret::new(self.sim.token()), WiredSecret::new("-"));
        cart.kind = CartKind::Shopify;
        cart.shop = Some(self.sim.shop().to_owned());
        cart.location_id = Some(self.sim.location_gid());
        cart.item_field = ItemField::Barcode;
        cart.client_secret = None;
        cart.auth = Some(auth);
        if auth == CartAuth::Oauth {
            cart.access_token = None;
        }
        Ok(cart)
    }

    /// Creates a paid order of `(sku, units)` lines (sends `orders/create`); its numeric id.
    pub fn order(&self, lines: &[(&str, i64)]) -> Result<u64, ShopifyKitError> {
        let lines = lines
            .iter()
            .map(|(sku, quantity)| NewShopLine { sku: Some((*sku).to_owned()), quantity: *quantity, title: None })
            .collect();
        Ok(self.sim.create_order(NewShopOrder { lines, ..NewShopOrder::default() })?)
    }

    /// Waits until the shop has a subscription for each of `topics` (cartgate creates them at
    /// start); orders created before that would only arrive by the poll.
    pub async fn wait_for_subscriptions(&self, topics: &[&str]) -> Result<(), ShopifyKitError> {
        let deadline = tokio::time::Instant::now() + SUBSCRIPTIONS_WITHIN;
        loop {
            let have: Vec<String> = self.sim.subscriptions().into_iter().map(|(t, _)| t).collect();
            if topics.iter().all(|t| have.iter().any(|h| h == t)) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ShopifyKitError::Subscriptions(SUBSCRIPTIONS_WITHIN, have));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn stop(&self) {
        self.sim.stop().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MerchantId;
    use crate::testkit::wiring::{AppsWiring, MerchantWiring, Wiring};

    /// Both auth kinds, with the app, load through cartgate's own configuration loader.
    #[tokio::test]
    async fn a_shopify_cart_on_the_store_is_valid_configuration() -> Result<(), Box<dyn std::error::Error>> {
        let shop = ShopifyStore::start(&ShopifyOptions { items: 1, ..ShopifyOptions::default() }).await?;
        for auth in [CartAuth::Token, CartAuth::Oauth] {
            let mut wiring = Wiring::new("memory://");
            // An OAuth cart needs cartgate's public URL (its redirect URL).
            wiring.server.public_url = Some(Url::parse("https://cartgate.example")?);
            wiring.apps = Some(AppsWiring { tradegecko: None, shopify: Some(shop.app_wiring()) });
            let url = Url::parse("http://127.0.0.1:9")?;
            let mut merchant = MerchantWiring::easypost(MerchantId::parse("acme")?, url, WiredSecret::new("EZAK-key"));
            merchant.carts.push(shop.cart(SHOPIFY_CART, auth)?);
            wiring.merchants.push(merchant);
            let settings = wiring.settings()?;
            let cart = &settings.merchants[0].carts[0];
            assert_eq!(cart.kind, CartKind::Shopify);
            assert_eq!(cart.shop.as_deref(), Some("acme.myshopify.com"));
            assert_eq!(cart.location_id.as_deref(), Some("gid://shopify/Location/1"));
        }
        shop.stop().await;
        Ok(())
    }
}
