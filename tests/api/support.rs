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
    TestApp { address: app.url(), client: reqwest::Client::new(), readiness, store: app.store().clone() }
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
