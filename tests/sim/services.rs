//! EasyPost Fulfillment: an order's `service` must be one the account offers (a configurable
//! list), and its `shipment_options` are kept on the order.

use cartgate::sim::seed::{Seed, barcode};
use cartgate::sim::{EasypostConfig, EasypostSim};
use serde_json::{Value, json};

use crate::support::{EP_TEST_KEY, client, destination, easypost, json};

const FF: &str = "/fulfillment/vendor/v2";

fn order_body(description: &str, service: &str) -> Value {
    json!({"service": service, "description": description, "destination": destination(),
           "line_items": [{"product": {"barcode": barcode(1)}, "units": 1}]})
}

async fn post_order(sim: &EasypostSim, body: &Value) -> (u16, Value) {
    let url = format!("{}{FF}/orders", sim.url());
    let resp = client().post(url).basic_auth(EP_TEST_KEY, Some("")).json(body).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn an_unknown_service_is_a_422_naming_the_field_and_nothing_is_reserved() {
    let sim = easypost(1).await;
    let before = sim.available(&barcode(1));
    let (code, err) = post_order(&sim, &order_body("SO-1", "pigeon")).await;
    assert_eq!(code, 422, "{err}");
    assert_eq!(err["error"]["code"], "PARAMETER.INVALID");
    assert_eq!(err["error"]["errors"][0]["field"], "service");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("pigeon") && message.contains("express"), "names it and what is offered: {message}");
    assert!(!["inventory", "stock", "quantity"].iter().any(|w| message.contains(w)), "not a stock refusal");
    assert_eq!((sim.available(&barcode(1)), sim.orders().len()), (before, 0));

    for service in ["standard", "express", "overnight", "2day"] {
        assert_eq!(post_order(&sim, &order_body(&format!("SO-{service}"), service)).await.0, 201, "{service}");
    }
    let id = sim.order_by_description("SO-standard").unwrap()["id"].as_str().unwrap().to_owned();
    let patch = |service: &str| {
        let url = format!("{}{FF}/orders/{id}", sim.url());
        client().patch(url).basic_auth(EP_TEST_KEY, Some("")).json(&json!({"service": service})).send()
    };
    assert_eq!(patch("pigeon").await.unwrap().status(), 422, "a patch is held to the same list");
    assert_eq!(patch("express").await.unwrap().status(), 200);
    assert_eq!(sim.order(&id).unwrap()["service"], "express");
}

#[tokio::test]
async fn the_offered_services_are_configurable_at_start_and_through_the_control_route() {
    let config = EasypostConfig { seed: Seed::generated(1, 0), services: vec!["ground".into()], ..Default::default() };
    let sim = EasypostSim::start(config).await.unwrap();
    assert_eq!(post_order(&sim, &order_body("SO-1", "standard")).await.0, 422);
    assert_eq!(post_order(&sim, &order_body("SO-2", "ground")).await.0, 201);

    let services = format!("{}/_sim/services", sim.url());
    let set = json(client().put(&services).json(&json!({"services": ["air"]}))).await;
    assert_eq!(set, json!({"services": ["air"]}));
    assert_eq!(json(client().get(&services)).await, set);
    assert_eq!(post_order(&sim, &order_body("SO-3", "ground")).await.0, 422);
    assert_eq!(post_order(&sim, &order_body("SO-4", "air")).await.0, 201);
    sim.set_services(&["standard"]);
    assert_eq!(post_order(&sim, &order_body("SO-5", "standard")).await.0, 201);
}

#[tokio::test]
async fn shipment_options_are_kept_and_shown_on_the_order() {
    let sim = easypost(1).await;
    let mut body = order_body("SO-9", "overnight");
    body["shipment_options"] = json!({"delivery_confirmation": "signature"});
    let (code, created) = post_order(&sim, &body).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["shipment_options"], json!({"delivery_confirmation": "signature"}));
    let stored = sim.order_by_description("SO-9").unwrap();
    assert_eq!(
        (&stored["service"], &stored["shipment_options"]["delivery_confirmation"]),
        (&json!("overnight"), &json!("signature"))
    );
    body["shipment_options"] = json!("signature");
    let (code, err) = post_order(&sim, &body).await;
    assert_eq!((code, &err["error"]["errors"][0]["field"]), (422, &json!("shipment_options")), "{err}");
}
