//! Helpers shared by the simulator tests.

use std::time::{Duration, Instant};

use cartgate::sim::delivery::DeliveryPolicy;
use cartgate::sim::seed::Seed;
use cartgate::sim::{EasypostConfig, EasypostSim, TradegeckoConfig, TradegeckoSim};

pub const EP_TEST_KEY: &str = "EZTKsimtest0000000000000000000000";
pub const EP_PROD_KEY: &str = "EZAKsimprod0000000000000000000000";

pub async fn tradegecko(items: usize) -> TradegeckoSim {
    let config = TradegeckoConfig {
        seed: Seed::generated(items, 0),
        delivery: DeliveryPolicy::fast(),
        ..TradegeckoConfig::default()
    };
    TradegeckoSim::start(config).await.unwrap()
}

pub async fn easypost(items: usize) -> EasypostSim {
    let config = EasypostConfig {
        seed: Seed::generated(items, 0),
        delivery: DeliveryPolicy::fast(),
        ..EasypostConfig::default()
    };
    EasypostSim::start(config).await.unwrap()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

/// Polls `check` until it holds (fails the test after 10 s).
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < Duration::from_secs(10), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// A destination for EasyPost orders.
pub fn destination() -> serde_json::Value {
    serde_json::json!({"name": "Ada Lovelace", "company": null, "street1": "1 Main St", "street2": null,
        "city": "Springfield", "state": "IL", "zip": "62701", "country": "US", "phone": "555-0100", "email": "ada@example.com"})
}

/// Sends a request and reads its JSON answer.
pub async fn json(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}
