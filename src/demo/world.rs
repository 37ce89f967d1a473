//! The demo's world: the test kit's wired world ([`crate::testkit::world`]) stocked for the
//! story — a catalogue with one scarce item and one cart variant the warehouse knows only
//! under another name — and sized to the number of orders the story finalizes, with a Shopify
//! store beside the TradeGecko cart (the same catalogue, the variants' barcodes the
//! warehouse's). The merchant and both carts are set up through the admin API (as a merchant
//! onboards), so the merchant can
//! change the cart's ship method mapping there; Express is mapped, unmapped methods rejected.

use std::ops::Deref;

use anyhow::Context;

use super::alerts::AlertSinks;
use crate::domain::WarehouseService;
use crate::settings::{RateLimit, ShipMethods};
use crate::sim::easypost::InventoryItem;
use crate::sim::seed;
use crate::testkit::shopify::ShopifyOptions;
use crate::testkit::sims::{CartVariant, SimOptions};
use crate::testkit::wiring::WiredSecret;
use crate::testkit::world::{self as kit, WorldOptions};

pub use crate::testkit::shopify::SHOPIFY_CART;
pub use crate::testkit::world::{CART, MERCHANT};

/// Catalogue items `SKU-0001…`; the last one is scarce at the warehouse.
pub const ITEMS: usize = 6;
/// Units of each item on hand at both sides at the start, for up to this many orders.
pub const STOCK: i64 = 100;
/// Units of the scarce item at the warehouse at the start.
pub const SCARCE_STOCK: i64 = 1;
/// A cart variant without a UPC: it reaches the warehouse only through an alias.
pub const UNALIASED_SKU: &str = "GIFT-WRAP";
/// The warehouse barcode the alias maps it to (a product of its own).
pub const UNALIASED_BARCODE_ITEM: usize = 99;

/// The ship method the cart's mapping knows from the start.
pub const EXPRESS: &str = "Express";
/// A ship method the mapping lacks until the merchant adds it, and the service it gets.
pub const UNMAPPED_METHOD: (&str, &str) = ("Pigeon Post", "2day");
/// How long the cart's OAuth access tokens live in the demo: the story takes a second or two,
/// so a one-second token is refreshed while it runs (TradeGecko's live two hours).
pub const TOKEN_LIFETIME_SECS: u64 = 1;

/// The store the demo's cartgate uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoStore {
    /// The embedded store (`memory://`).
    Memory,
    /// A Redis URL; the demo uses a key prefix of its own there.
    Redis(String),
}

/// The running pieces; dereferences to the test kit's world (`world.tg`, `world.ep`).
pub struct World {
    inner: kit::World,
    /// cartgate's base URL.
    pub url: String,
    pub admin_token: String,
    /// The effective configuration, secrets redacted.
    pub config_text: String,
    /// The merchant's alert channels (a local SMTP server and webhook receiver).
    pub sinks: AlertSinks,
}

impl World {
    /// Starts the simulators, stocked for `orders` regular orders, and a cartgate wired to them.
    pub async fn start(store: &DemoStore, orders: usize) -> anyhow::Result<Self> {
        let sinks = AlertSinks::start().await?;
        let wired =
            kit::Wired::start(options(store, orders, &sinks)).await.context("starting the demo's simulators")?;
        let inner = wired.serve_through_api(crate::workflows::registry).await.context("starting the demo's world")?;
        let config_text = toml::to_string_pretty(inner.settings()).context("printing the configuration")?;
        let config_text = mask_store_password(config_text, store);
        let (url, admin_token) = (inner.url(), inner.admin_token().to_owned());
        Ok(Self { inner, url, admin_token, config_text, sinks })
    }

    /// Stops cartgate (gracefully) and both simulators.
    pub async fn shutdown(self) {
        self.inner.shutdown().await;
    }
}

impl Deref for World {
    type Target = kit::World;

    fn deref(&self) -> &kit::World {
        &self.inner
    }
}

/// Stock of each plentiful item for `orders` regular orders: a regular order takes at most
/// two units of one item and one of another, cycling over five items, so no item is asked
/// for more than `orders / 2` units; [`STOCK`] covers the default story with room to spare.
pub fn stock_for(orders: usize) -> i64 {
    STOCK.max(i64::try_from(orders).unwrap_or(i64::MAX))
}

/// The warehouse barcode of the scarce item.
pub fn scarce_barcode() -> String {
    seed::barcode(ITEMS)
}

fn options(store: &DemoStore, orders: usize, sinks: &AlertSinks) -> WorldOptions {
    let sims = SimOptions {
        items: ITEMS,
        stock: stock_for(orders),
        // The unaliased variant exists on both sides under different names (SKU in the cart,
        // its own barcode at the warehouse); the scarce item is short at the warehouse.
        cart_variants: vec![CartVariant {
            sku: UNALIASED_SKU.into(),
            upc: None,
            title: "Gift wrap (no UPC)".into(),
            stock: STOCK,
        }],
        warehouse_levels: vec![
            InventoryItem { barcode: scarce_barcode(), quantity: SCARCE_STOCK, warehouse_id: None },
            InventoryItem { barcode: seed::barcode(UNALIASED_BARCODE_ITEM), quantity: STOCK, warehouse_id: None },
        ],
        ..SimOptions::default()
    };
    // The Shopify store sells the same catalogue, stocked as the TradeGecko cart.
    let shopify = ShopifyOptions { items: ITEMS, stock: stock_for(orders), ..ShopifyOptions::default() };
    let mut opts = WorldOptions { sims, shopify: Some(shopify), ..WorldOptions::default() };
    let express = WarehouseService { service: "express".into(), delivery_confirmation: None };
    opts.tenant.ship_methods =
        ShipMethods { map: [(EXPRESS.to_owned(), express)].into(), reject_unmapped: true, ..ShipMethods::default() };
    // The cart is connected by OAuth (Connect → the simulator's approval → cartgate's callback).
    opts.sims.cart_oauth.token_lifetime_secs = TOKEN_LIFETIME_SECS;
    opts.tenant.cart_auth = crate::settings::CartAuth::Oauth;
    // Alerts go to the demo's own mail server and webhook receiver, as they happen.
    let (deployment, merchant) = sinks.wiring();
    (opts.cartgate.alerts, opts.tenant.alerts) = (Some(deployment), Some(merchant));
    let limit = RateLimit { requests: 200, per_secs: 1 };
    (opts.tenant.wms_rate_limit, opts.tenant.cart_rate_limit, opts.tenant.wms_timeout_secs) = (limit, limit, None);
    let token = || uuid::Uuid::new_v4().simple().to_string();
    opts.cartgate.server.admin_token = Some(WiredSecret::new(format!("demo-{}", token())));
    opts.cartgate.store.url = match store {
        DemoStore::Memory => "memory://".to_owned(),
        DemoStore::Redis(url) => url.clone(),
    };
    opts.cartgate.store.prefix = format!("cartgate-demo-{}", &token()[..8]);
    if matches!(store, DemoStore::Redis(_)) {
        // The OAuth tokens are sealed at rest; the memory store generates its own key.
        let key = crate::tenants::generate_key();
        opts.cartgate.tenants.keys = vec![WiredSecret::new(secrecy::ExposeSecret::expose_secret(&key))];
    }
    opts
}

/// `store.url` is not a secret field, but a Redis URL may carry a password.
fn mask_store_password(text: String, store: &DemoStore) -> String {
    let DemoStore::Redis(raw) = store else { return text };
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("redacted"));
            text.replace(raw.as_str(), url.as_str())
        }
        _ => text,
    }
}
