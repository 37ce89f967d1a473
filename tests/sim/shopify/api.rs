//! Recognition by root field, projection onto the selection set, paging, search, auth,
//! versions, shop states, cost and THROTTLED.

use cartgate::sim::ShopifyConfig;
use cartgate::sim::shopify::BucketConfig;
use serde_json::{Value, json};

use super::{VERSION, error, gql, gql_as, order, shop, shop_with};

#[tokio::test]
async fn unknown_root_and_nested_fields_are_graphql_errors() {
    let sim = shop(1).await;
    let a = gql(&sim, "{ products(first: 1) { nodes { id } } }", json!({})).await;
    assert_eq!(a.status, 200);
    assert_eq!(error(&a), "Field 'products' doesn't exist on type 'QueryRoot'");
    assert!(a.body.get("data").is_none());
    let a = gql(&sim, "{ shop { name planet } }", json!({})).await;
    assert_eq!(error(&a), "Field 'planet' doesn't exist on type 'Shop'");
    let a = gql(&sim, "mutation { orderCreate(order: {}) { userErrors { message } } }", json!({})).await;
    assert_eq!(error(&a), "Field 'orderCreate' doesn't exist on type 'Mutation'");
    let a = gql(&sim, "{ shop { name ", json!({})).await;
    assert!(error(&a).starts_with("syntax error"), "{:?}", a.body);
}

#[tokio::test]
async fn an_answer_holds_exactly_the_selection_with_aliases() {
    let sim = shop(2).await;
    let id = order(&sim, &[("SKU-0001", 2), ("SKU-0002", 1)]);
    let q = "query($id: ID!) { o: order(id: $id) { name displayFulfillmentStatus
        lineItems(first: 1) { pageInfo { hasNextPage } nodes { quantity variant { sku barcode inventoryItem { id } } } } } }";
    let a = gql(&sim, q, json!({"id": format!("gid://shopify/Order/{id}")})).await;
    let o = &a.body["data"]["o"];
    let keys: Vec<&String> = o.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["displayFulfillmentStatus", "lineItems", "name"]);
    assert_eq!(o["name"], "#1001");
    assert_eq!(o["displayFulfillmentStatus"], "UNFULFILLED");
    assert_eq!(o["lineItems"]["pageInfo"], json!({"hasNextPage": true}));
    let v = &o["lineItems"]["nodes"][0]["variant"];
    assert_eq!(v["sku"], "SKU-0001");
    assert_eq!(v["barcode"], cartgate::sim::seed::barcode(1));
    assert!(v["inventoryItem"]["id"].as_str().unwrap().starts_with("gid://shopify/InventoryItem/"));
    assert_eq!(v.as_object().unwrap().len(), 3);
    let nodes = gql(
        &sim,
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on ProductVariant { sku } } }",
        json!({"ids": [v["inventoryItem"]["id"], "gid://shopify/ProductVariant/999999"]}),
    )
    .await;
    assert_eq!(nodes.body["data"]["nodes"], json!([{"__typename": "InventoryItem"}, null]));
}

#[tokio::test]
async fn orders_page_by_cursor_and_refuse_pages_above_250() {
    let sim = shop(1).await;
    let ids: Vec<u64> = (0..3).map(|_| order(&sim, &[("SKU-0001", 1)])).collect();
    assert!(ids.iter().all(|id| *id > 1 << 53), "order ids above 2^53");
    let q = "query($after: String) { orders(first: 2, after: $after, sortKey: UPDATED_AT) { pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }";
    let p1 = gql(&sim, q, json!({})).await.body["data"]["orders"].clone();
    assert_eq!(p1["pageInfo"]["hasNextPage"], true);
    assert_eq!(p1["edges"].as_array().unwrap().len(), 2);
    assert_eq!(p1["edges"][1]["cursor"], p1["pageInfo"]["endCursor"]);
    let p2 = gql(&sim, q, json!({"after": p1["pageInfo"]["endCursor"]})).await.body["data"]["orders"].clone();
    assert_eq!(p2["pageInfo"]["hasNextPage"], false);
    assert_eq!(p2["edges"][0]["node"]["id"], format!("gid://shopify/Order/{}", ids[2]));
    let too_big = gql(&sim, "{ orders(first: 251) { nodes { id } } }", json!({})).await;
    assert!(error(&too_big).contains("at most 250"), "{:?}", too_big.body);
    let none = gql(&sim, "{ orders { nodes { id } } }", json!({})).await;
    assert!(error(&none).contains("first or last"));
}

#[tokio::test]
async fn orders_search_by_quoted_updated_at_and_ignore_unquoted_times() {
    let sim = shop(1).await;
    order(&sim, &[("SKU-0001", 1)]);
    let count = |a: &super::Answer| a.body["data"]["orders"]["nodes"].as_array().map_or(99, Vec::len);
    let q = "query($q: String) { orders(first: 10, query: $q, sortKey: UPDATED_AT) { nodes { id updatedAt } } }";
    let past = gql(&sim, q, json!({"q": "updated_at:>'2020-01-01T00:00:00Z'"})).await;
    assert_eq!(count(&past), 1);
    let future = gql(&sim, q, json!({"q": "updated_at:>'2999-01-01T00:00:00Z'"})).await;
    assert_eq!(count(&future), 0);
    let unquoted = gql(&sim, q, json!({"q": "updated_at:>2999-01-01T00:00:00Z"})).await;
    assert_eq!(count(&unquoted), 1, "an unreadable term filters nothing");
    assert!(unquoted.body["extensions"]["search"].is_array());
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_401_and_a_frozen_or_locked_shop_402_423() {
    let sim = shop(1).await;
    for token in [None, Some("shpat_wrong")] {
        let a = gql_as(&sim, token, VERSION, "{ shop { name } }", json!({})).await;
        assert_eq!(a.status, 401);
        assert_eq!(
            a.body,
            json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
        );
    }
    for status in [402, 423] {
        sim.set_shop_status(Some(status));
        assert_eq!(gql(&sim, "{ shop { name } }", json!({})).await.status, status);
    }
    sim.set_shop_status(None);
    assert_eq!(gql(&sim, "{ shop { name } }", json!({})).await.body["data"]["shop"]["name"], "acme");
}

#[tokio::test]
async fn an_unsupported_version_is_answered_by_the_oldest_supported_one() {
    let sim = shop(1).await;
    let old = gql_as(&sim, Some(sim.token()), "2024-01", "{ shop { name } }", json!({})).await;
    assert_eq!((old.status, old.version.as_str()), (200, "2025-10"));
    let pinned = gql_as(&sim, Some(sim.token()), "2026-04", "{ shop { name } }", json!({})).await;
    assert_eq!(pinned.version, "2026-04");
}

/// Requested 2 + 43; actual 2 on an empty shop, so each run drains 2 points.
const Q45: &str = "{ orders(first: 43) { nodes { id } } }";

fn cost(a: &super::Answer) -> &Value {
    &a.body["extensions"]["cost"]
}

#[tokio::test]
async fn every_answer_reports_its_cost_and_an_empty_bucket_throttles() {
    let bucket = BucketConfig { maximum_available: 50.0, restore_rate: 0.5, throttled_status: 200 };
    let sim = shop_with(ShopifyConfig { bucket, ..ShopifyConfig::default() }).await;
    let a = gql(&sim, "{ shop { name } }", json!({})).await;
    assert_eq!(cost(&a)["requestedQueryCost"], 1);
    assert_eq!(cost(&a)["throttleStatus"]["maximumAvailable"], 50.0);
    let q = "{ orders(first: 10) { nodes { id } } }";
    let a = gql(&sim, q, json!({})).await;
    assert_eq!(cost(&a)["requestedQueryCost"], 12, "2 + 10 × 1");
    assert!(cost(&a)["actualQueryCost"].as_u64().unwrap() < 12, "nothing there: refunded");
    let mut throttled = None;
    for _ in 0..10 {
        let a = gql(&sim, Q45, json!({})).await;
        if a.body["errors"].is_array() {
            throttled = Some(a);
            break;
        }
    }
    let t = throttled.expect("a THROTTLED answer");
    assert_eq!(t.status, 200);
    assert_eq!(t.body["errors"][0]["extensions"]["code"], "THROTTLED");
    assert_eq!(cost(&t)["actualQueryCost"], Value::Null);
    assert!(cost(&t)["throttleStatus"]["currentlyAvailable"].as_u64().unwrap() < 45);
    assert_eq!(cost(&t)["requestedQueryCost"], 45);
    assert_eq!(sim.throttled(), 1);
    let huge = gql(&sim, "{ orders(first: 250) { nodes { id } } }", json!({})).await;
    assert_eq!(huge.body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED");
    sim.set_bucket(BucketConfig { throttled_status: 429, ..bucket });
    let mut last = 200;
    for _ in 0..20 {
        last = gql(&sim, Q45, json!({})).await.status;
        if last == 429 {
            break;
        }
    }
    assert_eq!(last, 429);
}

#[tokio::test]
async fn a_429_storm_says_when_to_retry_and_spares_the_control_routes() {
    let sim = shop(1).await;
    sim.set_faults(cartgate::sim::faults::FaultConfig { storm_secs: 30.0, ..Default::default() });
    let resp = crate::support::client()
        .post(sim.graphql_url(VERSION))
        .header("X-Shopify-Access-Token", sim.token())
        .json(&json!({"query": "{ shop { name } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let wait: f64 = crate::support::header(&resp, "retry-after").parse().unwrap();
    assert!(wait > 0.0 && wait <= 31.0);
    let control = crate::support::client().get(format!("{}/_sim/throttled", sim.url())).send().await.unwrap();
    assert_eq!(control.status(), 200);
    assert_eq!(sim.record().entries()[0].token.as_deref(), Some(sim.token()), "recorded under its token");
}
