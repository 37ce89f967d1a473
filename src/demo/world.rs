//! Both simulators and one cartgate, wired the way a merchant would wire the real services:
//! cartgate's configuration points at the simulators, EasyPost gets cartgate's webhook URL
//! through its API, and cartgate registers its own TradeGecko webhooks at start-up.

use std::time::Duration;

use anyhow::{Context, bail};

use crate::lifecycle::Readiness;
use crate::settings::Settings;
use crate::sim::delivery::DeliveryPolicy;
use crate::sim::easypost::{EasypostConfig, EasypostSim, InventoryItem, Mode};
use crate::sim::seed::{self, Seed};
use crate::sim::tradegecko::{RateLimitConfig, TradegeckoConfig, TradegeckoSim};
use crate::startup::Application;

pub const MERCHANT: &str = "acme";
pub const CART: &str = "acme-tg";
/// Catalogue items `SKU-0001…`; the last one is scarce at the warehouse.
pub const ITEMS: usize = 6;
/// Units of each item on hand at both sides at the start.
pub const STOCK: i64 = 100;
/// Units of the scarce item at the warehouse at the start.
pub const SCARCE_STOCK: i64 = 1;
/// A cart variant without a UPC: it reaches the warehouse only through an alias.
pub const UNALIASED_SKU: &str = "GIFT-WRAP";
/// The warehouse barcode the alias maps it to (a product of its own).
pub const UNALIASED_BARCODE_ITEM: usize = 99;

/// The store the demo's cartgate uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoStore {
    /// The embedded store (`memory://`).
    Memory,
    /// A Redis URL; the demo uses a key prefix of its own there.
    Redis(String),
}

/// The running pieces.
pub struct World {
    pub tg: TradegeckoSim,
    pub ep: EasypostSim,
    /// cartgate's base URL.
    pub url: String,
    pub admin_token: String,
    /// The effective configuration, secrets redacted.
    pub config_text: String,
    readiness: Readiness,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl World {
    pub async fn start(store: &DemoStore) -> anyhow::Result<Self> {
        let mut seed = Seed::generated(ITEMS, 0);
        if let Some(g) = seed.generate.as_mut() {
            g.stock = STOCK;
        }
        let tg = TradegeckoSim::start(TradegeckoConfig {
            rate_limit: RateLimitConfig { limit: 100_000, window_secs: 300 },
            delivery: DeliveryPolicy::fast(),
            seed: seed.clone(),
            ..Default::default()
        })
        .await
        .context("starting the TradeGecko simulator")?;
        let ep = EasypostSim::start(EasypostConfig { delivery: DeliveryPolicy::fast(), seed, ..Default::default() })
            .await
            .context("starting the EasyPost simulator")?;
        stock_the_catalogue(&tg, &ep)?;

        let port = crate::testkit::free_port().context("finding a free port")?;
        let url = format!("http://127.0.0.1:{port}");
        let secrets = Secrets::generate();
        let toml = config(store, &tg, &ep, port, &secrets)?;
        let settings = Settings::from_toml(&toml).map_err(|errors| {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("the generated configuration is invalid: {}", text.join("; "))
        })?;
        let config_text = toml::to_string_pretty(&settings).context("printing the configuration")?;
        let config_text = mask_store_password(config_text, store);
        let app = Application::builder(settings).build().await.context("starting cartgate")?;
        let readiness = app.readiness();
        let server = tokio::spawn(app.run_until_stopped());
        let world = Self { tg, ep, url, admin_token: secrets.admin, config_text, readiness, server };
        world.register_easypost_webhook(&secrets.easypost_webhook).await?;
        world.wait_for_cart_webhooks().await?;
        Ok(world)
    }

    /// The merchant registers cartgate in EasyPost's dashboard; here, through the API.
    async fn register_easypost_webhook(&self, secret: &str) -> anyhow::Result<()> {
        let key = self.ep.key(Mode::Production).context("the EasyPost simulator has no production key")?;
        let url = format!("{}/webhooks/easypost/{MERCHANT}", self.url);
        let body = serde_json::json!({"webhook": {"url": url, "webhook_secret": secret}});
        let resp = reqwest::Client::new()
            .post(format!("{}/v2/webhooks", self.ep.url()))
            .basic_auth(key, Some(""))
            .json(&body)
            .send()
            .await
            .context("registering the EasyPost webhook")?;
        if !resp.status().is_success() {
            bail!("registering the EasyPost webhook: {}", resp.status());
        }
        Ok(())
    }

    /// cartgate registers its TradeGecko webhooks at start-up (`ensure_webhooks`); orders
    /// created before that would only arrive by the poll.
    async fn wait_for_cart_webhooks(&self) -> anyhow::Result<()> {
        for _ in 0..400 {
            if self.tg.webhooks().len() >= 2 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        bail!("cartgate did not register its TradeGecko webhooks within 10 s: {:?}", self.tg.webhooks())
    }

    /// Stops cartgate (gracefully) and both simulators.
    pub async fn shutdown(self) {
        self.readiness.begin_shutdown();
        if tokio::time::timeout(Duration::from_secs(30), self.server).await.is_err() {
            tracing::warn!("cartgate did not stop within 30 s");
        }
        self.tg.stop().await;
        self.ep.stop().await;
    }
}

/// The warehouse barcode of the scarce item.
pub fn scarce_barcode() -> String {
    seed::barcode(ITEMS)
}

/// The scarce item is short at the warehouse; the unaliased variant exists on both sides
/// under different names (SKU in the cart, its own barcode at the warehouse).
fn stock_the_catalogue(tg: &TradegeckoSim, ep: &EasypostSim) -> anyhow::Result<()> {
    tg.add_variant(UNALIASED_SKU, None, "Gift wrap (no UPC)", STOCK);
    let items = [
        InventoryItem { barcode: scarce_barcode(), quantity: SCARCE_STOCK, warehouse_id: None },
        InventoryItem { barcode: seed::barcode(UNALIASED_BARCODE_ITEM), quantity: STOCK, warehouse_id: None },
    ];
    ep.set_inventory(&items).map_err(|e| anyhow::anyhow!("stocking the warehouse: {e:?}"))
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

struct Secrets {
    admin: String,
    easypost_webhook: String,
}

impl Secrets {
    fn generate() -> Self {
        let token = || uuid::Uuid::new_v4().simple().to_string();
        Self { admin: format!("demo-{}", token()), easypost_webhook: token() }
    }
}

fn config(store: &DemoStore, tg: &TradegeckoSim, ep: &EasypostSim, port: u16, s: &Secrets) -> anyhow::Result<String> {
    let store_url = match store {
        DemoStore::Memory => "memory://".to_owned(),
        DemoStore::Redis(url) => url.clone(),
    };
    let ep_key = ep.key(Mode::Production).context("the EasyPost simulator has no production key")?;
    let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
    Ok(format!(
        r#"
[server]
bind = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{port}"
admin_token = {admin}
[store]
url = {store_url}
prefix = "cartgate-demo-{prefix}"
[workers]
lease_secs = 10
[retry]
schedule_secs = [1, 1, 2]
[[merchants]]
id = "{MERCHANT}"
[merchants.wms]
kind = "easypost"
base_url = {ep_url}
production_api_key = {ep_key}
webhook_secret = {ep_secret}
rate_limit = {{ requests = 200, per_secs = 1 }}
[merchants.schedule]
shipping_confirmations = "1h"
inventory = "1h"
[[merchants.carts]]
id = "{CART}"
kind = "tradegecko"
base_url = {tg_url}
access_token = {tg_token}
client_secret = {tg_secret}
stock_location_id = {location}
item_field = "upc"
rate_limit = {{ requests = 200, per_secs = 1 }}
[merchants.carts.schedule]
order_download = "1h"
"#,
        admin = q(&s.admin),
        store_url = q(&store_url),
        prefix = &uuid::Uuid::new_v4().simple().to_string()[..8],
        ep_url = q(ep.url()),
        ep_key = q(&ep_key),
        ep_secret = q(&s.easypost_webhook),
        tg_url = q(tg.url()),
        tg_token = q(&tg.token()),
        tg_secret = q(tg.client_secret()),
        location = tg.location_id(),
    ))
}
