//! The `/_sim/…` control routes drive the simulators over plain JSON.

use serde_json::{Value, json};

use crate::support::{EP_TEST_KEY, client, destination, easypost, json, tradegecko};

#[tokio::test]
async fn tradegecko_orders_are_created_voided_and_filtered_through_control_routes() {
    let sim = tradegecko(1).await;
    let c = client();
    let spec = json!({"order_number": "WEB-1", "status": "finalized", "payment_status": "paid",
        "lines": [{"sku": "SKU-0001", "quantity": 2}, {"line_type": "shipping", "freeform": true, "quantity": 1, "price": "5.0"}]});
    let r = c.post(format!("{}/_sim/orders", sim.url())).json(&spec).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let created: Value = r.json().await.unwrap();
    let id = created["order"]["id"].as_u64().unwrap();
    assert_eq!(created["order_line_items"].as_array().unwrap().len(), 2);
    let bulk =
        c.post(format!("{}/_sim/orders/bulk", sim.url())).json(&json!({"count": 3, "template": {"status": "draft"}}));
    assert_eq!(bulk.send().await.unwrap().status(), 200);

    let list = |q: &'static str| c.get(format!("{}/orders?{q}", sim.url())).bearer_auth(sim.token()).send();
    let finalized: Value = list("status[]=finalized&payment_status=paid").await.unwrap().json().await.unwrap();
    assert_eq!(finalized["orders"].as_array().unwrap().len(), 1);
    let void = c.post(format!("{}/_sim/orders/{id}/void", sim.url())).send().await.unwrap();
    assert_eq!(void.json::<Value>().await.unwrap()["order"]["status"], "void");
    let drafts: Value = list("status=draft").await.unwrap().json().await.unwrap();
    assert_eq!(drafts["orders"].as_array().unwrap().len(), 3);
    let future: Value = list("updated_at_min=2999-01-01T00:00:00Z").await.unwrap().json().await.unwrap();
    assert_eq!(future["orders"], json!([]));
    let counts: Value =
        c.get(format!("{}/_sim/requests/counts", sim.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(counts["counts"]["GET /orders"], 3, "control routes are not recorded");
}

#[tokio::test]
async fn easypost_orders_ship_and_trackers_advance_through_control_routes() {
    let sim = easypost(1).await;
    let c = client();
    let body = json!({"service": "standard", "description": "SO-8", "destination": destination(),
        "line_items": [{"product": {"barcode": cartgate::sim::seed::barcode(1)}, "units": 2}]});
    let order = json(
        c.post(format!("{}/fulfillment/vendor/v2/orders", sim.url())).basic_auth(EP_TEST_KEY, Some("")).json(&body),
    )
    .await;
    let id = order["id"].as_str().unwrap();
    let picks = json!({"picks": [{"line_items": [{"barcode": cartgate::sim::seed::barcode(1), "units": 1}], "carrier": "UPS"},
                                 {"line_items": [{"barcode": cartgate::sim::seed::barcode(1), "units": 1}]}]});
    let shipped: Value =
        c.post(format!("{}/_sim/orders/{id}/ship", sim.url())).json(&picks).send().await.unwrap().json().await.unwrap();
    assert_eq!(shipped["status"], "shipped");
    assert_eq!(shipped["picks"][0]["tracker"]["carrier"], "UPS");
    let trk = shipped["picks"][1]["tracker"]["id"].as_str().unwrap();
    let moved = c.post(format!("{}/_sim/trackers/{trk}/advance", sim.url())).json(&json!({"status": "delivered"}));
    let moved: Value = moved.send().await.unwrap().json().await.unwrap();
    assert_eq!(moved["status"], "delivered");
    let receive =
        c.post(format!("{}/_sim/inventory/receive", sim.url())).json(&json!({"barcode": "NEW-1", "units": 4}));
    assert_eq!(receive.send().await.unwrap().status(), 200);
    assert_eq!(sim.available("NEW-1"), 4, "receiving an unknown barcode creates the product");
}
