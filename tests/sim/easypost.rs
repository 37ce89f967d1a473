//! EasyPost Fulfillment: keys and modes, inventory-checked orders, cancel, shipping in picks.

use cartgate::sim::easypost::{PickLine, PickSpec};
use cartgate::sim::seed::barcode;
use serde_json::{Value, json};

use crate::support::{EP_PROD_KEY, EP_TEST_KEY, client, destination, easypost, header, json};

const FF: &str = "/fulfillment/vendor/v2";

fn order_body(description: &str, barcode: &str, units: i64) -> Value {
    json!({"service": "standard", "description": description, "destination": destination(),
           "line_items": [{"product": {"barcode": barcode}, "units": units}]})
}

async fn post_order(url: &str, key: &str, body: &Value) -> reqwest::Response {
    client().post(format!("{url}{FF}/orders")).basic_auth(key, Some("")).json(body).send().await.unwrap()
}

#[tokio::test]
async fn keys_decide_mode_and_bad_keys_get_401_or_403() {
    let sim = easypost(1).await;
    let c = client();
    let check = |key: &str| c.get(format!("{}/v2/trackers?page_size=1", sim.url())).basic_auth(key, Some("")).send();
    let ok = check(EP_TEST_KEY).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(!header(&ok, "x-ep-request-uuid").is_empty());
    let unknown = check("EZTKnope").await.unwrap();
    assert_eq!(unknown.status(), 401);
    sim.set_key_active(EP_PROD_KEY, false);
    let inactive = check(EP_PROD_KEY).await.unwrap();
    assert_eq!(inactive.status(), 403);
    assert_eq!(inactive.json::<Value>().await.unwrap()["error"]["code"], "APIKEY.INACTIVE");
    sim.set_key_active(EP_PROD_KEY, true);

    let r =
        c.post(format!("{}{FF}/orders", sim.url())).bearer_auth(EP_PROD_KEY).json(&order_body("SO-1", &barcode(1), 1));
    let order: Value = r.send().await.unwrap().json().await.unwrap();
    assert_eq!(order["mode"], "production");
    assert_eq!(order["object"], "Order");
    let id = order["id"].as_str().unwrap();
    assert!(id.starts_with("order_"));
    let from_test =
        c.get(format!("{}{FF}/orders/{id}", sim.url())).basic_auth(EP_TEST_KEY, Some("")).send().await.unwrap();
    assert_eq!(from_test.status(), 404, "test keys do not see production orders");
}

#[tokio::test]
async fn an_order_beyond_stock_is_rejected_naming_the_barcode_until_stock_is_received() {
    let sim = easypost(1).await;
    let bc = barcode(1);
    sim.set_inventory(&[cartgate::sim::easypost::control::InventoryItem {
        barcode: bc.clone(),
        quantity: 3,
        warehouse_id: None,
    }])
    .unwrap();
    let body = order_body("SO-2", &bc, 5);
    let rejected = post_order(sim.url(), EP_TEST_KEY, &body).await;
    assert_eq!(rejected.status(), 422);
    let err: Value = rejected.json().await.unwrap();
    assert_eq!(err["error"]["code"], "INSUFFICIENT_INVENTORY");
    assert!(err["error"]["message"].as_str().unwrap().contains(&bc));
    assert!(sim.orders().is_empty());

    sim.receive(&bc, Some("wh_sim_west"), 2).unwrap();
    let accepted = post_order(sim.url(), EP_TEST_KEY, &body).await;
    assert_eq!(accepted.status(), 201);
    let order: Value = accepted.json().await.unwrap();
    assert_eq!(order["line_items"][0]["product"]["barcode"], bc);
    assert_eq!(order["picks"], json!([]));
    assert_eq!(sim.available(&bc), 0, "accepted orders reserve stock");
}

#[tokio::test]
async fn an_unknown_barcode_is_a_different_422_naming_it() {
    let sim = easypost(1).await;
    let r = post_order(sim.url(), EP_TEST_KEY, &order_body("SO-3", "999999", 1)).await;
    assert_eq!(r.status(), 422);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "PRODUCT.NOT_FOUND");
    assert!(err["error"]["message"].as_str().unwrap().contains("999999"));
}

#[tokio::test]
async fn delete_before_shipping_cancels_and_returns_stock_but_not_after() {
    let sim = easypost(1).await;
    let bc = barcode(1);
    let before = sim.available(&bc);
    let order: Value = post_order(sim.url(), EP_TEST_KEY, &order_body("SO-4", &bc, 4)).await.json().await.unwrap();
    assert_eq!(sim.available(&bc), before - 4);
    let c = client();
    let del = |id: String| c.delete(format!("{}{FF}/orders/{id}", sim.url())).basic_auth(EP_TEST_KEY, Some("")).send();
    let r = del(order["id"].as_str().unwrap().to_owned()).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "cancelled");
    assert_eq!(sim.available(&bc), before);

    let shipped: Value = post_order(sim.url(), EP_TEST_KEY, &order_body("SO-5", &bc, 2)).await.json().await.unwrap();
    let id = shipped["id"].as_str().unwrap().to_owned();
    let patch = c.patch(format!("{}{FF}/orders/{id}", sim.url())).basic_auth(EP_TEST_KEY, Some(""));
    let patched: Value = patch.json(&json!({"description": "SO-5b"})).send().await.unwrap().json().await.unwrap();
    assert_eq!(patched["description"], "SO-5b");
    sim.ship(&id, &[]).unwrap();
    let r = del(id).await.unwrap();
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn shipping_in_picks_creates_trackers_and_consumes_stock() {
    let sim = easypost(2).await;
    let (a, b) = (barcode(1), barcode(2));
    let body = json!({"service": "standard", "description": "SO-6", "destination": destination(),
        "line_items": [{"product": {"barcode": a}, "units": 2}, {"product": {"barcode": b}, "units": 1}]});
    let order: Value = post_order(sim.url(), EP_TEST_KEY, &body).await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    let pick = |bc: &str, units| PickSpec { line_items: vec![PickLine { barcode: bc.into(), units }], carrier: None };
    let partial = sim.ship(id, &[pick(&a, 2)]).unwrap();
    assert_eq!(partial["status"], "partially_shipped");
    let done = sim.ship(id, &[pick(&b, 1)]).unwrap();
    assert_eq!(done["status"], "shipped");
    let picks = done["picks"].as_array().unwrap();
    assert_eq!(picks.len(), 2);
    assert_eq!(picks[0]["line_items"][0]["product"]["barcode"], a.as_str());
    assert_eq!(picks[0]["tracker"]["status"], "pre_transit");
    assert!(picks[0]["tracker"]["public_url"].as_str().unwrap().starts_with("https://"));
    let stock = sim.stock();
    let on_hand = |bc: &str| stock.iter().find(|s| s["barcode"] == bc).unwrap()["on_hand"].as_i64().unwrap();
    assert_eq!((on_hand(&a), on_hand(&b)), (98, 99));

    let listed =
        json(client().get(format!("{}{FF}/orders?description=SO-6", sim.url())).basic_auth(EP_TEST_KEY, Some("")))
            .await;
    assert_eq!(listed["orders"].as_array().unwrap().len(), 1);
    let inv = json(
        client()
            .get(format!(
                "{}{FF}/inventories?product_ids[]={}&includes[]=product&includes[]=warehouse",
                sim.url(),
                done["line_items"][0]["product"]["id"].as_str().unwrap()
            ))
            .basic_auth(EP_TEST_KEY, Some("")),
    )
    .await;
    assert_eq!(inv["inventories"].as_array().unwrap().len(), 2, "one row per warehouse");
    assert!(sim.duplicate_descriptions().is_empty());
}
