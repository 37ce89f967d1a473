//! Signed webhooks from both simulators verify with cartgate's own verifiers; retries, drops,
//! duplicates and 410 behave as documented.

use cartgate::signature::{easypost_verify, tradegecko_verify};
use cartgate::sim::delivery::DeliverySwitches;
use cartgate::sim::seed::barcode;
use cartgate::sim::tradegecko::{NewLine, NewOrder};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{EP_TEST_KEY, client, destination, easypost, eventually, json, tradegecko};

fn an_order() -> NewOrder {
    NewOrder {
        lines: vec![NewLine { sku: Some("SKU-0001".into()), quantity: 1, ..NewLine::default() }],
        ..NewOrder::default()
    }
}

async fn receiver(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(status)).mount(&server).await;
    server
}

async fn received(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap_or_default()
}

async fn register_tg(sim: &cartgate::sim::TradegeckoSim, address: &str, event: &str) -> Value {
    let body = json!({"webhook": {"address": address, "event": event}});
    let r = client().post(format!("{}/webhooks", sim.url())).bearer_auth(sim.token()).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

#[tokio::test]
async fn tradegecko_notifications_are_thin_signed_and_unique_per_delivery() {
    let sim = tradegecko(1).await;
    let hook = receiver(200).await;
    register_tg(&sim, &format!("{}/tg", hook.uri()), "order.create").await;
    let id = sim.create_order(an_order()).unwrap();
    eventually("the order.create delivery", || sim.deliveries().iter().any(|d| d.status == Some(200))).await;
    let reqs = received(&hook).await;
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    let sig = req.headers.get("x-gecko-signature").map(|v| v.as_bytes());
    assert_eq!(tradegecko_verify([sim.client_secret()], sig, &req.body), Ok(()));
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["object_id"], id);
    assert_eq!(body["event"], "order.create");
    assert_eq!(body["resource_url"], format!("{}/orders/{id}", sim.url()));
    assert!(req.headers.get("x-gecko-delivery").is_some());
}

#[tokio::test]
async fn failed_deliveries_are_retried_duplicated_or_dropped_on_request_and_410_deletes_the_hook() {
    let sim = tradegecko(1).await;
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&hook)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).with_priority(2).mount(&hook).await;
    register_tg(&sim, &hook.uri(), "order.create").await;
    sim.create_order(an_order()).unwrap();
    eventually("a retried delivery", || sim.deliveries().iter().any(|d| d.status == Some(200))).await;
    let reqs = received(&hook).await;
    assert_eq!(reqs.len(), 3);
    let ids: Vec<_> = reqs.iter().map(|r| r.headers.get("x-gecko-delivery").unwrap().clone()).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "retries keep the delivery id");

    sim.set_delivery_switches(DeliverySwitches { duplicate_next: 1, ..DeliverySwitches::default() });
    sim.create_order(an_order()).unwrap();
    eventually("a duplicated delivery", || sim.deliveries().iter().any(|d| d.duplicate)).await;
    sim.set_delivery_switches(DeliverySwitches { drop_next: 1, ..DeliverySwitches::default() });
    sim.create_order(an_order()).unwrap();
    assert!(sim.deliveries().iter().any(|d| d.attempt == 0), "the drop is logged");
    eventually("deliveries to settle", || sim.deliveries_in_flight() == 0).await;
    assert_eq!(received(&hook).await.len(), 5, "3 for the first, 2 for the duplicate, 0 for the dropped");

    let gone = receiver(410).await;
    let sim2 = tradegecko(1).await;
    register_tg(&sim2, &gone.uri(), "order.create").await;
    sim2.create_order(an_order()).unwrap();
    eventually("the 410 to delete the webhook", || sim2.webhooks().is_empty()).await;
}

#[tokio::test]
async fn easypost_events_verify_with_the_nfkd_secret_for_ship_and_tracker_updates() {
    let sim = easypost(1).await;
    let hook = receiver(200).await;
    let secret = "s\u{e9}cret";
    let c = client();
    let reg = json!({"webhook": {"url": format!("{}/ep", hook.uri()), "webhook_secret": secret}});
    let r =
        c.post(format!("{}/v2/webhooks", sim.url())).basic_auth(EP_TEST_KEY, Some("")).json(&reg).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let body = json!({"service": "standard", "description": "SO-9", "destination": destination(),
        "line_items": [{"product": {"barcode": barcode(1)}, "units": 1}]});
    let order = json(
        c.post(format!("{}/fulfillment/vendor/v2/orders", sim.url())).basic_auth(EP_TEST_KEY, Some("")).json(&body),
    )
    .await;
    let shipped = sim.ship(order["id"].as_str().unwrap(), &[]).unwrap();
    let code = shipped["picks"][0]["tracker"]["tracking_code"].as_str().unwrap().to_owned();
    sim.advance_tracker(&code, None).unwrap();
    eventually("three events", || sim.deliveries().iter().filter(|d| d.status == Some(200)).count() == 3).await;
    let mut descriptions = Vec::new();
    for req in received(&hook).await {
        let sig = req.headers.get("x-hmac-signature").map(|v| v.as_bytes());
        assert_eq!(easypost_verify([secret], sig, &req.body), Ok(()));
        let event: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!((event["object"].as_str(), event["mode"].as_str()), (Some("Event"), Some("test")));
        if event["description"] == "tracker.updated" {
            assert_eq!(event["result"]["status"], "in_transit");
            assert_eq!(event["previous_attributes"]["status"], "pre_transit");
        }
        if event["description"] == "fulfillment.order.updated" {
            assert_eq!(event["result"]["trackers"][0]["tracking_code"], code.as_str());
        }
        descriptions.push(event["description"].as_str().unwrap().to_owned());
    }
    descriptions.sort();
    assert_eq!(descriptions, ["fulfillment.order.updated", "tracker.created", "tracker.updated"]);
}
