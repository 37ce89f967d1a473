//! Spawning the application for tests, configured through the test kit's typed [`Wiring`].

use cartgate::lifecycle::Readiness;
use cartgate::store::Store;
use cartgate::testkit::app::RunningApp;
use cartgate::testkit::wiring::{WiredSecret, Wiring};
use cartgate::workers::Registry;

/// A running cartgate on a free loopback port.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub readiness: Readiness,
    pub store: Store,
    /// The app's ledger, queue and upstreams (to set up state a test starts from).
    pub deps: cartgate::workflows::Deps,
}

pub const ADMIN_TOKEN: &str = "test-admin-token";

/// Configuration every test starts from: loopback, port 0, the admin token on, a 4 KiB body
/// limit, a unique prefix.
pub fn base(store_url: &str) -> Wiring {
    let mut wiring = Wiring::new(store_url);
    wiring.server.admin_token = Some(WiredSecret::new(ADMIN_TOKEN));
    wiring.server.max_body_bytes = Some(4096);
    wiring
}

/// Builds and runs the application from a configuration, with every workflow.
pub async fn spawn_app_with(wiring: &Wiring) -> TestApp {
    spawn_with_workflows(wiring, cartgate::workflows::registry).await
}

/// [`spawn_app_with`] with the job handlers of `registry` only.
pub async fn spawn_app_with_registry(wiring: &Wiring, registry: Registry) -> TestApp {
    spawn_with_workflows(wiring, |_| registry).await
}

async fn spawn_with_workflows(
    wiring: &Wiring,
    registry: impl FnOnce(&cartgate::workflows::Deps) -> Registry,
) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        cartgate::telemetry::init();
    }
    let settings = wiring.settings().unwrap_or_else(|e| panic!("test configuration invalid: {e}"));
    let app: RunningApp = cartgate::testkit::app::spawn(settings, registry).await.expect("application builds");
    let readiness = app.readiness().clone();
    let (store, deps) = (app.store().clone(), app.deps().clone());
    TestApp { address: app.url(), client: reqwest::Client::new(), readiness, store, deps }
}

/// Two merchants, `acme` (cart `acme-tg`) and `beta` (cart `beta-tg`), whose upstreams are
/// never reached (a closed port), on `store_url`, without workers.
pub fn two_merchants(store_url: &str) -> Wiring {
    use cartgate::domain::{CartId, MerchantId};
    use cartgate::testkit::wiring::{CartWiring, MerchantWiring};
    let mut wiring = base(store_url);
    wiring.server.max_body_bytes = None;
    wiring.workers.enabled = Some(false);
    let nowhere: url::Url = "http://127.0.0.1:9".parse().expect("a URL");
    for name in ["acme", "beta"] {
        let id = MerchantId::parse(name).expect("a merchant id");
        let mut merchant = MerchantWiring::easypost(id, nowhere.clone(), WiredSecret::new(format!("EZAK-{name}")));
        let cart_id = CartId::parse(&format!("{name}-tg")).expect("a cart id");
        let (token, secret) = (WiredSecret::new(format!("tg-{name}")), WiredSecret::new(format!("tg-secret-{name}")));
        let mut cart = CartWiring::tradegecko(cart_id, nowhere.clone(), token, secret);
        cart.stock_location_id = Some(1);
        merchant.carts.push(cart);
        wiring.merchants.push(merchant);
    }
    wiring
}

/// The application on the embedded store.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&base("memory://")).await
}
impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request sent")
    }

    pub async fn admin_get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).bearer_auth(ADMIN_TOKEN).send().await.expect("request sent")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.readiness.begin_shutdown();
    }
}

/// The `{"error":{"code","message"}}` body of an error response.
pub async fn error_code(resp: reqwest::Response) -> String {
    let body: serde_json::Value = resp.json().await.expect("error body is JSON");
    body["error"]["code"].as_str().expect("error.code is a string").to_owned()
}
