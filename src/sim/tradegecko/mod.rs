//! The TradeGecko simulator: one account's API at the root of its base URL.
//!
//! Behaves as UPSTREAMS.md documents TradeGecko: bearer tokens (401 JSON otherwise), root-key
//! bodies, decimals as strings, ms timestamps, `X-Request-ID`, paging with `X-Pagination` and
//! `Link`, the per-token rate limit with `X-Rate-Limit-*` on every API answer, `Idempotency-Key`
//! replay, 422 `{"errors":{…}}`, and signed thin webhook notifications. Where the docs are
//! silent: lists are in id order; `GET /orders` includes every status unless filtered; an
//! empty list is page 1 of 1; a `fulfilled` fulfillment lowers the order location's stock on
//! hand (a `packed` one does not); over-fulfilment is accepted (so duplicate fulfillments stay
//! visible to tests); 401 is Doorkeeper's `{"error":"invalid_token","error_description":…}`,
//! 404/429/5xx are `{"type":…,"message":…}`, 400 (bad JSON) `{"type":"BadRequest",…}`;
//! idempotent replays carry `Idempotent-Replayed: true` and a key reused for another
//! method/path is a 422 on `idempotency_key`. Notifications go out for `order.create`,
//! `order.finalized`, `order.fulfilled`, `fulfillment.create`, `fulfillment.fulfilled` and
//! `variant.stock_level_update` (a webhook registered as `orders.create` also matches).
//!
//! Control routes (JSON, no auth, no faults, not recorded) — see [`control`] for bodies:
//!
//! | route | does |
//! |---|---|
//! | `POST /_sim/orders` | create an order ([`NewOrder`]); sends `order.create` (+ `order.finalized`) |
//! | `POST /_sim/orders/bulk` | `{"count":N,"template":NewOrder}` create many |
//! | `POST /_sim/orders/{id}/finalize` · `/void` · `/fulfil` | change status; finalize/fulfil notify |
//! | `PATCH /_sim/orders/{id}` | `{"payment_status","status","notes","lines"}` silent edit (`lines` replaces them all) (no webhook exists for edits) |
//! | `GET /_sim/orders/{id}` | the order with lines, fulfillments |
//! | `POST /_sim/notify` | `{"event","object_id"}` send a notification now |
//! | `POST /_sim/variants` | `{"sku","upc","title","stock"}` add a variant |
//! | `GET /_sim/stock` | stock on hand per variant and location |
//! | `GET /_sim/fulfillments` | fulfillments per order (`?order_id=`) |
//! | `GET /_sim/stock_adjustments` | every stock adjustment with its lines |
//! | `GET/DELETE /_sim/requests` · `GET /_sim/requests/counts` · `GET /_sim/calls?token=&window_ms=` | the record |
//! | `GET/PUT/DELETE /_sim/faults` | [`FaultConfig`](crate::sim::faults::FaultConfig) |
//! | `GET/PUT /_sim/deliveries` | delivery log / [`DeliverySwitches`](crate::sim::delivery::DeliverySwitches) |
//! | `GET/PUT /_sim/rate_limit` | [`RateLimitConfig`] |
//! | `PUT /_sim/subscription` | `{"lapsed":true}` → every API call answers 402 |
//! | `GET/PUT /_sim/oauth` | [`OAuthConfig`] (`PUT` takes any subset of its fields) |
//! | `POST /_sim/oauth/revoke` · `/expire` | end every grant / expire every access token now |
//! | `GET /_sim/oauth/stats` | [`OAuthStats`] |
//!
//! OAuth (see [`oauth`]): `GET /oauth/authorize` and `POST /oauth/token` serve the one OAuth
//! application (`client_id`, `client_secret`), outside the API gate. The fixed `tokens` are
//! privileged tokens: they never expire, and each has its own rate-limit counter; tokens issued
//! by OAuth expire and all count as the one account this simulator is (every grant is one
//! connection of it).

mod api;
pub mod control;
mod control_routes;
mod events;
mod gate;
mod model;
pub mod oauth;
mod ops;
mod paging;
mod state;
mod writes;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

pub use self::control::OrderPatch;
pub use self::gate::RateLimitConfig;
use self::gate::{Idempotency, RateLimiter};
pub use self::model::{OrderStatus, PaymentStatus};
use self::oauth::OAuthApp;
pub use self::oauth::{OAuthConfig, OAuthPatch, OAuthStats, TokenFault};
use self::state::TgState;
pub use self::state::{NewLine, NewOrder, TgError};
use super::SimError;
use super::delivery::{Deliverer, DeliveryPolicy};
use super::faults::{FaultConfig, Faults};
use super::record::Recorder;
use super::seed::Seed;
use super::server::{self, Common, Flavour, Running};

/// How to start the TradeGecko simulator.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TradegeckoConfig {
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// The base URL written into `Link` headers and `resource_url` (default `http://<bound address>`).
    pub public_url: Option<String>,
    /// Privileged bearer tokens (one account; never expire; each has its own rate-limit counter).
    pub tokens: Vec<String>,
    /// The OAuth application's client secret: signs webhook notifications, and authenticates
    /// the app at `/oauth/token`.
    pub client_secret: String,
    pub rate_limit: RateLimitConfig,
    /// Stock location ids; the first holds the seeded stock and new orders.
    pub location_ids: Vec<u64>,
    pub faults: FaultConfig,
    pub delivery: DeliveryPolicy,
    pub seed: Seed,
    /// The OAuth application's client id.
    pub client_id: String,
    /// Token lifetime and the OAuth switches at start.
    pub oauth: OAuthConfig,
}

impl Default for TradegeckoConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            tokens: vec!["tg-sim-token".into()],
            client_secret: "tg-client-secret".into(),
            rate_limit: RateLimitConfig::default(),
            location_ids: vec![1],
            faults: FaultConfig::default(),
            delivery: DeliveryPolicy::default(),
            seed: Seed::default(),
            client_id: "tg-client-id".into(),
            oauth: OAuthConfig::default(),
        }
    }
}

/// The rate-limit and idempotency key of every OAuth access token (not a valid token itself:
/// OAuth tokens are 64 hex digits).
const OAUTH_ACCOUNT: &str = "oauth:account";

/// What every TradeGecko handler reaches.
pub(crate) struct TgShared {
    pub common: Arc<Common>,
    pub state: Mutex<TgState>,
    pub tokens: Mutex<Vec<String>>,
    pub limiter: RateLimiter,
    pub idem: Idempotency,
    pub deliverer: Arc<Deliverer>,
    pub client_secret: String,
    pub oauth: OAuthApp,
    pub base_url: String,
    /// The account's subscription has lapsed: every API call answers 402.
    pub lapsed: std::sync::atomic::AtomicBool,
}

impl TgShared {
    /// The key a bearer token's calls are counted under (rate limit, idempotency): a privileged
    /// token is its own key (as today); a live OAuth access token, of any grant, counts as the
    /// (application, account) this simulator is — UPSTREAMS' unit — so neither a rotation nor
    /// a reconnect resets the limit or forgets an `Idempotency-Key`. `None`: 401.
    fn account_of(&self, token: &str) -> Option<String> {
        if super::util::lock(&self.tokens).iter().any(|t| t == token) {
            return Some(token.to_owned());
        }
        self.oauth.grant_of(token).map(|_| OAUTH_ACCOUNT.to_owned())
    }
}

/// A running TradeGecko simulator. Control methods live in [`control`].
pub struct TradegeckoSim {
    pub(crate) shared: Arc<TgShared>,
    running: Running,
}

impl TradegeckoSim {
    /// Binds, seeds and starts serving on the current Tokio runtime.
    pub async fn start(config: TradegeckoConfig) -> Result<Self, SimError> {
        let listener = server::bind(config.bind)?;
        let addr = listener.local_addr()?;
        let base_url =
            config.public_url.clone().unwrap_or_else(|| format!("http://{addr}")).trim_end_matches('/').to_owned();
        let state =
            TgState::from_seed(&config.seed, &config.location_ids).map_err(|e| SimError::Seed(e.to_string()))?;
        let common = Arc::new(Common {
            flavour: Flavour::Tradegecko,
            faults: Faults::new(config.faults.clone()),
            recorder: Recorder::default(),
            rate_limit_limit: config.rate_limit.limit.into(),
        });
        let shared = Arc::new(TgShared {
            common: common.clone(),
            state: Mutex::new(state),
            tokens: Mutex::new(config.tokens.clone()),
            limiter: RateLimiter::new(config.rate_limit),
            idem: Idempotency::new(),
            deliverer: Deliverer::new(config.delivery.clone())?,
            client_secret: config.client_secret.clone(),
            oauth: OAuthApp::new(config.client_id.clone(), config.client_secret.clone(), config.oauth),
            base_url,
            lapsed: false.into(),
        });
        let data = web::Data::from(shared.clone());
        let running = server::serve(listener, common, move |cfg| routes(cfg, data.clone()))?;
        tracing::info!(url = %shared.base_url, "TradeGecko simulator listening");
        Ok(Self { shared, running })
    }

    /// The base URL (cartgate's `carts.base_url`).
    pub fn url(&self) -> &str {
        &self.shared.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    /// The first configured token.
    pub fn token(&self) -> String {
        super::util::lock(&self.shared.tokens).first().cloned().unwrap_or_default()
    }

    /// The OAuth application's client secret: signs notifications, authenticates at `/oauth/token`.
    pub fn client_secret(&self) -> &str {
        &self.shared.client_secret
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

fn routes(cfg: &mut web::ServiceConfig, data: web::Data<TgShared>) {
    use actix_web::web::{delete, get, post, put};
    cfg.app_data(data).service(control_routes::scope()).service(oauth::scope()).service(
        web::scope("")
            .wrap(from_fn(gate::gate))
            .route("/orders", get().to(api::list_orders))
            .route("/orders/{id}", get().to(api::get_order))
            .route("/order_line_items", get().to(api::list_order_line_items))
            .route("/order_line_items/{id}", get().to(api::get_order_line_item))
            .route("/addresses", get().to(api::list_addresses))
            .route("/addresses/{id}", get().to(api::get_address))
            .route("/variants", get().to(api::list_variants))
            .route("/variants/{id}", get().to(api::get_variant))
            .route("/variants/{id}", put().to(writes::put_variant))
            .route("/locations", get().to(api::list_locations))
            .route("/fulfillments", get().to(api::list_fulfillments))
            .route("/fulfillments", post().to(writes::post_fulfillment))
            .route("/fulfillments/{id}", get().to(writes::get_fulfillment))
            .route("/stock_adjustments", get().to(writes::list_stock_adjustments))
            .route("/stock_adjustments", post().to(writes::post_stock_adjustment))
            .route("/webhooks", get().to(writes::list_webhooks))
            .route("/webhooks", post().to(writes::post_webhook))
            .route("/webhooks/{id}", get().to(writes::get_webhook))
            .route("/webhooks/{id}", delete().to(writes::delete_webhook))
            .default_service(web::to(not_found)),
    );
}

async fn not_found() -> HttpResponse {
    Flavour::Tradegecko.error(404, "NotFound", "The requested resource could not be found")
}
