//! The EasyPost simulator: `/v2/…` (key check, webhooks) and the Fulfillment vendor API
//! `/fulfillment/vendor/v2/…` (products, warehouses, inventories, orders) on one host.
//!
//! Keys: Basic auth (key as username, empty password) or `Bearer`; `EZTK…` keys are `test`,
//! `EZAK…` `production`, and every object carries the `mode` of the key that made it (orders,
//! trackers and webhooks are per mode; products and stock are shared). Unknown key → 401
//! `APIKEY.INVALID` (none → `APIKEY.REQUIRED`), inactive → 403 `APIKEY.INACTIVE`. Errors are
//! `{"error":{"code","message","errors":[…]}}`; every answer has `x-ep-request-uuid`.
//!
//! Choices where UPSTREAMS.md is silent:
//! * order `status`: `pending` when accepted, then `partially_shipped` / `shipped`, or `cancelled`;
//! * an order asking for more units than on hand minus reserved → 422 `INSUFFICIENT_INVENTORY`,
//!   message `Insufficient inventory for barcode B: requested N, available M`; an unknown
//!   barcode → 422 `PRODUCT.NOT_FOUND` `No product with barcode B` (no stock words in it);
//!   missing fields → 422 `PARAMETER.REQUIRED`/`PARAMETER.INVALID`; accepted orders reserve;
//! * `service` must be one of the configured list ([`EasypostConfig::services`], default
//!   [`DEFAULT_SERVICES`]; an absent one is `standard`), else 422 `PARAMETER.INVALID` with
//!   `errors[0].field = "service"`; `shipment_options` (an object) is kept and shown on the order;
//! * `PATCH orders/{id}` changes `description`/`service`/`destination` while `pending`
//!   (422 `ORDER.NOT_EDITABLE` after); line items cannot be patched;
//! * `DELETE orders/{id}` after any pick → 422 `ORDER.NOT_CANCELLABLE`; cancelling twice is a no-op 200;
//! * inventory `quantity` = units on hand (reserved units included until shipped);
//! * picks: `{"id":"pick_…","object":"Pick","line_items":[{"product":{"id","barcode"},"units"}],
//!   "tracker":{Tracker},"created_at"}`; orders also carry `trackers[]` (all picks' trackers);
//! * events: `tracker.created` (per new pick), `fulfillment.order.updated` (ship, cancel; with
//!   `previous_attributes.status`), `tracker.updated` (advance; `previous_attributes.status`).
//!
//! Control routes (JSON, no auth/faults/record) — see [`control`]:
//!
//! | route | does |
//! |---|---|
//! | `POST /_sim/orders/{id}/ship` | `{"picks":[{"line_items":[{"barcode","units"}],"carrier"}]}` (empty = all in one pick) |
//! | `POST /_sim/trackers/{id or code}/advance` | `{"status":…}` or the next step |
//! | `POST /_sim/inventory/receive` | `{"barcode","units","warehouse_id"?}` |
//! | `PUT /_sim/inventory` | `{"items":[{"barcode","quantity","warehouse_id"?}]}` set on hand |
//! | `GET /_sim/inventory` | on hand / reserved / available per barcode |
//! | `POST /_sim/products` | `{"barcode","title"}` |
//! | `GET /_sim/orders` | every order (both modes) and counts per description |
//! | `GET/PUT /_sim/services` | `{"services":[…]}`: the `service` values orders may use |
//! | `PUT /_sim/keys` | `{"key","active"}` (de)activate a key |
//! | `GET/PUT /_sim/rate_limit` | [`EpRateLimit`] |
//! | `GET/DELETE /_sim/requests` · `GET /_sim/requests/counts` · `GET /_sim/calls` · `/_sim/faults` · `/_sim/deliveries` | as for TradeGecko |

mod api;
pub mod control;
mod events;
mod gate;
mod model;
mod ops;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

pub use self::control::InventoryItem;
pub use self::gate::EpRateLimit;
use self::gate::RpsLimiter;
pub use self::model::{ApiKey, Mode};
pub use self::ops::{PickLine, PickSpec};
pub use self::state::EpError;
use self::state::EpState;
use super::SimError;
use super::delivery::{Deliverer, DeliveryPolicy};
use super::faults::{FaultConfig, Faults};
use super::record::Recorder;
use super::seed::Seed;
use super::server::{self, Common, Flavour, Running};

/// How to start the EasyPost simulator.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EasypostConfig {
    pub bind: SocketAddr,
    pub public_url: Option<String>,
    pub keys: Vec<ApiKey>,
    /// (id, name) of each warehouse; the first holds the seeded stock.
    pub warehouses: Vec<(String, String)>,
    pub rate_limit: EpRateLimit,
    pub faults: FaultConfig,
    pub delivery: DeliveryPolicy,
    pub seed: Seed,
    /// The `service` values the account offers (`cartgate sim easypost --services a,b`).
    pub services: Vec<String>,
}

/// The services a simulated account offers unless configured otherwise.
pub const DEFAULT_SERVICES: [&str; 4] = ["standard", "express", "overnight", "2day"];

impl Default for EasypostConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            keys: vec![
                ApiKey { key: "EZTKsimtest0000000000000000000000".into(), mode: Mode::Test, active: true },
                ApiKey { key: "EZAKsimprod0000000000000000000000".into(), mode: Mode::Production, active: true },
            ],
            warehouses: vec![("wh_sim_east".into(), "Sim East".into()), ("wh_sim_west".into(), "Sim West".into())],
            rate_limit: EpRateLimit::default(),
            faults: FaultConfig::default(),
            delivery: DeliveryPolicy::default(),
            seed: Seed::default(),
            services: DEFAULT_SERVICES.map(str::to_owned).to_vec(),
        }
    }
}

/// What every EasyPost handler reaches.
pub(crate) struct EpShared {
    pub common: Arc<Common>,
    pub state: Mutex<EpState>,
    pub keys: Mutex<Vec<ApiKey>>,
    pub rate_limit: Mutex<EpRateLimit>,
    pub limiter: RpsLimiter,
    pub deliverer: Arc<Deliverer>,
    pub base_url: String,
}

/// A running EasyPost simulator. Control methods live in [`control`].
pub struct EasypostSim {
    pub(crate) shared: Arc<EpShared>,
    running: Running,
}

impl EasypostSim {
    /// Binds, seeds and starts serving on the current Tokio runtime.
    pub async fn start(config: EasypostConfig) -> Result<Self, SimError> {
        let listener = server::bind(config.bind)?;
        let addr = listener.local_addr()?;
        let base_url =
            config.public_url.clone().unwrap_or_else(|| format!("http://{addr}")).trim_end_matches('/').to_owned();
        let common = Arc::new(Common {
            flavour: Flavour::Easypost,
            faults: Faults::new(config.faults.clone()),
            recorder: Recorder::default(),
            rate_limit_limit: 0.into(),
        });
        let shared = Arc::new(EpShared {
            common: common.clone(),
            state: Mutex::new(EpState {
                services: config.services.clone(),
                ..EpState::from_seed(&config.seed, &config.warehouses)
            }),
            keys: Mutex::new(config.keys.clone()),
            rate_limit: Mutex::new(config.rate_limit),
            limiter: RpsLimiter::default(),
            deliverer: Deliverer::new(config.delivery.clone())?,
            base_url,
        });
        let data = web::Data::from(shared.clone());
        let running = server::serve(listener, common, move |cfg| routes(cfg, data.clone()))?;
        tracing::info!(url = %shared.base_url, "EasyPost simulator listening");
        Ok(Self { shared, running })
    }

    /// The API host (cartgate's `wms.base_url`).
    pub fn url(&self) -> &str {
        &self.shared.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    /// Every API request handled so far.
    pub fn record(&self) -> &Recorder {
        &self.shared.common.recorder
    }

    /// Stops serving.
    pub async fn stop(&self) {
        self.running.stop().await;
    }
}

fn routes(cfg: &mut web::ServiceConfig, data: web::Data<EpShared>) {
    use actix_web::web::{delete, get, patch, post};
    const FF: &str = "/fulfillment/vendor/v2";
    cfg.app_data(data).service(control::scope()).service(
        web::scope("")
            .wrap(from_fn(gate::gate))
            .route("/v2/trackers", get().to(api::list_trackers))
            .route("/v2/trackers/{id}", get().to(api::get_tracker))
            .route("/v2/webhooks", get().to(api::list_webhooks))
            .route("/v2/webhooks", post().to(api::post_webhook))
            .route("/v2/webhooks/{id}", delete().to(api::delete_webhook))
            .route(&format!("{FF}/products"), get().to(api::list_products))
            .route(&format!("{FF}/warehouses"), get().to(api::list_warehouses))
            .route(&format!("{FF}/inventories"), get().to(api::list_inventories))
            .route(&format!("{FF}/orders"), get().to(api::list_orders))
            .route(&format!("{FF}/orders"), post().to(api::post_order))
            .route(&format!("{FF}/orders/{{id}}"), get().to(api::get_order))
            .route(&format!("{FF}/orders/{{id}}"), patch().to(api::patch_order))
            .route(&format!("{FF}/orders/{{id}}"), delete().to(api::delete_order))
            .default_service(web::to(not_found)),
    );
}

async fn not_found() -> HttpResponse {
    Flavour::Easypost.error(404, "NOT_FOUND", "The requested resource could not be found.")
}
