//! Writes: a parcel onto fulfillment orders, and stock levels set with compare-and-set.

use std::time::Duration;

use cartgate::cart::{STALE_LEVEL, is_stale_level};
use cartgate::domain::{AdjustmentReason, NewFulfillment, StockAdjustment, StockLine};
use cartgate::upstream::UpstreamError;
use chrono::Utc;
use serde_json::json;
use wiremock::MockServer;

use super::{answer, data, sent, shop};
use crate::support::local_client;

const FO_ROOT: &str = "fulfillmentOrders(first: 8)";
const CREATE_ROOT: &str = "fulfillmentCreate(fulfillment:";
const SET_ROOT: &str = "inventorySetQuantities(input: $input) @idempotent(key: $key)";

fn fulfillment_orders(remaining: i64) -> serde_json::Value {
    let fo = |id: u32, location: u32, lines: serde_json::Value| {
        json!({"id": format!("gid://shopify/FulfillmentOrder/{id}"), "status": "OPEN",
               "assignedLocation": {"name": "W", "location": {"id": format!("gid://shopify/Location/{location}")}},
               "lineItems": {"nodes": lines}})
    };
    let line = |id: u32, line_item: u32, remaining: i64| {
        json!({"id": format!("gid://shopify/FulfillmentOrderLineItem/{id}"), "remainingQuantity": remaining,
               "totalQuantity": 3, "sku": "A", "lineItem": {"id": format!("gid://shopify/LineItem/{line_item}")}})
    };
    json!({"order": {"fulfillmentOrders": {"nodes": [
        fo(1, 9, json!([line(11, 100, 3)])),
        fo(2, 7, json!([line(21, 100, remaining), line(22, 101, remaining)])),
    ]}}})
}

fn parcel(lines: Vec<(u64, u32)>) -> NewFulfillment {
    NewFulfillment {
        order_id: 5,
        shipped_at: Utc::now(),
        carrier: Some("UPS".into()),
        tracking_number: "1Z999".into(),
        tracking_url: Some("https://track.example/1Z999".into()),
        lines,
    }
}

#[tokio::test]
async fn a_parcel_is_fulfilled_on_the_fulfillment_order_lines_at_the_cart_location() {
    let server = MockServer::start().await;
    answer(&server, FO_ROOT, data(fulfillment_orders(3))).await;
    let created = json!({"fulfillmentCreate": {"fulfillment": {"id": "gid://shopify/Fulfillment/77", "status": "SUCCESS"},
                         "userErrors": []}});
    answer(&server, CREATE_ROOT, data(created)).await;
    let id =
        shop(&local_client(), &server.uri()).create_fulfillment(&parcel(vec![(100, 2), (101, 1)]), "k").await.unwrap();
    assert_eq!(id, 77);
    let body = &sent(&server, CREATE_ROOT).await[0];
    assert_eq!(
        body["variables"]["fulfillment"],
        json!({"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/2",
                 "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/21", "quantity": 2},
                                               {"id": "gid://shopify/FulfillmentOrderLineItem/22", "quantity": 1}]}],
               "trackingInfo": {"company": "UPS", "number": "1Z999", "url": "https://track.example/1Z999"},
               "notifyCustomer": true})
    );
    assert_eq!(sent(&server, FO_ROOT).await[0]["variables"], json!({"id": "gid://shopify/Order/5"}));
}

#[tokio::test]
async fn nothing_remaining_is_rejected_without_creating_anything() {
    let server = MockServer::start().await;
    answer(&server, FO_ROOT, data(fulfillment_orders(0))).await;
    let err = shop(&local_client(), &server.uri()).create_fulfillment(&parcel(vec![(100, 1)]), "k").await.unwrap_err();
    assert!(matches!(&err, UpstreamError::Rejected { code: Some(c), .. } if c == "NOTHING_REMAINS"), "{err:?}");
    assert!(sent(&server, CREATE_ROOT).await.is_empty());
}

#[tokio::test]
async fn user_errors_are_rejected_with_shopify_s_message() {
    let server = MockServer::start().await;
    answer(&server, FO_ROOT, data(fulfillment_orders(3))).await;
    let refused = json!({"fulfillmentCreate": {"fulfillment": null,
        "userErrors": [{"field": ["fulfillment", "trackingInfo"], "message": "Tracking url is invalid"}]}});
    answer(&server, CREATE_ROOT, data(refused)).await;
    let err = shop(&local_client(), &server.uri()).create_fulfillment(&parcel(vec![(100, 1)]), "k").await.unwrap_err();
    assert!(matches!(err, UpstreamError::Rejected { .. }), "{err:?}");
    assert_eq!(err.merchant_message(), "fulfillment.trackingInfo: Tracking url is invalid");
}

#[tokio::test]
async fn a_lost_fulfillment_answer_is_ambiguous_and_retryable_but_a_lost_read_is_transient() {
    let server = MockServer::start().await;
    answer(&server, FO_ROOT, data(fulfillment_orders(3))).await;
    let slow = data(json!({})).set_delay(Duration::from_millis(1500));
    answer(&server, CREATE_ROOT, slow.clone()).await;
    answer(&server, "shop { name }", slow).await;
    let cart = shop(&local_client(), &server.uri());
    let err = cart.create_fulfillment(&parcel(vec![(100, 1)]), "k").await.unwrap_err();
    assert!(matches!(err, UpstreamError::Ambiguous { .. }) && err.is_retryable(), "{err:?}");
    let err = cart.check().await.unwrap_err();
    assert!(matches!(err, UpstreamError::Transient { .. }), "a query changed nothing: {err:?}");
}

fn adjustment() -> StockAdjustment {
    StockAdjustment {
        location: 7,
        reason: AdjustmentReason::default(),
        notes: "n".into(),
        lines: vec![
            StockLine { variant_id: 11, seen: 5, target: 12 },
            StockLine { variant_id: 12, seen: 0, target: 1 },
        ],
    }
}

async fn variants(server: &MockServer) {
    let nodes = json!({"nodes": [
        {"id": "gid://shopify/ProductVariant/11", "sku": "A", "barcode": null,
         "inventoryItem": {"id": "gid://shopify/InventoryItem/111", "inventoryLevel": null}},
        {"id": "gid://shopify/ProductVariant/12", "sku": "B", "barcode": null,
         "inventoryItem": {"id": "gid://shopify/InventoryItem/112", "inventoryLevel": null}}
    ]});
    answer(server, "nodes(ids: $ids)", data(nodes)).await;
}

#[tokio::test]
async fn stock_is_set_absolutely_from_the_level_seen_under_the_given_key_on_every_retry() {
    let server = MockServer::start().await;
    variants(&server).await;
    let ok = json!({"inventorySetQuantities": {"inventoryAdjustmentGroup": {"createdAt": "x", "reason": "correction",
                    "changes": []}, "userErrors": []}});
    answer(&server, SET_ROOT, data(ok)).await;
    let cart = shop(&local_client(), &server.uri());
    cart.adjust_stock(&adjustment(), "cartgate:acme-shop:stock:s1:abc").await.unwrap();
    cart.adjust_stock(&adjustment(), "cartgate:acme-shop:stock:s1:abc").await.unwrap();
    let bodies = sent(&server, SET_ROOT).await;
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["variables"], bodies[1]["variables"], "a retry is the same request under the same key");
    assert_eq!(sent(&server, "nodes(ids: $ids)").await.len(), 1, "inventory items are looked up once");
    assert_eq!(
        bodies[0]["variables"],
        json!({"key": "cartgate:acme-shop:stock:s1:abc", "input": {
            "name": "available", "reason": "correction",
            "referenceDocumentUri": "gid://cartgate/StockSync/cartgate:acme-shop:stock:s1:abc",
            "quantities": [
                {"inventoryItemId": "gid://shopify/InventoryItem/111", "locationId": "gid://shopify/Location/7",
                 "quantity": 12, "changeFromQuantity": 5},
                {"inventoryItemId": "gid://shopify/InventoryItem/112", "locationId": "gid://shopify/Location/7",
                 "quantity": 1, "changeFromQuantity": 0}]}})
    );
}

#[tokio::test]
async fn a_level_that_moved_is_reported_stale() {
    let server = MockServer::start().await;
    variants(&server).await;
    let stale = json!({"inventorySetQuantities": {"inventoryAdjustmentGroup": null, "userErrors": [
        {"code": STALE_LEVEL, "field": ["input", "quantities", "0", "changeFromQuantity"],
         "message": "The quantity has changed"}]}});
    answer(&server, SET_ROOT, data(stale)).await;
    let err = shop(&local_client(), &server.uri()).adjust_stock(&adjustment(), "k").await.unwrap_err();
    assert!(is_stale_level(&err), "{err:?}");
    let other = UpstreamError::Rejected {
        upstream: cartgate::upstream::Upstream::Shopify,
        status: 422,
        code: Some("INVALID_REASON".into()),
        message: String::new(),
        raw_body: String::new(),
    };
    assert!(!is_stale_level(&other));
}
