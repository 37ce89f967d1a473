//! The Shopify simulator over real HTTP, against UPSTREAMS-shopify.md: GraphQL recognition and
//! projection, cost and THROTTLED, fulfillment orders, inventory sets with idempotency, signed
//! webhooks with retries, OAuth with expiring tokens and rotation, versions and shop states.

mod api;
mod fulfillment;
mod inventory;
mod oauth;
mod webhooks;

use cartgate::sim::delivery::DeliveryPolicy;
use cartgate::sim::seed::Seed;
use cartgate::sim::shopify::{NewShopLine, NewShopOrder};
use cartgate::sim::{ShopifyConfig, ShopifySim};
use serde_json::{Value, json};

use crate::support::client;

pub const VERSION: &str = "2026-10";

pub async fn shop(items: usize) -> ShopifySim {
    shop_with(ShopifyConfig { seed: Seed::generated(items, 0), ..ShopifyConfig::default() }).await
}

/// Fast deliveries unless the config says otherwise.
pub async fn shop_with(mut config: ShopifyConfig) -> ShopifySim {
    if config.delivery == cartgate::sim::shopify::shopify_delivery() {
        config.delivery = DeliveryPolicy::fast();
    }
    ShopifySim::start(config).await.unwrap()
}

/// An answer: HTTP status, `X-Shopify-API-Version`, body.
pub struct Answer {
    pub status: u16,
    pub version: String,
    pub body: Value,
}

/// Posts a GraphQL document with the shop's token.
pub async fn gql(sim: &ShopifySim, query: &str, variables: Value) -> Answer {
    gql_as(sim, Some(sim.token()), VERSION, query, variables).await
}

pub async fn gql_as(sim: &ShopifySim, token: Option<&str>, version: &str, query: &str, variables: Value) -> Answer {
    let mut req = client().post(sim.graphql_url(version)).json(&json!({"query": query, "variables": variables}));
    if let Some(t) = token {
        req = req.header("X-Shopify-Access-Token", t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let version = crate::support::header(&resp, "x-shopify-api-version");
    Answer { status, version, body: resp.json().await.unwrap() }
}

/// A paid order of `(sku, units)` lines.
pub fn order(sim: &ShopifySim, lines: &[(&str, i64)]) -> u64 {
    let lines = lines.iter().map(|(s, q)| NewShopLine { sku: Some((*s).into()), quantity: *q, title: None }).collect();
    sim.create_order(NewShopOrder { lines, ..NewShopOrder::default() }).unwrap()
}

/// The first error message of an answer.
pub fn error(a: &Answer) -> String {
    a.body["errors"][0]["message"].as_str().unwrap_or_default().to_owned()
}
