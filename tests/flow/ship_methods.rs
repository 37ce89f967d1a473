//! Ship methods end to end: the cart's shipping line decides the warehouse order's service; an
//! unmapped method waits in `error` until a mapping saved through the admin API sends it, once.

use std::time::Duration;

use cartgate::domain::{CartId, OrderStatus, WarehouseService};
use cartgate::sim::seed;
use cartgate::sim::tradegecko::{NewLine, NewOrder};
use cartgate::testkit::app::{self, RunningApp};
use cartgate::testkit::world::{CART, Wired};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{ADMIN, Options, eventually, start};
use crate::tenants::{bodies, new_key, send};

fn shipped_by(method: &str) -> NewOrder {
    NewOrder {
        lines: vec![NewLine { sku: Some(seed::sku(1)), quantity: 1, ..Default::default() }],
        ship_method: Some(method.to_owned()),
        ..Default::default()
    }
}

/// The order's status and reason once it reaches `status` (or whatever it has after 30 s).
async fn settled(app: &RunningApp, id: u64, status: OrderStatus) -> (OrderStatus, String, String) {
    let cart = CartId::parse(CART).unwrap();
    let read = || async {
        app.deps().ledger.orders.get(&cartgate::domain::MerchantId::parse("acme").unwrap(), &cart, id).await.unwrap()
    };
    eventually(Duration::from_secs(30), || async { read().await.is_some_and(|o| o.status() == status) }).await;
    let o = read().await.expect("the order was imported");
    (o.status(), o.status_reason.clone().unwrap_or_default(), o.order_number.clone())
}

async fn call(app: &RunningApp, method: Method, body: Option<&Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{}/admin/carts/{CART}/ship-methods", app.url()));
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.bearer_auth(ADMIN).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn mapped_methods_choose_the_service_and_an_unmapped_one_waits_until_its_mapping_is_saved() {
    let mut world = Options::default().world();
    world.cartgate.tenants.keys = vec![new_key()];
    let mut wired = Wired::start(world).await.unwrap();
    // A cart set up through the API (its mapping is the merchant's to change).
    let (merchant, mut cart) = bodies(&wired.wiring.merchants.pop().unwrap());
    cart["ship_methods"] = json!({
        "map": {"Express": {"service": "express"},
                "Overnight": {"service": "overnight", "delivery_confirmation": "signature"}},
        "reject_unmapped": true
    });
    let app = app::spawn(wired.settings().unwrap(), cartgate::workflows::registry).await.unwrap();
    assert_eq!(send(Method::PUT, format!("{}/admin/merchants/acme", app.url()), Some(&merchant)).await, 201);
    assert_eq!(send(Method::PUT, format!("{}/admin/merchants/acme/carts/{CART}", app.url()), Some(&cart)).await, 201);
    wired.connect().await.unwrap();
    let ep = wired.sims.ep.clone();

    let express = wired.sims.tg.create_order(shipped_by(" express")).unwrap();
    let overnight = wired.sims.tg.create_order(shipped_by("Overnight")).unwrap();
    let pigeon = wired.sims.tg.create_order(shipped_by("Pigeon")).unwrap();
    let (status, _, number) = settled(&app, express, OrderStatus::AtWms).await;
    assert_eq!(status, OrderStatus::AtWms);
    let at_wms = ep.order_by_description(&number).unwrap();
    assert_eq!((&at_wms["service"], &at_wms["shipment_options"]), (&json!("express"), &Value::Null));
    let (status, _, number) = settled(&app, overnight, OrderStatus::AtWms).await;
    assert_eq!(status, OrderStatus::AtWms);
    let at_wms = ep.order_by_description(&number).unwrap();
    assert_eq!(at_wms["service"], "overnight");
    assert_eq!(at_wms["shipment_options"], json!({"delivery_confirmation": "signature"}));

    let (status, reason, number) = settled(&app, pigeon, OrderStatus::Error).await;
    assert_eq!((status, reason.as_str()), (OrderStatus::Error, "unmapped ship method \"Pigeon\""));
    assert!(ep.order_by_description(&number).is_none(), "not sent");
    let metrics = reqwest::get(format!("{}/metrics", app.url())).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("cartgate_unmapped_ship_methods_total{cart=\"acme-tg\"}"), "counted: {metrics}");
    let (code, shown) = call(&app, Method::GET, None).await;
    assert_eq!(code, 200, "{shown}");
    let seen = shown["seen"].as_array().unwrap();
    let pigeon_row = seen.iter().find(|s| s["label"] == "Pigeon").cloned().unwrap_or(Value::Null);
    assert_eq!(pigeon_row, json!({"label": "Pigeon", "orders": 1, "mapped": false, "service": null}), "{shown}");
    assert_eq!(seen.len(), 3, "{shown}");

    let mut table = cart["ship_methods"].clone();
    table["map"]["pigeon"] = json!({"service": "2day"});
    let (code, saved) = call(&app, Method::PUT, Some(&table)).await;
    assert_eq!((code, &saved["requeued_orders"]), (200, &json!(1)), "{saved}");
    let (status, _, _) = settled(&app, pigeon, OrderStatus::AtWms).await;
    assert_eq!(status, OrderStatus::AtWms);
    assert_eq!(ep.order_by_description(&number).unwrap()["service"], "2day");
    let (_, again) = call(&app, Method::PUT, Some(&table)).await;
    assert_eq!(again["requeued_orders"], 0, "saving again sends nothing more");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ep.orders_by_description().get(&number), Some(&1), "sent once");
    app.stop(Duration::from_secs(10)).await;
}

#[tokio::test]
async fn an_unmapped_method_goes_with_the_default_and_a_service_the_warehouse_refuses_is_an_error() {
    let mut opts = Options::default();
    let service = |s: &str| WarehouseService { service: s.into(), delivery_confirmation: None };
    opts.ship_methods.map.insert("Teleport".into(), service("teleport"));
    let flow = start(opts).await;
    let pigeon = flow.tg.create_order(shipped_by("Pigeon")).unwrap();
    let teleport = flow.tg.create_order(shipped_by("Teleport")).unwrap();
    let plain = flow.tg.create_order(NewOrder { ship_method: None, ..shipped_by("") }).unwrap();
    assert!(flow.wait_all(&[pigeon, plain], OrderStatus::AtWms, Duration::from_secs(30)).await.is_empty());
    for id in [pigeon, plain] {
        let number = flow.order(id).await.unwrap().order_number;
        assert_eq!(flow.ep.order_by_description(&number).unwrap()["service"], "standard", "the default");
    }
    assert!(flow.wait_all(&[teleport], OrderStatus::Error, Duration::from_secs(30)).await.is_empty());
    let refused = flow.order(teleport).await.unwrap();
    let reason = refused.status_reason.unwrap_or_default();
    assert!(reason.starts_with("the warehouse refused the order") && reason.contains("teleport"), "{reason}");
    assert!(flow.ep.order_by_description(&refused.order_number).is_none());
    let resp = flow.admin(Method::PUT, &format!("/admin/carts/{CART}/ship-methods")).await;
    let resp = resp.json(&json!({"map": {}})).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 409, "a cart of the file is read-only here");
}
