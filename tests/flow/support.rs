//! A cartgate wired to a simulated TradeGecko and a simulated EasyPost Fulfillment.

use std::time::Duration;

use cartgate::domain::{CartId, Order, OrderStatus};
use cartgate::lifecycle::Readiness;
use cartgate::settings::Settings;
use cartgate::sim::delivery::DeliveryPolicy;
use cartgate::sim::easypost::Mode as SimMode;
use cartgate::sim::easypost::{EasypostConfig, EasypostSim};
use cartgate::sim::seed::Seed;
use cartgate::sim::tradegecko::{RateLimitConfig, TradegeckoConfig, TradegeckoSim};
use cartgate::startup::Application;
use cartgate::workers::Registry;
use cartgate::workflows::Deps;

pub const ADMIN: &str = "flow-admin-token";
pub const EP_WEBHOOK_SECRET: &str = "ep-webhook-s\u{e9}cret";
pub const CART: &str = "acme-tg";

/// Options that differ between flows.
pub struct Options {
    pub items: usize,
    pub warehouse_stock: i64,
    pub item_field: &'static str,
    pub store_url: String,
    pub order_download: &'static str,
    /// The merchant's `order_delivery`: "auto" or an interval for scheduled delivery runs.
    pub order_delivery: &'static str,
    /// The cart's `shipment_upload` schedule.
    pub shipment_upload: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            items: 10,
            warehouse_stock: 1000,
            item_field: "upc",
            store_url: cartgate::testkit::TestRedis::shared_url(),
            order_download: "1h",
            order_delivery: "auto",
            shipment_upload: "auto",
        }
    }
}

pub struct Flow {
    pub tg: TradegeckoSim,
    pub ep: EasypostSim,
    pub address: String,
    pub client: reqwest::Client,
    pub deps: Deps,
    readiness: Readiness,
}

impl Drop for Flow {
    fn drop(&mut self) {
        self.readiness.begin_shutdown();
    }
}

pub async fn start(opts: Options) -> Flow {
    start_with(opts, cartgate::workflows::registry).await
}

/// [`start`] with job handlers of the test's choosing (built over the app's store).
pub async fn start_with(opts: Options, registry: impl FnOnce(&Deps) -> Registry) -> Flow {
    let (tg, ep) = start_sims(&opts).await;
    let port = cartgate::testkit::free_port().unwrap();
    let public = format!("http://127.0.0.1:{port}");
    let toml = config(&opts, &tg, &ep, port, &public);
    let settings = Settings::from_toml(&toml).unwrap_or_else(|e| panic!("flow config: {e:?}"));
    let app = Application::builder(settings).workflows(registry).build().await.unwrap();
    let (deps, readiness) = (app.deps().clone(), app.readiness());
    tokio::spawn(app.run_until_stopped());
    register_easypost_webhook(&ep, &public).await;
    wait_for_cart_webhooks(&tg).await;
    Flow { tg, ep, address: public, client: reqwest::Client::new(), deps, readiness }
}

/// Both simulators, seeded with `opts.items` items in stock.
pub async fn start_sims(opts: &Options) -> (TradegeckoSim, EasypostSim) {
    let mut seed = Seed::generated(opts.items, 0);
    if let Some(g) = seed.generate.as_mut() {
        g.stock = opts.warehouse_stock;
    }
    let tg = TradegeckoSim::start(TradegeckoConfig {
        rate_limit: RateLimitConfig { limit: 100_000, window_secs: 300 },
        delivery: DeliveryPolicy::fast(),
        seed: seed.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let ep = EasypostSim::start(EasypostConfig { delivery: DeliveryPolicy::fast(), seed, ..Default::default() })
        .await
        .unwrap();
    (tg, ep)
}

/// cartgate's configuration for these simulators, listening on `port`.
pub fn config(opts: &Options, tg: &TradegeckoSim, ep: &EasypostSim, port: u16, public: &str) -> String {
    format!(
        r#"
[server]
bind = "127.0.0.1:{port}"
public_url = "{public}"
admin_token = "{ADMIN}"
[store]
url = "{store}"
prefix = "{prefix}"
[workers]
lease_secs = 10
[retry]
schedule_secs = [1, 1, 2]
[[merchants]]
id = "acme"
[merchants.wms]
kind = "easypost"
base_url = "{ep_url}"
production_api_key = "{ep_key}"
webhook_secret = "{EP_WEBHOOK_SECRET}"
rate_limit = {{ requests = 500, per_secs = 1 }}
timeout_secs = 5
[merchants.schedule]
order_delivery = "{order_delivery}"
shipping_confirmations = "1h"
inventory = "1h"
[[merchants.carts]]
id = "{CART}"
kind = "tradegecko"
base_url = "{tg_url}"
access_token = "{tg_token}"
client_secret = "{tg_secret}"
stock_location_id = {location}
item_field = "{item_field}"
rate_limit = {{ requests = 500, per_secs = 1 }}
[merchants.carts.schedule]
order_download = "{order_download}"
shipment_upload = "{shipment_upload}"
"#,
        store = opts.store_url,
        prefix = cartgate::testkit::unique_prefix(),
        ep_url = ep.url(),
        ep_key = ep.key(SimMode::Production).unwrap(),
        tg_url = tg.url(),
        tg_token = tg.token(),
        tg_secret = tg.client_secret(),
        location = tg.location_id(),
        item_field = opts.item_field,
        order_download = opts.order_download,
        order_delivery = opts.order_delivery,
        shipment_upload = opts.shipment_upload,
    )
}

/// The merchant registers cartgate in EasyPost's dashboard; here, through the API.
pub async fn register_easypost_webhook(ep: &EasypostSim, public: &str) {
    let key = ep.key(SimMode::Production).unwrap();
    let body = serde_json::json!({"webhook": {"url": format!("{public}/webhooks/easypost/acme"), "webhook_secret": EP_WEBHOOK_SECRET}});
    let resp = reqwest::Client::new()
        .post(format!("{}/v2/webhooks", ep.url()))
        .basic_auth(key, Some(""))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "registering the EasyPost webhook: {}", resp.status());
}

/// cartgate registers its TradeGecko webhooks at start-up (`ensure_webhooks`); orders created
/// before that would only arrive by the poll.
pub async fn wait_for_cart_webhooks(tg: &TradegeckoSim) {
    for _ in 0..200 {
        if tg.webhooks().len() >= 2 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("cartgate did not register its TradeGecko webhooks: {:?}", tg.webhooks());
}

impl Flow {
    pub fn cart(&self) -> CartId {
        CartId::parse(CART).unwrap()
    }

    pub async fn order(&self, id: u64) -> Option<Order> {
        self.deps.ledger.orders.get(&self.cart(), id).await.unwrap()
    }

    /// Waits until every order is in `status` (or the time runs out), returning the stragglers.
    pub async fn wait_all(
        &self,
        ids: &[u64],
        status: OrderStatus,
        within: Duration,
    ) -> Vec<(u64, Option<OrderStatus>)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let mut pending = Vec::new();
            for id in ids {
                let s = self.order(*id).await.map(|o| o.status());
                if s != Some(status) {
                    pending.push((*id, s));
                }
            }
            if pending.is_empty() || tokio::time::Instant::now() > deadline {
                return pending;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.address)).bearer_auth(ADMIN)
    }
}

/// Polls `check` every 100 ms until it holds or `within` has passed; whether it held.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Flow {
    /// POSTs an admin route and returns the status.
    pub async fn post_admin(&self, path: &str) -> reqwest::StatusCode {
        self.admin(reqwest::Method::POST, path).await.send().await.unwrap().status()
    }

    /// Waits until the recurring job `id` has finished a run: it is due again a long while
    /// (more than ten minutes) from now, as after every completed run of a 1 h schedule.
    pub async fn wait_recurring_idle(&self, id: &str, within: Duration) -> bool {
        let id = cartgate::store::JobId::parse(id).unwrap();
        eventually(within, || async {
            let now = self.deps.jobs.now().await.unwrap();
            let job = self.deps.jobs.job(&id).await.unwrap();
            job.is_some_and(|j| j.state == cartgate::store::JobState::Due && j.at > now + 600_000)
        })
        .await
    }

    /// Whether none of these jobs is pending or running.
    pub async fn no_pending(&self, ids: &[String]) -> bool {
        for id in ids {
            let id = cartgate::store::JobId::parse(id).unwrap();
            if self.deps.jobs.job(&id).await.unwrap().is_some() {
                return false;
            }
        }
        true
    }
}
