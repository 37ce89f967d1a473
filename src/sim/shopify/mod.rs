//! The Shopify simulator: one shop's GraphQL Admin API, its OAuth endpoints and its webhooks,
//! as UPSTREAMS-shopify.md documents them (the cart adapter is written from that document, so
//! the simulator follows it, not the adapter).
//!
//! * `POST /admin/api/{version}/graphql.json` ([`api`]): the operations cartgate uses,
//!   recognised by their root fields ([`queries`], [`mutations`], [`inventory`]), each answer
//!   cut to the selection set ([`project`]), paced by the cost bucket ([`cost`]);
//! * `GET /admin/oauth/authorize`, `POST /admin/oauth/access_token` ([`oauth`]);
//! * signed webhooks with retries, drops, duplicates and delays ([`webhooks`]);
//! * the shared faults (5xx, 429 storms with `Retry-After`, timeouts, answers lost after the
//!   write) on every route but `/_sim` (and OAuth unless aimed at it), plus 402/423 per shop.
//!
//! Where the document is silent: orders do not commit stock (levels change only through
//! `inventorySetQuantities` and the control API); one fulfillment order per order, at the
//! order's location; loopback `http` webhook URIs are accepted (Shopify requires `https`).
//!
//! Control routes (JSON, no auth, no faults, not recorded) — see [`control`]:
//!
//! | route | does |
//! |---|---|
//! | `POST /_sim/variants` | [`NewVariant`] add a variant (own product and inventory item) with stock |
//! | `POST /_sim/orders` | [`NewShopOrder`] create an order; sends `orders/create` |
//! | `PATCH /_sim/orders/{id}` | [`ShopOrderPatch`] edit (lines, tags, financial status); sends `orders/updated` |
//! | `POST /_sim/orders/{id}/cancel` | cancel; sends `orders/cancelled` and `orders/updated` |
//! | `GET /_sim/orders/{id}` | the order with fulfillment orders and fulfillments |
//! | `GET /_sim/levels` | every inventory level; `GET /_sim/adjustments` every applied set |
//! | `GET/PUT /_sim/bucket` | [`BucketConfig`]; `GET /_sim/throttled` the THROTTLED count |
//! | `PUT /_sim/shop` | `{"status": null\|402\|423}` freeze or lock the shop |
//! | `GET/PUT /_sim/webhooks` | subscriptions / `{"delay_ms"}` |
//! | `POST /_sim/compliance` | [`ComplianceRequest`] send a compliance webhook |
//! | `POST /_sim/uninstall` · `/_sim/install` | `app/uninstalled`, then every token and subscription ends / the custom-app token works again |
//! | `POST /_sim/oauth/expire` · `GET /_sim/oauth/stats` | expire every access token / counters |
//! | `GET/DELETE /_sim/requests` · `/_sim/faults` · `/_sim/deliveries` | as the other simulators |

mod api;
pub mod control;
mod control_routes;
mod cost;
mod gql;
mod inventory;
mod model;
mod mutations;
mod nodes;
pub mod oauth;
mod project;
mod queries;
mod state;
mod webhooks;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::{Arc, Mutex};

use actix_web::web;
use serde::{Deserialize, Serialize};

pub use self::control::{ComplianceRequest, NewVariant, ShopOrderPatch};
pub use self::cost::BucketConfig;
use self::model::gid;
pub use self::model::{Fulfillment, FulfillmentOrder, Level, TrackingInfo};
use self::oauth::OAuth;
pub use self::oauth::{OAuthStats, ShopifyOAuthConfig, query_hmac};
use self::state::ShopState;
pub use self::state::{FIRST_ORDER_ID, NewShopLine, NewShopOrder, ShopError};
pub use self::webhooks::shopify_sign;
use super::SimError;
use super::delivery::{Deliverer, DeliveryPolicy};
use super::faults::{FaultConfig, Faults};
use super::record::Recorder;
use super::seed::Seed;
use super::server::{self, Common, Flavour, Running};
use super::util::lock;

/// The API versions a shop answers (quarterly; the oldest is at its end of support).
pub const SUPPORTED_VERSIONS: [&str; 5] = ["2025-10", "2026-01", "2026-04", "2026-07", "2026-10"];

/// How to start the Shopify simulator.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShopifyConfig {
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// The base URL (default `http://<bound address>`).
    pub public_url: Option<String>,
    /// The shop's `*.myshopify.com` domain (`X-Shopify-Shop-Domain`).
    pub shop: String,
    /// The custom app's Admin API token (`shpat_…`): never expires.
    pub access_token: String,
    /// The app's OAuth credentials; the secret also signs webhooks and OAuth redirects.
    pub client_id: String,
    pub client_secret: String,
    pub oauth: ShopifyOAuthConfig,
    /// Supported API versions, oldest first.
    pub versions: Vec<String>,
    /// Location ids; the first holds the seeded stock and new orders.
    pub location_ids: Vec<u64>,
    pub bucket: BucketConfig,
    pub faults: FaultConfig,
    pub delivery: DeliveryPolicy,
    pub seed: Seed,
    /// Where compliance webhooks go (the app's `compliance_topics` URI).
    pub compliance_uri: Option<String>,
}

/// Shopify's delivery: 5 s per attempt, the first try and 8 retries.
pub fn shopify_delivery() -> DeliveryPolicy {
    DeliveryPolicy { max_attempts: 9, initial_backoff_ms: 1_000, max_backoff_ms: 3_600_000, timeout_ms: 5_000 }
}

impl Default for ShopifyConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            shop: "acme.myshopify.com".into(),
            access_token: "shpat_0123456789abcdef0123456789abcdef".into(),
            client_id: "shopify-client-id".into(),
            client_secret: "shopify-client-secret".into(),
            oauth: ShopifyOAuthConfig::default(),
            versions: SUPPORTED_VERSIONS.map(str::to_owned).to_vec(),
            location_ids: vec![1],
            bucket: BucketConfig::default(),
            faults: FaultConfig::default(),
            delivery: shopify_delivery(),
            seed: Seed::default(),
            compliance_uri: None,
        }
    }
}

/// What every Shopify handler reaches.
pub(crate) struct ShopShared {
    pub common: Arc<Common>,
    pub state: Mutex<ShopState>,
    pub bucket: cost::Bucket,
    pub deliverer: Arc<Deliverer>,
    pub oauth: OAuth,
    pub shop: String,
    pub access_token: String,
    pub client_secret: String,
    pub versions: Vec<String>,
    pub base_url: String,
    /// 0: open; 402 frozen; 423 locked.
    pub shop_status: AtomicU32,
    pub webhook_delay_ms: AtomicU64,
    pub compliance_uri: Mutex<Option<String>>,
    /// The app was uninstalled: the custom-app token answers 401 until `/_sim/install`
    /// (OAuth tokens are revoked; a new grant is a reinstall).
    pub uninstalled: std::sync::atomic::AtomicBool,
}

impl ShopShared {
    fn token_ok(&self, token: &str) -> bool {
        let custom = token == self.access_token && !self.uninstalled.load(std::sync::atomic::Ordering::Relaxed);
        !token.is_empty() && (custom || self.oauth.access_ok(token))
    }

    /// The version that answers a request for `asked`.
    fn answered_version(&self, asked: &str) -> String {
        if self.versions.iter().any(|v| v == asked) {
            return asked.to_owned();
        }
        self.versions.first().cloned().unwrap_or_default()
    }

    /// The version webhooks are sent in (the newest supported).
    fn webhook_version(&self) -> String {
        self.versions.last().cloned().unwrap_or_default()
    }

    fn shop_status(&self) -> Option<(u16, &'static str)> {
        match self.shop_status.load(std::sync::atomic::Ordering::Relaxed) {
            402 => Some((402, "Unavailable Shop")),
            423 => Some((423, "This shop is unavailable")),
            _ => None,
        }
    }
}

/// A running Shopify simulator. Control methods live in [`control`].
pub struct ShopifySim {
    pub(crate) shared: Arc<ShopShared>,
    running: Running,
}

impl ShopifySim {
    /// Binds, seeds and starts serving on the current Tokio runtime.
    pub async fn start(config: ShopifyConfig) -> Result<Self, SimError> {
        if config.versions.is_empty() || config.location_ids.is_empty() {
            return Err(SimError::Seed("the Shopify simulator needs a version and a location".into()));
        }
        let listener = server::bind(config.bind)?;
        let addr = listener.local_addr()?;
        let base_url =
            config.public_url.clone().unwrap_or_else(|| format!("http://{addr}")).trim_end_matches('/').to_owned();
        let common = Arc::new(Common {
            flavour: Flavour::Shopify,
            faults: Faults::new(config.faults.clone()),
            recorder: Recorder::default(),
            rate_limit_limit: AtomicU32::new(0),
        });
        let state =
            ShopState::from_seed(&config.seed, &config.location_ids).map_err(|e| SimError::Seed(e.to_string()))?;
        let mut versions = config.versions.clone();
        versions.sort();
        let shared = Arc::new(ShopShared {
            common: common.clone(),
            state: Mutex::new(state),
            bucket: cost::Bucket::new(config.bucket),
            deliverer: Deliverer::new(config.delivery.clone())?,
            oauth: OAuth::new(
                config.client_id.clone(),
                config.client_secret.clone(),
                config.shop.clone(),
                config.oauth,
            ),
            shop: config.shop.clone(),
            access_token: config.access_token.clone(),
            client_secret: config.client_secret.clone(),
            versions,
            base_url,
            shop_status: AtomicU32::new(0),
            webhook_delay_ms: AtomicU64::new(0),
            compliance_uri: Mutex::new(config.compliance_uri.clone()),
            uninstalled: false.into(),
        });
        let data = web::Data::from(shared.clone());
        let running = server::serve(listener, common, move |cfg| routes(cfg, data.clone()))?;
        tracing::info!(url = %shared.base_url, shop = %shared.shop, "Shopify simulator listening");
        Ok(Self { shared, running })
    }

    /// The base URL (cartgate's `base_url` for a Shopify cart).
    pub fn url(&self) -> &str {
        &self.shared.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    /// The shop domain.
    pub fn shop(&self) -> &str {
        &self.shared.shop
    }

    /// The custom app's `shpat_…` token.
    pub fn token(&self) -> &str {
        &self.shared.access_token
    }

    pub fn client_id(&self) -> &str {
        self.shared.oauth.client_id()
    }

    /// The app's client secret: signs webhooks and OAuth redirects.
    pub fn client_secret(&self) -> &str {
        &self.shared.client_secret
    }

    /// `{url}/admin/api/{version}/graphql.json`.
    pub fn graphql_url(&self, version: &str) -> String {
        format!("{}/admin/api/{version}/graphql.json", self.shared.base_url)
    }

    /// The first location's gid (`gid://shopify/Location/1`).
    pub fn location_gid(&self) -> String {
        gid("Location", lock(&self.shared.state).first_location())
    }

    /// Every API request handled so far.
    pub fn record(&self) -> &Recorder {
        &self.shared.common.recorder
    }

    /// Stops serving (held requests are dropped).
    pub async fn stop(&self) {
        self.running.stop().await;
    }
}

fn routes(cfg: &mut web::ServiceConfig, data: web::Data<ShopShared>) {
    use actix_web::web::post;
    cfg.app_data(data)
        .service(control_routes::scope())
        .configure(oauth::routes)
        .route("/admin/api/{version}/graphql.json", post().to(api::graphql))
        .default_service(web::to(|| async { Flavour::Shopify.error(404, "Not Found", "Not Found") }));
}
