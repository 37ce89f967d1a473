//! Merchants and carts set up through the admin API, end to end: live on another replica of
//! the same Redis within 2 s, and one tenant no key opens does not stop the others.

use std::time::{Duration, Instant};

use cartgate::domain::{CartId, OrderStatus};
use cartgate::sim::seed;
use cartgate::sim::tradegecko::{NewLine, NewOrder};
use cartgate::testkit::app::{self, RunningApp};
use cartgate::testkit::wiring::{MerchantWiring, WiredSecret};
use cartgate::testkit::world::{CART, Wired};
use serde_json::{Value, json};

use crate::support::{ADMIN, Options, eventually};

pub fn new_key() -> WiredSecret {
    WiredSecret::new(secrecy::ExposeSecret::expose_secret(&cartgate::tenants::generate_key()))
}

/// The JSON of a wired value without its nulls (the file has no null: an absent key).
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// The merchant's and its first cart's API bodies (the file's tables minus `id` and `carts`).
pub fn bodies(merchant: &MerchantWiring) -> (Value, Value) {
    let mut m = without_nulls(serde_json::to_value(merchant).unwrap());
    let map = m.as_object_mut().unwrap();
    map.remove("id");
    let mut carts = map.remove("carts").unwrap();
    let mut cart = carts[0].take();
    cart.as_object_mut().unwrap().remove("id");
    (m, cart)
}

pub async fn send(method: reqwest::Method, url: String, body: Option<&Value>) -> u16 {
    let mut req = reqwest::Client::new().request(method, url).bearer_auth(ADMIN);
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().await.unwrap().status().as_u16()
}

/// `order.finalized` for order `id`, signed with `secret`, to `base`; the status.
pub(crate) async fn finalized_webhook(base: &str, tg_url: &str, secret: &str, id: u64) -> u16 {
    let body = json!({"object_id": id, "event": "order.finalized", "timestamp": 1_546_272_000,
        "resource_url": format!("{}/orders/{id}", tg_url.trim_end_matches('/'))})
    .to_string();
    let sig = cartgate::signature::tradegecko_sign(secret, body.as_bytes());
    let resp = reqwest::Client::new()
        .post(format!("{base}/webhooks/tradegecko/{CART}"))
        .header("content-type", "application/json")
        .header("X-Gecko-Signature", sig)
        .header("X-Gecko-Delivery", format!("manual-{id}"))
        .body(body)
        .send()
        .await
        .unwrap();
    resp.status().as_u16()
}

fn one_line() -> NewOrder {
    NewOrder {
        lines: vec![NewLine { sku: Some(seed::sku(1)), quantity: 1, ..Default::default() }],
        ..Default::default()
    }
}

async fn wait_at_wms(app: &RunningApp, id: u64) -> Option<String> {
    let cart = CartId::parse(CART).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let order = app
            .deps()
            .ledger
            .orders
            .get(&cartgate::domain::MerchantId::parse("acme").unwrap(), &cart, id)
            .await
            .unwrap();
        if let Some(o) = order.filter(|o| o.status() == OrderStatus::AtWms) {
            return Some(o.order_number.clone());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

#[tokio::test]
async fn a_merchant_set_up_through_one_replica_delivers_through_another_once() {
    let mut world = Options::default().world();
    world.cartgate.tenants.keys = vec![new_key()];
    let mut wired = Wired::start(world).await.unwrap();
    // The merchant is set up through the API instead of the file.
    let (merchant, cart) = bodies(&wired.wiring.merchants.pop().unwrap());
    let (tg_url, secret) = (wired.sims.tg.url().to_owned(), wired.sims.tg.client_secret().to_owned());
    // Replica two answers at the public URL (where TradeGecko's webhooks go); one anywhere.
    let two = app::spawn(wired.settings().unwrap(), cartgate::workflows::registry).await.unwrap();
    wired.wiring.server.bind.set_port(0);
    let one = app::spawn(wired.settings().unwrap(), cartgate::workflows::registry).await.unwrap();

    assert_eq!(send(reqwest::Method::PUT, format!("{}/admin/merchants/acme", one.url()), Some(&merchant)).await, 201);
    let cart_url = format!("{}/admin/merchants/acme/carts/{CART}", one.url());
    assert_eq!(send(reqwest::Method::PUT, cart_url, Some(&cart)).await, 201);
    let created = Instant::now();
    let id = wired.sims.tg.create_order(one_line()).unwrap();
    loop {
        let status = finalized_webhook(&two.url(), &tg_url, &secret, id).await;
        if status == 200 {
            break;
        }
        assert!(created.elapsed() < Duration::from_secs(2), "replica two still answers {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let number = wait_at_wms(&one, id).await.expect("the order reaches the warehouse");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(wired.sims.ep.orders_by_description().get(&number), Some(&1), "once");
    two.stop(Duration::from_secs(10)).await;
    one.stop(Duration::from_secs(10)).await;
}

#[tokio::test]
async fn a_tenant_no_key_opens_is_unusable_and_the_others_deliver() {
    let (lost, kept) = (new_key(), new_key());
    let mut world = Options::default().world();
    world.cartgate.tenants.keys = vec![lost];
    let mut wired = Wired::start(world).await.unwrap();
    let (mut ghost, _) = bodies(&wired.wiring.merchants[0]);
    ghost["wms"]["webhook_secret"] = json!("ghost-secret");
    let mut writer_wiring = wired.wiring.clone();
    writer_wiring.server.bind.set_port(0);
    writer_wiring.workers.enabled = Some(false);
    let writer = app::spawn(writer_wiring.settings().unwrap(), cartgate::workflows::registry).await.unwrap();
    let ghost_url = format!("{}/admin/merchants/ghost", writer.url());
    assert_eq!(send(reqwest::Method::PUT, ghost_url, Some(&ghost)).await, 201);
    writer.stop(Duration::from_secs(10)).await;

    wired.wiring.tenants.keys = vec![kept];
    let world = wired.serve(cartgate::workflows::registry).await.unwrap();
    let shown: Value = reqwest::Client::new()
        .get(format!("{}/admin/merchants/ghost", world.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["state"], "unusable", "{shown}");
    assert_eq!(reqwest::get(format!("{}/readyz", world.url())).await.unwrap().status(), 200);
    let id = world.tg.create_order(one_line()).unwrap();
    let cart = CartId::parse(CART).unwrap();
    let delivered = eventually(Duration::from_secs(30), || async {
        let order = world
            .deps()
            .ledger
            .orders
            .get(&cartgate::domain::MerchantId::parse("acme").unwrap(), &cart, id)
            .await
            .unwrap();
        order.is_some_and(|o| o.status() == OrderStatus::AtWms)
    })
    .await;
    assert!(delivered, "the file's merchant delivers while another tenant is unusable");
    world.shutdown().await;
}
