//! Webhooks: subscriptions through GraphQL, REST-shaped signed bodies with Shopify's headers,
//! retries under one webhook id, duplicates, deletion after the last retry, compliance topics.

use cartgate::sim::ShopifySim;
use cartgate::sim::delivery::{DeliveryPolicy, DeliverySwitches};
use cartgate::sim::shopify::{ComplianceRequest, shopify_sign};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{error, gql, order, shop};
use crate::support::eventually;

const SUBSCRIBE: &str = "mutation($topic: WebhookSubscriptionTopic!, $uri: String!) {
    webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
      webhookSubscription { id topic uri } userErrors { field message } } }";

async fn subscribe(sim: &ShopifySim, topic: &str, uri: &str) -> Value {
    gql(sim, SUBSCRIBE, json!({"topic": topic, "uri": uri})).await.body["data"]["webhookSubscriptionCreate"].clone()
}

async fn receiver(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(status)).mount(&server).await;
    server
}

fn header(req: &wiremock::Request, name: &str) -> String {
    req.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

#[test]
fn the_documented_signature_vector_holds() {
    let body = br##"{"id":820982911946154508,"name":"#9999"}"##;
    assert_eq!(shopify_sign("hush", body), "YBwnJ9vsibq7srObgXybmGHWuwos+jDEL//7749XS78=");
}

#[tokio::test]
async fn subscriptions_are_created_listed_and_checked() {
    let sim = shop(1).await;
    let created = subscribe(&sim, "ORDERS_CREATE", "https://cartgate.example/webhooks/shopify/acme-shop").await;
    assert_eq!(created["userErrors"], json!([]));
    assert_eq!(created["webhookSubscription"]["topic"], "ORDERS_CREATE");
    let twice = subscribe(&sim, "ORDERS_CREATE", "https://cartgate.example/webhooks/shopify/acme-shop").await;
    assert_eq!(twice["userErrors"][0]["message"], "Address for this topic has already been taken");
    let plain = subscribe(&sim, "ORDERS_UPDATED", "http://cartgate.example/wh").await;
    assert_eq!(plain["webhookSubscription"], Value::Null, "http only on loopback");
    let bad = gql(&sim, SUBSCRIBE, json!({"topic": "ORDERS_EXPLODED", "uri": "https://x.example"})).await;
    assert!(error(&bad).contains("WebhookSubscriptionTopic"));
    let list = gql(&sim, "{ webhookSubscriptions(first: 250) { nodes { topic uri } } }", json!({})).await;
    assert_eq!(list.body["data"]["webhookSubscriptions"]["nodes"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn order_webhooks_are_rest_shaped_and_signed_with_shopify_headers() {
    let sim = shop(1).await;
    let hook = receiver(200).await;
    subscribe(&sim, "ORDERS_CREATE", &format!("{}/wh", hook.uri())).await;
    let id = order(&sim, &[("SKU-0001", 2)]);
    eventually("the orders/create delivery", || sim.deliveries().iter().any(|d| d.status == Some(200))).await;
    let reqs = hook.received_requests().await.unwrap();
    let req = &reqs[0];
    assert_eq!(header(req, "x-shopify-hmac-sha256"), shopify_sign(sim.client_secret(), &req.body));
    assert_eq!(header(req, "x-shopify-topic"), "orders/create");
    assert_eq!(header(req, "x-shopify-shop-domain"), "acme.myshopify.com");
    assert_eq!(header(req, "x-shopify-api-version"), "2026-10");
    for h in ["x-shopify-webhook-id", "x-shopify-event-id", "x-shopify-triggered-at"] {
        assert!(!header(req, h).is_empty(), "{h}");
    }
    let text = String::from_utf8(req.body.clone()).unwrap();
    assert!(text.contains(&format!("\"id\":{id}")), "the id as an exact integer above 2^53");
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["admin_graphql_api_id"], format!("gid://shopify/Order/{id}"));
    assert_eq!((body["name"].as_str(), body["financial_status"].as_str()), (Some("#1001"), Some("paid")));
    assert_eq!(body["fulfillment_status"], Value::Null);
    assert!(body["tags"].is_string());
    assert_eq!(body["line_items"][0]["sku"], "SKU-0001");
    assert_eq!(body["line_items"][0]["fulfillable_quantity"], 2);
    assert_eq!(body["shipping_address"]["country_code"], "US");
    assert!(body["customer"]["email"].is_string());
}

#[tokio::test]
async fn failed_deliveries_retry_under_one_webhook_id_and_the_last_failure_deletes_the_subscription() {
    let sim = shop(1).await;
    sim.set_delivery_policy(DeliveryPolicy {
        max_attempts: 3,
        initial_backoff_ms: 10,
        max_backoff_ms: 20,
        timeout_ms: 2000,
    });
    let hook = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).up_to_n_times(1).mount(&hook).await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&hook).await;
    subscribe(&sim, "ORDERS_CANCELLED", &format!("{}/wh", hook.uri())).await;
    let id = order(&sim, &[("SKU-0001", 1)]);
    sim.cancel_order(id).unwrap();
    eventually("the retried delivery", || sim.deliveries().iter().any(|d| d.status == Some(200))).await;
    let reqs = hook.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    assert_eq!(header(&reqs[0], "x-shopify-webhook-id"), header(&reqs[1], "x-shopify-webhook-id"));
    assert_eq!(reqs[0].body, reqs[1].body);
    sim.set_delivery_switches(DeliverySwitches { duplicate_next: 1, ..DeliverySwitches::default() });
    let id2 = order(&sim, &[("SKU-0001", 1)]);
    sim.cancel_order(id2).unwrap();
    eventually("the duplicate", || sim.deliveries().iter().any(|d| d.duplicate)).await;
    let reqs = hook.received_requests().await.unwrap();
    assert_eq!(header(&reqs[2], "x-shopify-webhook-id"), header(&reqs[3], "x-shopify-webhook-id"));
    let dead = receiver(503).await;
    subscribe(&sim, "ORDERS_UPDATED", &format!("{}/dead", dead.uri())).await;
    let before = sim.subscriptions().len();
    let id3 = order(&sim, &[("SKU-0001", 1)]);
    sim.edit_order(
        id3,
        cartgate::sim::shopify::ShopOrderPatch { tags: Some(vec!["rush".into()]), ..Default::default() },
    )
    .unwrap();
    eventually("the subscription deleted", || sim.subscriptions().len() == before - 1).await;
    assert!(sim.subscriptions().iter().all(|(t, _)| t != "ORDERS_UPDATED"));
}

#[tokio::test]
async fn compliance_webhooks_go_to_the_compliance_uri_as_documented() {
    let sim = shop(1).await;
    let hook = receiver(200).await;
    sim.set_compliance_uri(Some(format!("{}/compliance", hook.uri())));
    let id = order(&sim, &[("SKU-0001", 1)]);
    let email = sim.order_detail(id).unwrap()["order"]["email"].as_str().unwrap().to_owned();
    let sent = sim
        .send_compliance(&ComplianceRequest { topic: "customers/redact".into(), email: Some(email.clone()) })
        .unwrap();
    assert_eq!(sent["body"]["orders_to_redact"], json!([id]));
    assert_eq!(sent["body"]["customer"]["email"], email);
    sim.send_compliance(&ComplianceRequest { topic: "shop/redact".into(), email: None }).unwrap();
    eventually("two compliance deliveries", || sim.deliveries().iter().filter(|d| d.status == Some(200)).count() == 2)
        .await;
    let reqs = hook.received_requests().await.unwrap();
    let topics: Vec<String> = reqs.iter().map(|r| header(r, "x-shopify-topic")).collect();
    assert!(topics.contains(&"customers/redact".to_owned()) && topics.contains(&"shop/redact".to_owned()));
    for r in &reqs {
        assert_eq!(header(r, "x-shopify-hmac-sha256"), shopify_sign(sim.client_secret(), &r.body));
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["shop_domain"], "acme.myshopify.com");
        assert!(body["shop_id"].is_u64());
    }
    let unknown =
        sim.send_compliance(&ComplianceRequest { topic: "customers/redact".into(), email: Some("nobody@x".into()) });
    assert!(unknown.is_err());
}

#[tokio::test]
async fn the_control_routes_drive_the_shop_and_order_changes_fire_webhooks() {
    let sim = shop(1).await;
    let hook = receiver(200).await;
    for topic in ["ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED"] {
        subscribe(&sim, topic, &format!("{}/wh", hook.uri())).await;
    }
    let c = crate::support::client();
    let base = format!("{}/_sim", sim.url());
    let v = crate::support::json(
        c.post(format!("{base}/variants")).json(&json!({"sku": "EXTRA-1", "barcode": "0000000000999", "stock": 4})),
    )
    .await;
    assert!(v["inventory_item_id"].as_str().unwrap().starts_with("gid://shopify/InventoryItem/"));
    let o = crate::support::json(
        c.post(format!("{base}/orders"))
            .json(&json!({"lines": [{"sku": "EXTRA-1", "quantity": 2}], "tags": ["vip"], "ship_method": "Express"})),
    )
    .await;
    let id = o["order"]["id"].as_u64().unwrap();
    assert_eq!(o["order"]["shipping_lines"][0]["title"], "Express");
    let unknown = c
        .post(format!("{base}/orders"))
        .json(&json!({"lines": [{"sku": "NOPE", "quantity": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let edited = c
        .patch(format!("{base}/orders/{id}"))
        .json(&json!({"lines": [{"sku": "EXTRA-1", "quantity": 3}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200);
    assert_eq!(sim.remaining(id), [("EXTRA-1".to_owned(), 3)]);
    assert_eq!(c.post(format!("{base}/orders/{id}/cancel")).send().await.unwrap().status(), 200);
    assert_eq!(c.post(format!("{base}/orders/{id}/cancel")).send().await.unwrap().status(), 422, "already cancelled");
    let levels = crate::support::json(c.get(format!("{base}/levels"))).await;
    assert!(levels["levels"].as_array().unwrap().iter().any(|l| l["sku"] == "EXTRA-1" && l["available"] == 4));
    eventually("create, update, cancel, update", || {
        sim.deliveries().iter().filter(|d| d.status == Some(200)).count() == 4
    })
    .await;
    let topics: Vec<String> =
        hook.received_requests().await.unwrap().iter().map(|r| header(r, "x-shopify-topic")).collect();
    for t in ["orders/create", "orders/updated", "orders/cancelled"] {
        assert!(topics.iter().any(|x| x == t), "{t} in {topics:?}");
    }
    let throttled = crate::support::json(c.get(format!("{base}/throttled"))).await;
    assert_eq!(throttled["throttled"], 0);
    let shop_state = c.put(format!("{base}/shop")).json(&json!({"status": 423})).send().await.unwrap();
    assert_eq!(shop_state.status(), 200);
    assert_eq!(gql(&sim, "{ shop { name } }", json!({})).await.status, 423);
}

#[tokio::test]
async fn uninstalling_sends_app_uninstalled_then_ends_tokens_and_subscriptions() {
    let sim = shop(1).await;
    let hook = receiver(200).await;
    subscribe(&sim, "APP_UNINSTALLED", &format!("{}/wh", hook.uri())).await;
    sim.uninstall();
    eventually("app/uninstalled", || sim.deliveries().iter().any(|d| d.status == Some(200))).await;
    let reqs = hook.received_requests().await.unwrap();
    assert_eq!(header(&reqs[0], "x-shopify-topic"), "app/uninstalled");
    let body: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(body["myshopify_domain"], "acme.myshopify.com");
    assert!(sim.subscriptions().is_empty());
    assert_eq!(gql(&sim, "{ shop { name } }", json!({})).await.status, 401);
    sim.install();
    assert_eq!(gql(&sim, "{ shop { name } }", json!({})).await.status, 200);
}
