//! Workflows 3 and 4 for tracking: parcels shipped at the warehouse become exactly one cart
//! fulfillment each, whether EasyPost's events arrive twice or not at all.

use std::collections::BTreeMap;
use std::time::Duration;

use cartgate::domain::OrderStatus;
use cartgate::sim::delivery::DeliverySwitches;
use cartgate::sim::easypost::{PickLine, PickSpec};
use cartgate::sim::seed;
use cartgate::sim::tradegecko::{NewLine, NewOrder};
use serde_json::{Value, json};

use crate::support::{EP_WEBHOOK_SECRET, Flow, HOURLY, Options, eventually, start};

fn line(sku: &str, quantity: i64) -> NewLine {
    NewLine { sku: Some(sku.into()), quantity, ..Default::default() }
}

fn pick(items: &[(usize, i64)], carrier: &str) -> PickSpec {
    PickSpec {
        line_items: items.iter().map(|(n, units)| PickLine { barcode: seed::barcode(*n), units: *units }).collect(),
        carrier: Some(carrier.into()),
    }
}

fn units(v: &Value) -> i64 {
    v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse::<f64>().ok()).map(|f| f as i64)).unwrap_or(-1)
}

/// Creates 20 orders (every fourth in two parcels: barcode 1 split over both, barcode 6 in the
/// second), waits until the warehouse has them and ships them; returns the cart order ids.
async fn ship_twenty(flow: &Flow) -> Vec<u64> {
    let mut ids = Vec::new();
    for n in 0..20 {
        let lines = if n % 4 == 0 {
            vec![line(&seed::sku(1), 2), line(&seed::sku(6), 1)]
        } else {
            vec![line(&seed::sku(1 + n % 5), 1)]
        };
        ids.push(flow.tg.create_order(NewOrder { lines, ..Default::default() }).unwrap());
    }
    let stragglers = flow.wait_all(&ids, OrderStatus::AtWms, Duration::from_secs(60)).await;
    assert!(stragglers.is_empty(), "not at the warehouse: {stragglers:?}");
    for (n, id) in ids.iter().enumerate() {
        let wms = flow.order(*id).await.unwrap().wms_order_id.unwrap();
        let picks = if n % 4 == 0 { vec![pick(&[(1, 1)], "USPS"), pick(&[(1, 1), (6, 1)], "UPS")] } else { vec![] };
        flow.ep.ship(&wms, &picks).unwrap();
    }
    ids
}

/// Each order has one fulfillment per warehouse pick, with the pick's tracking number, carrier
/// and units, and together they fill every order line.
async fn assert_one_fulfillment_per_pick(flow: &Flow, ids: &[u64]) {
    let counts = flow.tg.fulfillment_counts();
    for id in ids {
        let wms = flow.ep.order(&flow.order(*id).await.unwrap().wms_order_id.unwrap()).unwrap();
        let picks = wms["picks"].as_array().unwrap();
        assert_eq!(counts.get(id).copied(), Some(picks.len()), "order {id}: {counts:?}");
        let fulfillments = flow.tg.fulfillments(Some(*id));
        let mut per_line: BTreeMap<u64, i64> = BTreeMap::new();
        for p in picks {
            let code = p["tracker"]["tracking_code"].as_str().unwrap();
            let f = fulfillments.iter().find(|f| f["fulfillment"]["tracking_number"] == code);
            let f = f.unwrap_or_else(|| panic!("order {id}: no fulfillment for {code}: {fulfillments:?}"));
            assert_eq!(f["fulfillment"]["tracking_company"], p["tracker"]["carrier"]);
            assert_eq!(f["fulfillment"]["status"], "fulfilled");
            let lines = f["fulfillment_line_items"].as_array().unwrap();
            let shipped: i64 = p["line_items"].as_array().unwrap().iter().map(|l| units(&l["units"])).sum();
            assert_eq!(lines.iter().map(|l| units(&l["quantity"])).sum::<i64>(), shipped, "order {id} parcel {code}");
            for l in lines {
                *per_line.entry(l["order_line_item_id"].as_u64().unwrap()).or_default() += units(&l["quantity"]);
            }
        }
        let order = flow.tg.order(*id).unwrap();
        for l in order["order_line_items"].as_array().unwrap() {
            let ordered = units(&l["quantity"]);
            assert_eq!(per_line.get(&l["id"].as_u64().unwrap()).copied(), Some(ordered), "order {id}: {per_line:?}");
        }
    }
}

#[tokio::test]
async fn every_parcel_becomes_one_fulfillment_with_its_tracking_even_when_events_arrive_twice() {
    let flow = start(Options::default()).await;
    flow.ep.set_delivery_switches(DeliverySwitches { duplicate_rate: 1.0, ..Default::default() });
    let ids = ship_twenty(&flow).await;
    let stragglers = flow.wait_all(&ids, OrderStatus::Confirmed, Duration::from_secs(90)).await;
    assert!(stragglers.is_empty(), "not confirmed: {stragglers:?}");
    assert_one_fulfillment_per_pick(&flow, &ids).await;
    let split = flow.order(ids[0]).await.unwrap();
    assert_eq!(split.shipments.len(), 2);
    assert!(split.shipments.iter().all(|s| s.fulfillment_id.is_some()));
    assert_eq!(flow.tg.record().count("POST /fulfillments"), 25, "one upload per parcel, no retries needed");
    let metrics = flow.client.get(format!("{}/metrics", flow.address)).send().await.unwrap().text().await.unwrap();
    for name in ["cartgate_shipments_recorded_total", "cartgate_fulfillments_total"] {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }
}

#[tokio::test]
async fn parcels_are_found_by_the_poll_alone_when_every_event_is_lost() {
    let flow = start(Options::default()).await;
    flow.ep.set_delivery_switches(DeliverySwitches { drop_rate: 1.0, ..Default::default() });
    let ids = ship_twenty(&flow).await;
    assert_eq!(flow.post_admin("/admin/merchants/acme/sync/shipments").await, 202);
    let stragglers = flow.wait_all(&ids, OrderStatus::Confirmed, Duration::from_secs(90)).await;
    assert!(stragglers.is_empty(), "not confirmed: {stragglers:?}");
    assert_one_fulfillment_per_pick(&flow, &ids).await;
}

#[tokio::test]
async fn a_fulfillment_already_in_the_cart_is_adopted_not_duplicated() {
    let flow = start(Options::default()).await;
    flow.ep.set_delivery_switches(DeliverySwitches { drop_rate: 1.0, ..Default::default() });
    let id = flow.tg.create_order(NewOrder { lines: vec![line(&seed::sku(3), 1)], ..Default::default() }).unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    let wms = flow.order(id).await.unwrap().wms_order_id.unwrap();
    let shipped = flow.ep.ship(&wms, &[]).unwrap();
    let code = shipped["picks"][0]["tracker"]["tracking_code"].as_str().unwrap().to_owned();
    // Someone recorded this parcel in the cart already (an earlier upload whose answer was lost).
    let resp = flow
        .client
        .post(format!("{}/fulfillments", flow.tg.url()))
        .bearer_auth(flow.tg.token())
        .json(&json!({"fulfillment": {"order_id": id, "status": "fulfilled", "tracking_number": code,
            "fulfillment_line_items": [{"order_line_item_id": flow.tg.order(id).unwrap()["order_line_items"][0]["id"], "quantity": 1}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(flow.post_admin("/admin/merchants/acme/sync/shipments").await, 202);
    assert!(flow.wait_all(&[id], OrderStatus::Confirmed, Duration::from_secs(30)).await.is_empty());
    assert_eq!(flow.tg.fulfillment_counts().get(&id), Some(&1));
}

/// A signed EasyPost `tracker.updated` event as EasyPost would send it.
async fn send_tracker_event(flow: &Flow, event_id: &str, code: &str, status: &str, updated_at: &str) {
    let body = json!({"id": event_id, "object": "Event", "mode": "production", "description": "tracker.updated",
        "result": {"id": "trk_x", "object": "Tracker", "tracking_code": code, "status": status, "carrier": "USPS",
                   "updated_at": updated_at}})
    .to_string();
    let resp = flow
        .client
        .post(format!("{}/webhooks/easypost/acme", flow.address))
        .header("content-type", "application/json")
        .header("x-hmac-signature", cartgate::signature::easypost_sign(EP_WEBHOOK_SECRET, body.as_bytes()))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn an_older_tracker_update_arriving_after_delivered_leaves_delivered() {
    let flow = start(Options::default()).await;
    let id = flow.tg.create_order(NewOrder { lines: vec![line(&seed::sku(2), 1)], ..Default::default() }).unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    let wms = flow.order(id).await.unwrap().wms_order_id.unwrap();
    flow.ep.ship(&wms, &[]).unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::Confirmed, Duration::from_secs(30)).await.is_empty());
    let code = flow.order(id).await.unwrap().shipments[0].tracking_code.clone();

    send_tracker_event(&flow, "evt_late_1", &code, "delivered", "2030-01-02T10:00:00Z").await;
    send_tracker_event(&flow, "evt_late_2", &code, "in_transit", "2030-01-02T08:00:00Z").await;
    // A newer non-final status must not regress `delivered` either.
    send_tracker_event(&flow, "evt_late_3", &code, "out_for_delivery", "2030-01-03T08:00:00Z").await;
    let jobs: Vec<String> = (1..=3).map(|n| format!("tracker_event:acme:evt_late_{n}")).collect();
    assert!(eventually(Duration::from_secs(20), || flow.no_pending(&jobs)).await, "tracker events not processed");
    let s = flow.order(id).await.unwrap().shipments[0].clone();
    assert_eq!(s.tracking_status, "delivered");
    assert_eq!(s.tracking_updated_at.unwrap().to_rfc3339(), "2030-01-02T10:00:00+00:00");
    let order = flow.order(id).await.unwrap();
    assert_eq!(order.status(), OrderStatus::Confirmed);
    assert!(order.timeline().iter().any(|t| t.reason.contains("delivered")), "{:?}", order.timeline());
}

#[tokio::test]
async fn a_tracker_event_for_an_unknown_code_is_ignored() {
    let flow = start(Options::default()).await;
    send_tracker_event(&flow, "evt_unknown", "NOPE-123", "delivered", "2030-01-01T00:00:00Z").await;
    let jobs = vec!["tracker_event:acme:evt_unknown".to_owned()];
    assert!(eventually(Duration::from_secs(20), || flow.no_pending(&jobs)).await);
    let dead = flow.deps.jobs.dead_letters(10).await.unwrap();
    assert!(dead.is_empty(), "{dead:?}");
}

#[tokio::test]
async fn a_second_parcel_shipped_after_the_first_was_confirmed_is_found_and_uploaded_too() {
    let flow = start(Options::default()).await;
    flow.ep.set_delivery_switches(DeliverySwitches { drop_rate: 1.0, ..Default::default() });
    let lines = vec![line(&seed::sku(4), 1), line(&seed::sku(5), 2)];
    let id = flow.tg.create_order(NewOrder { lines, ..Default::default() }).unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    let wms = flow.order(id).await.unwrap().wms_order_id.unwrap();
    flow.ep.ship(&wms, &[pick(&[(4, 1)], "USPS")]).unwrap();
    assert_eq!(flow.post_admin("/admin/merchants/acme/sync/shipments").await, 202);
    assert!(flow.wait_all(&[id], OrderStatus::Confirmed, Duration::from_secs(30)).await.is_empty());

    flow.ep.ship(&wms, &[pick(&[(5, 2)], "FedEx")]).unwrap();
    assert_eq!(flow.post_admin("/admin/merchants/acme/sync/shipments").await, 202);
    let both =
        || async { flow.order(id).await.unwrap().shipments.iter().filter(|s| s.fulfillment_id.is_some()).count() == 2 };
    assert!(eventually(Duration::from_secs(30), both).await, "{:?}", flow.order(id).await.unwrap().shipments);
    assert!(flow.wait_all(&[id], OrderStatus::Confirmed, Duration::from_secs(30)).await.is_empty());
    assert_one_fulfillment_per_pick(&flow, &[id]).await;
}

#[tokio::test]
async fn with_an_upload_interval_tracking_waits_for_the_scheduled_upload_run() {
    let flow = start(Options { shipment_upload: HOURLY, ..Options::default() }).await;
    let id = flow.tg.create_order(NewOrder { lines: vec![line(&seed::sku(1), 1)], ..Default::default() }).unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    let wms = flow.order(id).await.unwrap().wms_order_id.unwrap();
    flow.ep.ship(&wms, &[]).unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::Shipped, Duration::from_secs(20)).await.is_empty());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(flow.order(id).await.unwrap().status(), OrderStatus::Shipped, "uploaded before its time");
    assert!(flow.tg.fulfillments(Some(id)).is_empty());

    // The cart's upload run comes round (here: brought forward, as its schedule would).
    let run = cartgate::jobs::PushTracking { cart: flow.cart(), order_id: None }.job();
    let when = cartgate::store::When::Now;
    flow.deps.jobs.enqueue(&run, when, cartgate::store::OnExisting::MoveEarlier).await.unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::Confirmed, Duration::from_secs(20)).await.is_empty());
    assert_eq!(flow.tg.fulfillment_counts().get(&id), Some(&1));
}

#[tokio::test]
async fn uploads_whose_answers_are_lost_are_not_duplicated() {
    let flow = start(Options::default()).await;
    // Half the fulfillment calls (reads and creates) lose their answer after taking effect.
    flow.tg.set_faults(cartgate::sim::faults::FaultConfig {
        seed: 7,
        reset_rate: 0.5,
        reset_after_handler: true,
        path_contains: Some("/fulfillments".into()),
        ..Default::default()
    });
    let ids = ship_twenty(&flow).await;
    let stragglers = flow.wait_all(&ids, OrderStatus::Confirmed, Duration::from_secs(120)).await;
    assert!(stragglers.is_empty(), "not confirmed: {stragglers:?}");
    assert!(flow.tg.record().entries().iter().any(|e| e.fault.is_some()), "no fault was injected");
    assert_one_fulfillment_per_pick(&flow, &ids).await;
}
