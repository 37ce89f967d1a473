//! `inventorySetQuantities`: compare-and-set with `changeFromQuantity`, `@idempotent` replay and
//! mismatch, reasons, unstocked locations; levels read back through `inventoryItem`.

use cartgate::sim::ShopifyConfig;
use cartgate::sim::seed::Seed;
use serde_json::{Value, json};

use super::{gql, shop_with};

const SET: &str = "mutation($in: InventorySetQuantitiesInput!, $key: String!) {
    inventorySetQuantities(input: $in) @idempotent(key: $key) {
      inventoryAdjustmentGroup { reason changes { name delta } } userErrors { code field message } } }";
const LEVEL: &str = "query($item: ID!, $loc: ID!) { inventoryItem(id: $item) {
    inventoryLevel(locationId: $loc) { quantities(names: [\"available\", \"on_hand\"]) { name quantity } } } }";

async fn two_locations() -> cartgate::sim::ShopifySim {
    shop_with(ShopifyConfig { seed: Seed::generated(1, 0), location_ids: vec![1, 2], ..ShopifyConfig::default() }).await
}

async fn item(sim: &cartgate::sim::ShopifySim) -> String {
    let a = gql(
        sim,
        "{ productVariants(first: 1, query: \"sku:SKU-0001\") { nodes { inventoryItem { id } } } }",
        json!({}),
    )
    .await;
    a.body["data"]["productVariants"]["nodes"][0]["inventoryItem"]["id"].as_str().unwrap().to_owned()
}

fn input(item: &str, loc: &str, quantity: i64, change_from: Value, reason: &str) -> Value {
    json!({"name": "available", "reason": reason, "referenceDocumentUri": "gid://cartgate/Sync/1",
        "quantities": [{"inventoryItemId": item, "locationId": loc, "quantity": quantity, "changeFromQuantity": change_from}]})
}

fn code(a: &super::Answer) -> Value {
    a.body["data"]["inventorySetQuantities"]["userErrors"][0]["code"].clone()
}

async fn available(sim: &cartgate::sim::ShopifySim, item: &str) -> (i64, i64) {
    let a = gql(sim, LEVEL, json!({"item": item, "loc": "gid://shopify/Location/1"})).await;
    let q = &a.body["data"]["inventoryItem"]["inventoryLevel"]["quantities"];
    (q[0]["quantity"].as_i64().unwrap(), q[1]["quantity"].as_i64().unwrap())
}

#[tokio::test]
async fn a_stale_change_from_quantity_is_refused_and_a_matching_one_applies() {
    let sim = two_locations().await;
    let item = item(&sim).await;
    assert_eq!(available(&sim, &item).await, (100, 100));
    let stale = gql(
        &sim,
        SET,
        json!({"in": input(&item, "gid://shopify/Location/1", 12, json!(5), "correction"), "key": "k1"}),
    )
    .await;
    assert_eq!(code(&stale), "CHANGE_FROM_QUANTITY_STALE");
    assert_eq!(available(&sim, &item).await, (100, 100));
    let ok = gql(
        &sim,
        SET,
        json!({"in": input(&item, "gid://shopify/Location/1", 12, json!(100), "correction"), "key": "k2"}),
    )
    .await;
    let group = &ok.body["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"];
    assert_eq!(group["changes"][0], json!({"name": "available", "delta": -88}));
    assert_eq!(available(&sim, &item).await, (12, 12));
    let unchecked =
        gql(&sim, SET, json!({"in": input(&item, "gid://shopify/Location/1", 7, Value::Null, "restock"), "key": "k3"}))
            .await;
    assert_eq!(unchecked.body["data"]["inventorySetQuantities"]["userErrors"], json!([]));
    assert_eq!(sim.level("SKU-0001").unwrap().available, 7);
}

#[tokio::test]
async fn the_same_idempotency_key_replays_and_refuses_other_parameters() {
    let sim = two_locations().await;
    let item = item(&sim).await;
    let vars = json!({"in": input(&item, "gid://shopify/Location/1", 40, json!(100), "correction"), "key": "sync-1"});
    let first = gql(&sim, SET, vars.clone()).await;
    let again = gql(&sim, SET, vars).await;
    assert_eq!(first.body["data"], again.body["data"], "replayed");
    assert_eq!(available(&sim, &item).await, (40, 40), "applied once (a second apply would be stale anyway)");
    let other = json!({"in": input(&item, "gid://shopify/Location/1", 41, json!(40), "correction"), "key": "sync-1"});
    assert_eq!(code(&gql(&sim, SET, other).await), "IDEMPOTENCY_KEY_PARAMETER_MISMATCH");
    assert_eq!(available(&sim, &item).await, (40, 40));
    let no_key =
        "mutation($in: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $in) { userErrors { code } } }";
    let a =
        gql(&sim, no_key, json!({"in": input(&item, "gid://shopify/Location/1", 1, Value::Null, "correction")})).await;
    assert!(super::error(&a).contains("@idempotent"));
}

#[tokio::test]
async fn bad_reasons_names_unstocked_locations_and_missing_change_from_are_refused() {
    let sim = two_locations().await;
    let item = item(&sim).await;
    let bad_reason =
        gql(&sim, SET, json!({"in": input(&item, "gid://shopify/Location/1", 1, Value::Null, "vibes"), "key": "a"}))
            .await;
    assert_eq!(code(&bad_reason), "INVALID_REASON");
    let unstocked = gql(
        &sim,
        SET,
        json!({"in": input(&item, "gid://shopify/Location/2", 1, Value::Null, "correction"), "key": "b"}),
    )
    .await;
    assert_eq!(code(&unstocked), "ITEM_NOT_STOCKED_AT_LOCATION");
    let mut named = input(&item, "gid://shopify/Location/1", 1, Value::Null, "correction");
    named["name"] = json!("committed");
    assert_eq!(code(&gql(&sim, SET, json!({"in": named, "key": "c"})).await), "INVALID_NAME");
    let mut missing = input(&item, "gid://shopify/Location/1", 1, Value::Null, "correction");
    missing["quantities"][0].as_object_mut().unwrap().remove("changeFromQuantity");
    let a = gql(&sim, SET, json!({"in": missing, "key": "d"})).await;
    assert!(super::error(&a).contains("changeFromQuantity"));
    assert_eq!(available(&sim, &item).await, (100, 100));
}
