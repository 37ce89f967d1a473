//! Reads: orders, details, the poll, items, fulfillments, webhooks, the connection check.

use cartgate::domain::CartOrderState;
use chrono::{TimeZone, Utc};
use serde_json::json;
use wiremock::MockServer;

use super::{answer, data, sent, shop};
use crate::support::local_client;

/// Above 2^53: must survive as an integer.
const BIG: u64 = 820_982_911_946_154_508;

fn order_json() -> serde_json::Value {
    json!({"order": {
        "id": format!("gid://shopify/Order/{BIG}"), "name": "#9999", "email": "ann@example.com", "phone": "+15550100",
        "createdAt": "2026-10-01T10:00:00Z", "updatedAt": "2026-10-02T10:00:00Z", "cancelledAt": null,
        "displayFinancialStatus": "PAID", "displayFulfillmentStatus": "SOMETHING_NEW", "tags": ["vip", " "],
        "shippingAddress": null, "shippingLine": {"title": "Express", "code": "EXP", "source": "shopify"},
        "lineItems": {"nodes": [
            {"id": "gid://shopify/LineItem/9007199254740993", "sku": "LINE-SKU", "quantity": 2,
             "variant": {"id": "gid://shopify/ProductVariant/11", "sku": null, "barcode": "0001234",
                         "inventoryItem": {"id": "gid://shopify/InventoryItem/111"}}},
            {"id": "gid://shopify/LineItem/2", "sku": "TIP", "quantity": 1, "variant": null},
            {"id": "gid://shopify/LineItem/3", "sku": "GONE", "quantity": 0,
             "variant": {"id": "gid://shopify/ProductVariant/12", "sku": "G", "barcode": null, "inventoryItem": null}},
            {"id": "gid://shopify/LineItem/4", "sku": null, "quantity": 1,
             "variant": {"id": "gid://shopify/ProductVariant/13", "sku": "", "barcode": "", "inventoryItem": null}}
        ]}
    }})
}

#[tokio::test]
async fn an_order_is_read_by_gid_and_converted_and_its_details_need_no_second_read() {
    let server = MockServer::start().await;
    answer(&server, "order(id: $id) { id name", data(order_json())).await;
    let cart = shop(&local_client(), &server.uri());
    let order = cart.order(BIG).await.unwrap();
    assert_eq!((order.id, order.number.as_str(), order.state), (BIG, "#9999", CartOrderState::Open));
    assert_eq!(order.words.status, "open");
    assert_eq!(order.words.payment.as_deref(), Some("paid"));
    assert_eq!(order.words.fulfillment.as_deref(), Some("something_new"), "unknown values pass through");
    assert_eq!((order.ship_method.as_deref(), order.tags.clone()), (Some("Express"), vec!["vip".to_owned()]));
    let lines: Vec<_> = order.lines.iter().map(|l| (l.line_item_id, l.variant_id, l.quantity)).collect();
    assert_eq!(lines, [(9_007_199_254_740_993, 11, 2), (4, 13, 1)], "no variant or no units: not a product line");
    assert!(order.version.is_some());

    let (dest, lines) = cart.order_details(&order).await.unwrap();
    assert_eq!((dest.street1.as_str(), dest.name.as_str()), ("", ""), "no address: an empty destination");
    assert_eq!((dest.email.as_deref(), dest.phone.as_deref()), (Some("ann@example.com"), Some("+15550100")));
    let codes: Vec<_> = lines.iter().map(|l| (l.sku.to_string(), l.upc.as_ref().map(|u| u.to_string()))).collect();
    assert_eq!(codes, [("LINE-SKU".to_owned(), Some("0001234".to_owned())), ("variant-13".to_owned(), None)]);

    let bodies = sent(&server, "order(id: $id) { id name").await;
    assert_eq!(bodies.len(), 1, "details of the order just read come from that read");
    assert_eq!(bodies[0]["variables"]["id"], format!("gid://shopify/Order/{BIG}"));
}

#[tokio::test]
async fn a_cancelled_order_is_voided_and_a_missing_one_not_found() {
    let server = MockServer::start().await;
    let mut o = order_json();
    o["order"]["cancelledAt"] = json!("2026-10-03T00:00:00Z");
    answer(&server, "\"id\":\"gid://shopify/Order/820982911946154508\"", data(o)).await;
    answer(&server, "order(id: $id) { id name", data(json!({"order": null}))).await;
    let cart = shop(&local_client(), &server.uri());
    let order = cart.order(BIG).await.unwrap();
    assert_eq!((order.state, order.words.status.as_str()), (CartOrderState::Voided, "cancelled"));
    let err = cart.order(5).await.unwrap_err();
    assert!(matches!(err, cartgate::upstream::UpstreamError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn the_poll_asks_for_updates_after_a_quoted_time_and_pages_by_cursor() {
    let server = MockServer::start().await;
    let page = |next: bool, cursor: &str| {
        data(json!({"orders": {"pageInfo": {"hasNextPage": next, "endCursor": cursor},
            "nodes": [{"id": "gid://shopify/Order/5", "updatedAt": "2026-10-02T00:00:00Z"}]}}))
    };
    answer(&server, "\"after\":\"c1\"", page(false, "c2")).await;
    answer(&server, "orders(first: $first", page(true, "c1")).await;
    let cart = shop(&local_client(), &server.uri());
    let since = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
    let (orders, next) = cart.orders_updated_since(since, None).await.unwrap();
    assert_eq!((orders[0].id, next.as_deref()), (5, Some("c1")));
    let (_, last) = cart.orders_updated_since(since, next.as_deref()).await.unwrap();
    assert_eq!(last, None, "no next page: no token");
    let bodies = sent(&server, "orders(first: $first").await;
    assert_eq!(bodies[0]["variables"], json!({"first": 250, "after": null, "q": "updated_at:>'2026-10-01T00:00:00Z'"}));
    assert!(bodies[0]["query"].as_str().unwrap().contains("sortKey: UPDATED_AT"));
    assert_eq!(bodies[1]["variables"]["after"], "c1");
}

#[tokio::test]
async fn items_carry_available_stock_at_the_cart_location() {
    let server = MockServer::start().await;
    let nodes = json!({"nodes": [
        {"id": "gid://shopify/ProductVariant/11", "sku": "A-1", "barcode": "123",
         "inventoryItem": {"id": "gid://shopify/InventoryItem/111",
            "inventoryLevel": {"quantities": [{"name": "available", "quantity": 4}]}}},
        null
    ]});
    answer(&server, "nodes(ids: $ids)", data(nodes)).await;
    let cart = shop(&local_client(), &server.uri());
    let items = cart.items(&[11, 12]).await.unwrap();
    assert_eq!(items.len(), 1, "an unknown id is left out");
    assert_eq!((items[0].variant_id, items[0].on_hand_at(7), items[0].on_hand_at(8)), (11, 4, 0));
    let body = &sent(&server, "nodes(ids: $ids)").await[0];
    assert_eq!(
        body["variables"],
        json!({"ids": ["gid://shopify/ProductVariant/11", "gid://shopify/ProductVariant/12"],
               "locationId": "gid://shopify/Location/7"})
    );
    assert!(body["query"].as_str().unwrap().contains("quantities(names: [\"available\"])"));
}

#[tokio::test]
async fn fulfillments_are_listed_with_their_tracking_numbers() {
    let server = MockServer::start().await;
    let order = json!({"order": {"fulfillments": [
        {"id": "gid://shopify/Fulfillment/31", "trackingInfo": [{"number": "1Z1"}]},
        {"id": "gid://shopify/Fulfillment/32", "trackingInfo": []}
    ]}});
    answer(&server, "fulfillments(first: 50)", data(order)).await;
    let got = shop(&local_client(), &server.uri()).fulfillments(BIG).await.unwrap();
    let got: Vec<_> = got.iter().map(|f| (f.id, f.tracking_number.clone())).collect();
    assert_eq!(got, [(31, Some("1Z1".to_owned())), (32, None)]);
}

#[tokio::test]
async fn missing_webhook_topics_are_subscribed_with_uri_and_json() {
    let server = MockServer::start().await;
    let here = "https://cartgate.example/webhooks/shopify/acme-shop";
    let existing = json!({"webhookSubscriptions": {"nodes": [
        {"id": "gid://shopify/WebhookSubscription/1", "topic": "ORDERS_CREATE", "uri": here},
        {"id": "gid://shopify/WebhookSubscription/2", "topic": "ORDERS_UPDATED", "uri": "https://elsewhere.example"}
    ]}});
    answer(&server, "webhookSubscriptions(first: 250)", data(existing)).await;
    let created = json!({"webhookSubscriptionCreate": {"webhookSubscription": {"id": "x"}, "userErrors": []}});
    answer(&server, "webhookSubscriptionCreate(", data(created)).await;
    let topics = shop(&local_client(), &server.uri()).ensure_webhooks(here).await.unwrap();
    assert_eq!(topics, ["ORDERS_UPDATED", "ORDERS_CANCELLED", "APP_UNINSTALLED"]);
    let bodies = sent(&server, "webhookSubscriptionCreate(").await;
    assert_eq!(
        bodies[0]["variables"],
        json!({"topic": "ORDERS_UPDATED", "webhookSubscription": {"uri": here, "format": "JSON"}})
    );
}

#[tokio::test]
async fn the_connection_check_asks_for_the_shop_name() {
    let server = MockServer::start().await;
    answer(&server, "shop { name }", data(json!({"shop": {"name": "Acme"}}))).await;
    shop(&local_client(), &server.uri()).check().await.unwrap();
}
