//! `fulfillmentCreate`: refusals write nothing; successes lower remaining quantities, close
//! fulfillment orders and move the order's status; not idempotent; an answer lost after the
//! write still leaves the fulfillment there (the ambiguous failure cartgate must handle).

use cartgate::sim::faults::FaultConfig;
use serde_json::{Value, json};

use super::{gql, order, shop};

const CREATE: &str = "mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
    fulfillment { id status trackingInfo { company number url } } userErrors { field message } } }";
const FOS: &str = "query($id: ID!) { order(id: $id) { displayFulfillmentStatus
    fulfillmentOrders(first: 5) { nodes { id status assignedLocation { location { id } }
      lineItems(first: 10) { nodes { id remainingQuantity totalQuantity sku } } } } } }";

/// (fulfillment order gid, [(line gid, remaining)]) of an order.
async fn fulfillment_order(sim: &cartgate::sim::ShopifySim, id: u64) -> (String, Vec<(String, i64)>) {
    let a = gql(sim, FOS, json!({"id": format!("gid://shopify/Order/{id}")})).await;
    let fo = &a.body["data"]["order"]["fulfillmentOrders"]["nodes"][0];
    assert_eq!(fo["assignedLocation"]["location"]["id"], sim.location_gid());
    let lines = fo["lineItems"]["nodes"].as_array().unwrap();
    let lines = lines
        .iter()
        .map(|l| (l["id"].as_str().unwrap().to_owned(), l["remainingQuantity"].as_i64().unwrap()))
        .collect();
    (fo["id"].as_str().unwrap().to_owned(), lines)
}

fn input(fo: &str, lines: &[(&str, i64)]) -> Value {
    let items: Vec<Value> = lines.iter().map(|(id, q)| json!({"id": id, "quantity": q})).collect();
    json!({"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo, "fulfillmentOrderLineItems": items}],
        "trackingInfo": {"company": "UPS", "number": "1Z999", "url": "https://ups.example/1Z999"}, "notifyCustomer": true}})
}

fn user_errors(a: &super::Answer) -> Vec<String> {
    let errs = a.body["data"]["fulfillmentCreate"]["userErrors"].as_array().cloned().unwrap_or_default();
    errs.iter().map(|e| e["message"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn refused_fulfillments_write_nothing() {
    let sim = shop(2).await;
    let a_id = order(&sim, &[("SKU-0001", 2)]);
    let b_id = order(&sim, &[("SKU-0002", 1)]);
    let (fo_a, lines_a) = fulfillment_order(&sim, a_id).await;
    let (fo_b, lines_b) = fulfillment_order(&sim, b_id).await;
    let line_a = lines_a[0].0.as_str();
    let cases = [
        input("gid://shopify/FulfillmentOrder/1", &[(line_a, 1)]),
        input(&fo_a, &[("gid://shopify/FulfillmentOrderLineItem/1", 1)]),
        input(&fo_a, &[(line_a, 3)]),
        input(&fo_a, &[(line_a, 0)]),
        json!({"f": {"lineItemsByFulfillmentOrder": [
            {"fulfillmentOrderId": fo_a, "fulfillmentOrderLineItems": [{"id": line_a, "quantity": 1}]},
            {"fulfillmentOrderId": fo_b, "fulfillmentOrderLineItems": [{"id": lines_b[0].0, "quantity": 1}]}]}}),
        json!({"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo_a}], "trackingInfo": {"url": "https://x.example"}}}),
    ];
    for case in cases {
        let a = gql(&sim, CREATE, case.clone()).await;
        assert_eq!(user_errors(&a).len(), 1, "{case} → {:?}", a.body);
        assert_eq!(a.body["data"]["fulfillmentCreate"]["fulfillment"], Value::Null);
    }
    let missing = gql(&sim, CREATE, json!({"f": {"notifyCustomer": true}})).await;
    assert!(super::error(&missing).contains("lineItemsByFulfillmentOrder"));
    sim.cancel_order(b_id).unwrap();
    let cancelled = gql(&sim, CREATE, input(&fo_b, &[(&lines_b[0].0, 1)])).await;
    assert!(user_errors(&cancelled)[0].contains("CANCELLED"));
    assert!(sim.fulfillments(a_id).is_empty() && sim.fulfillments(b_id).is_empty());
    assert_eq!(sim.remaining(a_id), [("SKU-0001".to_owned(), 2)]);
}

#[tokio::test]
async fn fulfillments_count_down_remaining_quantities_and_are_not_idempotent() {
    let sim = shop(1).await;
    let hook = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&hook)
        .await;
    let sub = "mutation($u: String!) { webhookSubscriptionCreate(topic: ORDERS_FULFILLED, webhookSubscription: {uri: $u}) { userErrors { message } } }";
    gql(&sim, sub, json!({"u": format!("{}/wh", hook.uri())})).await;
    let id = order(&sim, &[("SKU-0001", 3)]);
    let (fo, lines) = fulfillment_order(&sim, id).await;
    let line = lines[0].0.as_str();
    let first = gql(&sim, CREATE, input(&fo, &[(line, 1)])).await;
    let f = &first.body["data"]["fulfillmentCreate"]["fulfillment"];
    assert_eq!(f["status"], "SUCCESS");
    assert_eq!(f["trackingInfo"], json!([{"company": "UPS", "number": "1Z999", "url": "https://ups.example/1Z999"}]));
    let again = gql(&sim, CREATE, input(&fo, &[(line, 1)])).await;
    assert!(user_errors(&again).is_empty(), "the same input again is a second fulfillment");
    let a = gql(&sim, FOS, json!({"id": format!("gid://shopify/Order/{id}")})).await;
    assert_eq!(a.body["data"]["order"]["displayFulfillmentStatus"], "PARTIALLY_FULFILLED");
    assert_eq!(a.body["data"]["order"]["fulfillmentOrders"]["nodes"][0]["status"], "IN_PROGRESS");
    assert_eq!(sim.fulfillments(id).len(), 2);
    assert_eq!(sim.remaining(id), [("SKU-0001".to_owned(), 1)]);
    let whole = gql(&sim, CREATE, json!({"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}]}})).await;
    assert!(user_errors(&whole).is_empty(), "no line items: everything remaining");
    let a = gql(&sim, FOS, json!({"id": format!("gid://shopify/Order/{id}")})).await;
    assert_eq!(a.body["data"]["order"]["displayFulfillmentStatus"], "FULFILLED");
    assert_eq!(a.body["data"]["order"]["fulfillmentOrders"]["nodes"][0]["status"], "CLOSED");
    crate::support::eventually("orders/fulfilled", || sim.deliveries().iter().any(|d| d.event == "orders/fulfilled"))
        .await;
    let fulfilled: Value = serde_json::from_slice(&hook.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(fulfilled["fulfillment_status"], "fulfilled");
    assert_eq!(fulfilled["line_items"][0]["fulfillable_quantity"], 0);
    let closed = gql(&sim, CREATE, input(&fo, &[(line, 1)])).await;
    assert_eq!(user_errors(&closed).len(), 1);
    let numbers = gql(
        &sim,
        "query($id: ID!) { order(id: $id) { fulfillments(first: 10) { trackingInfo { number } } } }",
        json!({"id": format!("gid://shopify/Order/{id}")}),
    )
    .await;
    assert_eq!(numbers.body["data"]["order"]["fulfillments"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn an_answer_lost_after_the_write_leaves_the_fulfillment_in_place() {
    let sim = shop(1).await;
    let id = order(&sim, &[("SKU-0001", 2)]);
    let (fo, lines) = fulfillment_order(&sim, id).await;
    sim.set_faults(FaultConfig {
        reset_rate: 1.0,
        reset_after_handler: true,
        path_contains: Some("/graphql.json".into()),
        ..FaultConfig::default()
    });
    let body = json!({"query": CREATE, "variables": input(&fo, &[(&lines[0].0, 1)])});
    let sent = crate::support::client()
        .post(sim.graphql_url(super::VERSION))
        .header("X-Shopify-Access-Token", sim.token())
        .json(&body)
        .send()
        .await;
    let lost = match sent {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(lost, "the answer is lost");
    sim.set_faults(FaultConfig::default());
    assert_eq!(sim.fulfillments(id).len(), 1, "the write committed");
    assert_eq!(sim.calls_of("fulfillmentCreate"), 1);
    assert_eq!(sim.record().entries().last().and_then(|e| e.fault.clone()).as_deref(), Some("reset"));
    assert_eq!(sim.remaining(id), [("SKU-0001".to_owned(), 1)]);
}
