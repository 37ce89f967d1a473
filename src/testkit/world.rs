//! One wired world: the simulators ([`Sims`]), a cartgate configured for them, and the webhooks
//! between them connected — what the demo, the flow tests, the reliability example and the
//! intake bench run on, wired the way a merchant wires the real services.
//!
//! Two stages, because some users run cartgate as separate processes:
//! * [`Wired::start`] starts the simulators and types cartgate's configuration ([`Wiring`]).
//!   Processes get it as a file ([`Wired::write_config`]) and are connected with
//!   [`Wired::connect`] once they answer at the public URL.
//! * [`Wired::serve`] (or [`World::start`] for both stages) runs cartgate in this process and
//!   connects it: a [`World`]. [`Wired::serve_through_api`] does the same with the merchants
//!   set up through the admin API instead of the file (their settings are then the API's to
//!   change, as a merchant's own are).

use std::ops::Deref;
use std::time::Duration;

use url::Url;

use super::app::{self, RunningApp};
use super::shopify::{SHOPIFY_CART, ShopifyOptions, ShopifyStore};
use super::sims::{SimOptions, Sims, Tenant};
use super::wiring::{AppsWiring, RetryWiring, WiredSecret, Wiring, WiringError, WorkerWiring};
use crate::lifecycle::Readiness;
use crate::settings::CartAuth;
use crate::settings::Settings;
use crate::sim::SimError;
use crate::sim::easypost::EpError;
use crate::store::Store;
use crate::workers::Registry;
use crate::workflows::Deps;

/// The world's merchant.
pub const MERCHANT: &str = "acme";
/// The merchant's TradeGecko cart.
pub const CART: &str = "acme-tg";

/// Why a world could not start.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("starting the {0} simulator: {1}")]
    Sim(&'static str, #[source] SimError),
    #[error("stocking the warehouse: {0}")]
    Stock(#[source] EpError),
    #[error("the EasyPost simulator has no production key")]
    NoWmsKey,
    #[error("invalid id: {0}")]
    Id(String),
    #[error("invalid URL: {0}")]
    Url(#[from] url::ParseError),
    #[error("finding a free port: {0}")]
    Port(#[source] std::io::Error),
    #[error(transparent)]
    Wiring(#[from] WiringError),
    #[error("starting cartgate: {0:#}")]
    Cartgate(#[source] anyhow::Error),
    #[error("registering cartgate's webhook at EasyPost: {0}")]
    WmsWebhook(#[source] reqwest::Error),
    #[error("connecting the cart by OAuth: {0}")]
    OAuth(#[source] reqwest::Error),
    #[error("the OAuth callback answered {0}")]
    OAuthCallback(u16),
    #[error("cartgate registered only {1} TradeGecko webhooks within {0:?}")]
    CartWebhooks(Duration, usize),
    #[error("setting the merchants up through the admin API: {0}")]
    Setup(String),
    #[error("the Shopify store: {0}")]
    Shopify(String),
}

/// Everything a world is built from.
#[derive(Clone, Debug)]
pub struct WorldOptions {
    pub sims: SimOptions,
    pub tenant: Tenant,
    /// cartgate's configuration apart from the merchant, which [`Wired::start`] adds from
    /// `tenant` once the simulators run. Without a `public_url`, cartgate gets a free loopback
    /// port and that is its public URL.
    pub cartgate: Wiring,
    /// A Shopify store beside the TradeGecko cart: the merchant's second cart ([`SHOPIFY_CART`],
    /// a custom app's token, webhooks signed by `[apps.shopify]`). `None`: TradeGecko only.
    pub shopify: Option<ShopifyOptions>,
}

impl Default for WorldOptions {
    /// Ten items in plenty, the embedded store, a random admin token, 10 s leases and retries
    /// after 1, 1 and 2 s (so a failed step shows within seconds).
    fn default() -> Self {
        let mut cartgate = Wiring::new("memory://");
        cartgate.server.admin_token = Some(WiredSecret::new(uuid::Uuid::new_v4().simple().to_string()));
        cartgate.workers = WorkerWiring { lease_secs: Some(10), ..WorkerWiring::default() };
        cartgate.retry = RetryWiring { schedule_secs: Some(vec![1, 1, 2]) };
        Self { sims: SimOptions::default(), tenant: Tenant::default(), cartgate, shopify: None }
    }
}

/// Simulators running and cartgate's configuration typed; cartgate not started yet.
pub struct Wired {
    pub sims: Sims,
    /// The Shopify store, when the world has one.
    pub shop: Option<ShopifyStore>,
    pub wiring: Wiring,
    webhook_secret: WiredSecret,
    cart_auth: CartAuth,
}

impl Wired {
    /// Starts the simulators and writes cartgate's merchant and cart for them into the wiring.
    pub async fn start(opts: WorldOptions) -> Result<Self, WorldError> {
        let sims = Sims::start(&opts.sims).await?;
        let mut wiring = opts.cartgate;
        if wiring.server.public_url.is_none() {
            let port = super::free_port().map_err(WorldError::Port)?;
            wiring.server.bind.set_port(port);
            wiring.server.public_url = Some(Url::parse(&format!("http://127.0.0.1:{port}"))?);
        }
        let mut merchant = sims.merchant(&opts.tenant)?;
        if opts.tenant.cart_auth == CartAuth::Oauth {
            let apps = wiring.apps.get_or_insert_with(AppsWiring::default);
            apps.tradegecko = Some(sims.app_wiring()?);
        }
        let shop = match &opts.shopify {
            Some(shop_opts) => {
                let shop = ShopifyStore::start(shop_opts).await.map_err(|e| WorldError::Shopify(e.to_string()))?;
                let mut cart =
                    shop.cart(SHOPIFY_CART, CartAuth::Token).map_err(|e| WorldError::Shopify(e.to_string()))?;
                // The same schedule, ship methods and inventory settings as the TradeGecko cart.
                (cart.schedule, cart.ship_methods) =
                    (opts.tenant.cart_schedule.clone(), opts.tenant.ship_methods.clone());
                cart.inventory = opts.tenant.inventory.clone();
                cart.rate_limit = shop_opts.cart_rate_limit;
                merchant.carts.push(cart);
                wiring.apps.get_or_insert_with(AppsWiring::default).shopify = Some(shop.app_wiring());
                Some(shop)
            }
            None => None,
        };
        wiring.merchants.push(merchant);
        let (webhook_secret, cart_auth) = (opts.tenant.webhook_secret, opts.tenant.cart_auth);
        Ok(Self { sims, shop, wiring, webhook_secret, cart_auth })
    }

    /// Where the simulators send cartgate's webhooks (no trailing slash).
    pub fn public_url(&self) -> String {
        self.wiring.server.public_url.as_ref().map_or_else(String::new, |u| u.as_str().trim_end_matches('/').to_owned())
    }

    /// The validated settings.
    pub fn settings(&self) -> Result<Settings, WorldError> {
        Ok(self.wiring.settings()?)
    }

    /// Writes the configuration for `cartgate serve --config` (readable by this user only).
    pub fn write_config(&self, path: &std::path::Path) -> Result<(), WorldError> {
        Ok(self.wiring.write(path)?)
    }

    /// Connects the webhooks of the cartgate(s) answering at the public URL (an OAuth cart is
    /// connected by OAuth first: its webhooks are registered once it has a token).
    pub async fn connect(&self) -> Result<(), WorldError> {
        if self.cart_auth == CartAuth::Oauth {
            let token = self.wiring.server.admin_token.as_ref().map_or("", WiredSecret::expose);
            match self.sims.connect_oauth(&self.public_url(), token).await? {
                200 => {}
                other => return Err(WorldError::OAuthCallback(other)),
            }
        }
        self.sims.connect(&self.public_url(), &self.webhook_secret).await?;
        if let Some(shop) = &self.shop {
            // cartgate subscribes at start-up (`ensure_webhooks`); orders made before that
            // would come only by the poll.
            let topics = ["ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "APP_UNINSTALLED"];
            shop.wait_for_subscriptions(&topics).await.map_err(|e| WorldError::Shopify(e.to_string()))?;
        }
        Ok(())
    }

    /// Runs cartgate in this process with the job handlers `registry` builds, and connects it.
    pub async fn serve(self, registry: impl FnOnce(&Deps) -> Registry) -> Result<World, WorldError> {
        let settings = self.settings()?;
        let app = app::spawn(settings.clone(), registry).await?;
        let world = World { wired: self, app, settings };
        world.wired.connect().await?;
        Ok(world)
    }
}

impl Wired {
    /// [`Wired::serve`], the wiring's merchants and carts set up through the admin API (`PUT
    /// /admin/merchants/{m}`, `PUT /admin/merchants/{m}/carts/{c}`) instead of the file. Needs
    /// the admin token; a tenant key is generated when none is wired.
    pub async fn serve_through_api(mut self, registry: impl FnOnce(&Deps) -> Registry) -> Result<World, WorldError> {
        if self.wiring.tenants.keys.is_empty() {
            let key = crate::tenants::generate_key();
            self.wiring.tenants.keys = vec![WiredSecret::new(secrecy::ExposeSecret::expose_secret(&key))];
        }
        let merchants = std::mem::take(&mut self.wiring.merchants);
        let settings = self.settings()?;
        let token = self.wiring.server.admin_token.clone().ok_or_else(|| WorldError::Setup("no admin token".into()))?;
        let app = app::spawn(settings.clone(), registry).await?;
        let client = reqwest::Client::new();
        for m in &merchants {
            let mut body = without_nulls(serde_json::to_value(m).map_err(|e| WorldError::Setup(e.to_string()))?);
            let table = body.as_object_mut().ok_or_else(|| WorldError::Setup("a merchant is a table".into()))?;
            table.remove("id");
            let carts = table.remove("carts").unwrap_or_default();
            let base = format!("{}/admin/merchants/{}", app.url(), m.id);
            put(&client, &base, token.expose(), &body).await?;
            for mut cart in carts.as_array().cloned().unwrap_or_default() {
                let id = cart.as_object_mut().and_then(|o| o.remove("id")).unwrap_or_default();
                let id = id.as_str().unwrap_or_default().to_owned();
                put(&client, &format!("{base}/carts/{id}"), token.expose(), &cart).await?;
            }
        }
        let world = World { wired: self, app, settings };
        world.wired.connect().await?;
        Ok(world)
    }
}

/// A `PUT` of the admin API that must answer 2xx.
async fn put(client: &reqwest::Client, url: &str, token: &str, body: &serde_json::Value) -> Result<(), WorldError> {
    let resp = client.put(url).bearer_auth(token).json(body).send().await;
    let resp = resp.map_err(|e| WorldError::Setup(format!("PUT {url}: {e}")))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let text = resp.text().await.unwrap_or_default();
    Err(WorldError::Setup(format!("PUT {url} answered {status}: {text}")))
}

/// A wired table as an API body: the file has no null, only absent keys.
fn without_nulls(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// The simulators and a cartgate running in this process, connected. Dereferences to the
/// simulators (`world.tg`, `world.ep`).
pub struct World {
    wired: Wired,
    app: RunningApp,
    settings: Settings,
}

impl World {
    /// Starts everything with the real job handlers.
    pub async fn start(opts: WorldOptions) -> Result<Self, WorldError> {
        Self::start_with(opts, crate::workflows::registry).await
    }

    /// [`World::start`] with job handlers of the caller's choosing (built over cartgate's deps).
    pub async fn start_with(opts: WorldOptions, registry: impl FnOnce(&Deps) -> Registry) -> Result<Self, WorldError> {
        Wired::start(opts).await?.serve(registry).await
    }

    /// cartgate's base URL.
    pub fn url(&self) -> String {
        self.wired.public_url()
    }

    /// The bearer token of `/admin/*`.
    pub fn admin_token(&self) -> &str {
        self.wired.wiring.server.admin_token.as_ref().map_or("", WiredSecret::expose)
    }

    /// The secret EasyPost signs its webhooks to cartgate with.
    pub fn webhook_secret(&self) -> &WiredSecret {
        &self.wired.webhook_secret
    }

    /// cartgate's effective settings (`Debug` and serialisation redact the secrets).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn deps(&self) -> &Deps {
        self.app.deps()
    }

    pub fn store(&self) -> &Store {
        self.app.store()
    }

    /// Every alert notice cartgate handed to its sink, in order.
    pub fn notices(&self) -> Vec<(crate::domain::MerchantId, crate::alerts::Notice)> {
        self.app.notices()
    }

    pub fn readiness(&self) -> &Readiness {
        self.app.readiness()
    }

    /// The Shopify store (`None` unless the world was started with one).
    pub fn shop(&self) -> Option<&ShopifyStore> {
        self.wired.shop.as_ref()
    }

    /// Stops cartgate (gracefully, waiting up to 30 s for the drain) and the simulators.
    pub async fn shutdown(self) {
        self.app.stop(Duration::from_secs(30)).await;
        self.wired.sims.stop().await;
        if let Some(shop) = &self.wired.shop {
            shop.stop().await;
        }
    }
}

impl Deref for World {
    type Target = Sims;

    fn deref(&self) -> &Sims {
        &self.wired.sims
    }
}
