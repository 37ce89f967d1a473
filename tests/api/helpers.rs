//! Spawning the application for tests.

use cartgate::lifecycle::Readiness;
use cartgate::settings::Settings;
use cartgate::startup::Application;
use cartgate::store::Store;

/// A running cartgate on a free loopback port.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub readiness: Readiness,
    pub store: Store,
}

pub const ADMIN_TOKEN: &str = "test-admin-token";

/// Configuration every test starts from: loopback, port 0, the admin token on, a unique prefix.
pub fn base_toml(store_url: &str) -> String {
    format!(
        r#"
[server]
bind = "127.0.0.1:0"
admin_token = "{ADMIN_TOKEN}"
max_body_bytes = 4096
[store]
url = "{store_url}"
prefix = "{prefix}"
"#,
        prefix = cartgate::testkit::unique_prefix()
    )
}

/// Builds and runs the application from a TOML configuration layered over the defaults.
pub async fn spawn_app_with(toml: &str) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        cartgate::telemetry::init();
    }
    let settings = Settings::from_toml(toml).unwrap_or_else(|e| panic!("test configuration invalid: {e:?}"));
    let app = Application::builder(settings).build().await.expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let readiness = app.readiness();
    let store = app.store().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp { address, client: reqwest::Client::new(), readiness, store }
}

/// The application on the embedded store.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&base_toml("memory://")).await
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
