//! The simulated upstreams of a world — TradeGecko (the cart) and EasyPost Fulfillment (the
//! warehouse) — and everything that ties cartgate to them: starting and seeding them, the
//! merchant and cart sections of cartgate's configuration that point at them, the webhook the
//! merchant registers at EasyPost, and waiting for the ones cartgate registers at TradeGecko.
//!
//! This is the one place that knows which simulators a world has; a third one is added here
//! (a field of [`Sims`], its options in [`SimOptions`], its section in [`Sims::merchant`]).

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::wiring::{CartWiring, MerchantWiring, TradeGeckoAppWiring, WiredSecret};
use super::world::{CART, MERCHANT, WorldError};
use crate::domain::{CartId, MerchantId};
use crate::settings::{
    CartAuth, CartInventory, CartSchedule, Interval, ItemField, MerchantSchedule, OrderFilters, RateLimit, ShipMethods,
};
use crate::sim::delivery::DeliveryPolicy;
use crate::sim::easypost::{DEFAULT_SERVICES, EasypostConfig, EasypostSim, EpRateLimit, InventoryItem, Mode};
use crate::sim::faults::FaultConfig;
use crate::sim::seed::Seed;
use crate::sim::tradegecko::{OAuthConfig, RateLimitConfig, TradegeckoConfig, TradegeckoSim};

/// The TradeGecko webhooks cartgate registers: `order.create` and `order.finalized`.
const CART_WEBHOOKS: usize = 2;
/// How long cartgate may take to register them after it started.
const CART_WEBHOOKS_WITHIN: Duration = Duration::from_secs(30);

/// A cart variant outside the generated catalogue.
#[derive(Clone, Debug)]
pub struct CartVariant {
    pub sku: String,
    pub upc: Option<String>,
    pub title: String,
    pub stock: i64,
}

/// What the simulators start with.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Catalogue items `SKU-0001…`, each with a barcode that is its UPC in the cart.
    pub items: usize,
    /// Units of each catalogue item on hand at both sides at the start.
    pub stock: i64,
    /// Cart variants beyond the catalogue.
    pub cart_variants: Vec<CartVariant>,
    /// Warehouse levels set over the seeded ones before cartgate starts.
    pub warehouse_levels: Vec<InventoryItem>,
    /// TradeGecko's own limit (generous by default: cartgate's limit is the one under test).
    pub cart_rate_limit: RateLimitConfig,
    /// EasyPost's own limit (none by default).
    pub wms_rate_limit: EpRateLimit,
    /// How both simulators deliver their webhooks.
    pub delivery: DeliveryPolicy,
    pub cart_faults: FaultConfig,
    pub wms_faults: FaultConfig,
    /// The `service` values the warehouse account offers.
    pub wms_services: Vec<String>,
    /// The cart's stock locations (the first is the cart's `stock_location_id`); empty: one.
    pub cart_locations: Vec<u64>,
    /// TradeGecko's OAuth switches at start, above all `token_lifetime_secs` (default 7200).
    pub cart_oauth: OAuthConfig,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            items: 10,
            stock: 1000,
            cart_variants: Vec::new(),
            warehouse_levels: Vec::new(),
            cart_rate_limit: RateLimitConfig { limit: 100_000, window_secs: 300 },
            wms_rate_limit: EpRateLimit::default(),
            delivery: DeliveryPolicy::fast(),
            cart_faults: FaultConfig::default(),
            wms_faults: FaultConfig::default(),
            wms_services: DEFAULT_SERVICES.map(str::to_owned).to_vec(),
            cart_locations: Vec::new(),
            cart_oauth: OAuthConfig::default(),
        }
    }
}

/// How cartgate's merchant ([`MERCHANT`]) and cart ([`CART`]) are set up against the simulators.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub item_field: ItemField,
    pub merchant_schedule: MerchantSchedule,
    pub cart_schedule: CartSchedule,
    /// cartgate's limit for the EasyPost account.
    pub wms_rate_limit: RateLimit,
    /// cartgate's limit for the TradeGecko account.
    pub cart_rate_limit: RateLimit,
    pub wms_timeout_secs: Option<u64>,
    pub cart_timeout_secs: Option<u64>,
    /// The secret EasyPost signs its webhooks to cartgate with.
    pub webhook_secret: WiredSecret,
    /// The cart's ship method mapping.
    pub ship_methods: ShipMethods,
    /// The cart's `filters` (`None`: the defaults).
    pub filters: Option<OrderFilters>,
    /// The cart's `inventory` (`None`: the defaults).
    pub inventory: Option<CartInventory>,
    /// `Token` (the simulator's fixed token) or `Oauth` (connected through the simulator's
    /// application by [`super::world::Wired::connect`]).
    pub cart_auth: CartAuth,
    /// The merchant's `[merchants.alerts]` (none: no channel).
    pub alerts: Option<super::wiring::MerchantAlertsWiring>,
}

impl Default for Tenant {
    /// Barcodes by UPC, everything event-driven but the hourly polls, limits far above the work.
    fn default() -> Self {
        let hourly = Interval::Every(Duration::from_secs(3600));
        Self {
            item_field: ItemField::Upc,
            merchant_schedule: MerchantSchedule {
                order_delivery: Interval::Auto,
                shipping_confirmations: hourly,
                inventory: hourly,
            },
            cart_schedule: CartSchedule { order_download: hourly, ..CartSchedule::default() },
            wms_rate_limit: RateLimit { requests: 500, per_secs: 1 },
            cart_rate_limit: RateLimit { requests: 500, per_secs: 1 },
            wms_timeout_secs: Some(5),
            cart_timeout_secs: None,
            webhook_secret: WiredSecret::new(uuid::Uuid::new_v4().simple().to_string()),
            ship_methods: ShipMethods::default(),
            filters: None,
            inventory: None,
            cart_auth: CartAuth::Token,
            alerts: None,
        }
    }
}

/// The OAuth application the TradeGecko simulator knows (its secret also signs its webhooks).
#[derive(Clone, Debug)]
pub struct CartApp {
    pub client_id: String,
    pub client_secret: WiredSecret,
    /// `{simulator}/oauth/authorize`.
    pub authorize_url: String,
}

/// The running simulators. Shared handles, so a test can hand them to tasks.
pub struct Sims {
    pub tg: Arc<TradegeckoSim>,
    pub ep: Arc<EasypostSim>,
}

impl Sims {
    /// Starts both simulators on free loopback ports, seeded and stocked as `opts` says.
    pub async fn start(opts: &SimOptions) -> Result<Self, WorldError> {
        let mut seed = Seed::generated(opts.items, 0);
        if let Some(g) = seed.generate.as_mut() {
            g.stock = opts.stock;
        }
        let mut tg_config = TradegeckoConfig {
            rate_limit: opts.cart_rate_limit,
            delivery: opts.delivery.clone(),
            faults: opts.cart_faults.clone(),
            seed: seed.clone(),
            oauth: opts.cart_oauth,
            ..Default::default()
        };
        if !opts.cart_locations.is_empty() {
            tg_config.location_ids = opts.cart_locations.clone();
        }
        let tg = TradegeckoSim::start(tg_config).await.map_err(|e| WorldError::Sim("TradeGecko", e))?;
        let ep = EasypostSim::start(EasypostConfig {
            rate_limit: opts.wms_rate_limit,
            delivery: opts.delivery.clone(),
            faults: opts.wms_faults.clone(),
            services: opts.wms_services.clone(),
            seed,
            ..Default::default()
        })
        .await
        .map_err(|e| WorldError::Sim("EasyPost", e))?;
        for v in &opts.cart_variants {
            tg.add_variant(&v.sku, v.upc.as_deref(), &v.title, v.stock);
        }
        if !opts.warehouse_levels.is_empty() {
            ep.set_inventory(&opts.warehouse_levels).map_err(WorldError::Stock)?;
        }
        Ok(Self { tg: Arc::new(tg), ep: Arc::new(ep) })
    }

    /// The TradeGecko simulator's OAuth application, for cartgate's `[apps.tradegecko]`.
    pub fn cart_app(&self) -> CartApp {
        CartApp {
            client_id: self.tg.client_id().to_owned(),
            client_secret: WiredSecret::new(self.tg.client_secret()),
            authorize_url: self.tg.authorize_url(),
        }
    }

    /// `[apps.tradegecko]` for cartgate: the simulator's application.
    pub fn app_wiring(&self) -> Result<TradeGeckoAppWiring, WorldError> {
        let app = self.cart_app();
        Ok(TradeGeckoAppWiring {
            client_id: app.client_id,
            client_secret: app.client_secret,
            authorize_url: Some(url(&app.authorize_url)?),
        })
    }

    /// Connects cartgate's cart by OAuth the way a merchant does: Connect in cartgate, then the
    /// browser follows the authorize URL, which the simulator approves and redirects to
    /// cartgate's callback. Returns the callback's status.
    pub async fn connect_oauth(&self, cartgate: &str, admin_token: &str) -> Result<u16, WorldError> {
        let fail = WorldError::OAuth;
        let client = reqwest::Client::new();
        let connect = client
            .post(format!("{}/admin/carts/{CART}/connect", cartgate.trim_end_matches('/')))
            .bearer_auth(admin_token)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(fail)?;
        let body: serde_json::Value = connect.json().await.map_err(fail)?;
        let authorize = body["authorize_url"].as_str().unwrap_or_default().to_owned();
        // reqwest follows the simulator's 302 to the callback, as a browser would.
        let page = client.get(authorize).send().await.map_err(fail)?;
        Ok(page.status().as_u16())
    }

    /// The EasyPost key cartgate uses (the production one).
    pub fn wms_key(&self) -> Result<String, WorldError> {
        self.ep.key(Mode::Production).ok_or(WorldError::NoWmsKey)
    }

    /// cartgate's merchant and cart, pointing at these simulators.
    pub fn merchant(&self, tenant: &Tenant) -> Result<MerchantWiring, WorldError> {
        let merchant = MerchantId::parse(MERCHANT).map_err(|e| WorldError::Id(e.to_string()))?;
        let mut m = MerchantWiring::easypost(merchant, url(self.ep.url())?, WiredSecret::new(self.wms_key()?));
        m.wms.webhook_secret = Some(tenant.webhook_secret.clone());
        m.wms.rate_limit = Some(tenant.wms_rate_limit);
        m.wms.timeout_secs = tenant.wms_timeout_secs;
        m.schedule = tenant.merchant_schedule.clone();
        m.alerts = tenant.alerts.clone();
        let cart_id = CartId::parse(CART).map_err(|e| WorldError::Id(e.to_string()))?;
        let mut cart = match tenant.cart_auth {
            CartAuth::Token => CartWiring::tradegecko(
                cart_id,
                url(self.tg.url())?,
                WiredSecret::new(self.tg.token()),
                WiredSecret::new(self.tg.client_secret()),
            ),
            CartAuth::Oauth => CartWiring::oauth(cart_id, url(self.tg.url())?),
        };
        cart.stock_location_id = i64::try_from(self.tg.location_id()).ok();
        cart.item_field = tenant.item_field;
        cart.rate_limit = Some(tenant.cart_rate_limit);
        cart.timeout_secs = tenant.cart_timeout_secs;
        cart.schedule = tenant.cart_schedule.clone();
        cart.ship_methods = tenant.ship_methods.clone();
        cart.filters = tenant.filters.clone();
        cart.inventory = tenant.inventory.clone();
        m.carts.push(cart);
        Ok(m)
    }

    /// Connects the webhooks of a cartgate reachable at `public_url`: the merchant registers it
    /// at EasyPost (in the dashboard for real; here through the API), and cartgate registers
    /// its own at TradeGecko at start-up (`ensure_webhooks`) — orders created before that
    /// would only arrive by the poll, so this waits for them.
    pub async fn connect(&self, public_url: &str, webhook_secret: &WiredSecret) -> Result<(), WorldError> {
        self.register_wms_webhook(public_url, webhook_secret).await?;
        let deadline = tokio::time::Instant::now() + CART_WEBHOOKS_WITHIN;
        while self.tg.webhooks().len() < CART_WEBHOOKS {
            if tokio::time::Instant::now() >= deadline {
                return Err(WorldError::CartWebhooks(CART_WEBHOOKS_WITHIN, self.tg.webhooks().len()));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Ok(())
    }

    async fn register_wms_webhook(&self, public_url: &str, secret: &WiredSecret) -> Result<(), WorldError> {
        let url = format!("{}/webhooks/easypost/{MERCHANT}", public_url.trim_end_matches('/'));
        let body = serde_json::json!({"webhook": {"url": url, "webhook_secret": secret.expose()}});
        let resp = reqwest::Client::new()
            .post(format!("{}/v2/webhooks", self.ep.url()))
            .basic_auth(self.wms_key()?, Some(""))
            .json(&body)
            .send()
            .await
            .map_err(WorldError::WmsWebhook)?;
        resp.error_for_status().map(drop).map_err(WorldError::WmsWebhook)
    }

    /// Stops both simulators.
    pub async fn stop(&self) {
        self.tg.stop().await;
        self.ep.stop().await;
    }
}

fn url(text: &str) -> Result<Url, WorldError> {
    Ok(Url::parse(text)?)
}
