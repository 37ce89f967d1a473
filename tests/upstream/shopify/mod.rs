//! The Shopify adapter against wiremock shops: each operation's request (versioned path, token
//! header, root field, variables), the conversions, the writes' rules, the error classes, and
//! the cost pacing shared by replicas through a private Redis.

mod errors;
mod operations;
mod pacing;
mod writes;

use std::sync::Arc;

use cartgate::cart::Cart;
use cartgate::settings::CartSettings;
use cartgate::upstream::UpstreamClient;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const TOKEN: &str = "shpat_test_token_do_not_log";
pub const GRAPHQL: &str = "/admin/api/2026-10/graphql.json";

/// A Shopify cart on `base` at location 7.
pub fn cart(base: &str) -> CartSettings {
    serde_json::from_value(json!({
        "id": "acme-shop", "kind": "shopify", "shop": "acme.myshopify.com", "base_url": base,
        "location_id": "gid://shopify/Location/7", "access_token": TOKEN, "timeout_secs": 1,
        "rate_limit": {"requests": 1000, "per_secs": 1}
    }))
    .unwrap()
}

pub fn shop(client: &UpstreamClient, base: &str) -> Arc<dyn Cart> {
    cartgate::cart::connect(client, &cart(base)).unwrap()
}

/// A GraphQL answer with `data` and a roomy bucket.
pub fn data(data: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "data": data,
        "extensions": {"cost": {"requestedQueryCost": 10, "actualQueryCost": 5,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0}}}
    }))
}

/// Answers operations whose text contains `root` (e.g. `order(id:`), only with the token.
pub async fn answer(server: &MockServer, root: &str, template: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(GRAPHQL))
        .and(header("x-shopify-access-token", TOKEN))
        .and(body_string_contains(root))
        .respond_with(template)
        .mount(server)
        .await;
}

/// The `{query, variables}` bodies received whose query contains `root`.
pub async fn sent(server: &MockServer, root: &str) -> Vec<Value> {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap())
        .filter(|b| b["query"].as_str().unwrap().contains(root))
        .collect()
}
