//! The console's Orders page with 10,000 orders in the store: p50 and p99 of rendering it
//! (tabs with counts, the first page of 50 rows) for a signed-in merchant, against a baseline
//! measured in the same run on the same data — the admin API's JSON `GET /admin/orders` of the
//! same page — and the On Hold tab. The issue asks for under 50 ms at p99.
//!
//! cartgate runs in this process on its own redis-server (AOF off), workers off; requests are
//! sent one at a time (a page's latency, not the server's throughput), interleaved between
//! the console and the baseline so both see the same machine.
//!
//! Run: `cargo bench --bench console` or `scripts/bench console`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use cartgate::domain::{CartId, Destination, MerchantId, NewOrder, Order, OrderLine, OrderStatus};
use cartgate::testkit::TestRedis;
use cartgate::testkit::wiring::{CartWiring, MerchantWiring, WiredSecret, Wiring};
use chrono::Utc;
use futures::StreamExt;
use serde_json::Value;

const ORDERS: u64 = 10_000;
const ROUNDS: usize = 300;
const ADMIN: &str = "bench-admin-token";

fn order(merchant: &MerchantId, cart: &CartId, id: u64) -> Order {
    let line = |n: u64| OrderLine {
        line_item_id: id * 10 + n,
        variant_id: 4_000_000 + n,
        sku: format!("SKU-{n:04}").parse().unwrap(),
        upc: None,
        barcode: Some(format!("0000{n}").parse().unwrap()),
        quantity: 1,
    };
    let destination =
        Destination { name: format!("Customer {id}"), city: "San Francisco".into(), ..Destination::default() };
    let new = NewOrder {
        cart: cart.clone(),
        cart_order_id: id,
        order_number: format!("SO{id}"),
        merchant: merchant.clone(),
        destination,
        lines: vec![line(1), line(2)],
        ship_method: Some("Ground".into()),
    };
    Order::new(new, Utc::now(), "order.finalized")
}

/// Most orders at the warehouse, some held, some stopped, some new — as a busy merchant's.
fn status_of(id: u64) -> OrderStatus {
    match id % 20 {
        0..=13 => OrderStatus::AtWms,
        14..=16 => OrderStatus::OnHold,
        17 => OrderStatus::Error,
        _ => OrderStatus::New,
    }
}

fn wiring(store_url: &str) -> Wiring {
    let mut wiring = Wiring::new(store_url);
    wiring.server.admin_token = Some(WiredSecret::new(ADMIN));
    wiring.workers.enabled = Some(false);
    let nowhere: url::Url = "http://127.0.0.1:9".parse().unwrap();
    let mut merchant =
        MerchantWiring::easypost(MerchantId::parse("acme").unwrap(), nowhere.clone(), WiredSecret::new("EZAK"));
    let mut cart = CartWiring::tradegecko(
        CartId::parse("acme-tg").unwrap(),
        nowhere,
        WiredSecret::new("t"),
        WiredSecret::new("s"),
    );
    cart.stock_location_id = Some(1);
    merchant.carts.push(cart);
    wiring.merchants.push(merchant);
    wiring
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

async fn timed(req: reqwest::RequestBuilder) -> Duration {
    let started = Instant::now();
    let resp = req.send().await.unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.bytes().await.unwrap();
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let redis = TestRedis::start(false, None).unwrap();
    let settings = wiring(redis.url()).settings().unwrap();
    let app = cartgate::testkit::app::spawn(settings, cartgate::workflows::registry).await.unwrap();
    let (merchant, cart) = (MerchantId::parse("acme").unwrap(), CartId::parse("acme-tg").unwrap());
    let ledger = &app.deps().ledger;
    let filled = Instant::now();
    futures::stream::iter(1..=ORDERS)
        .for_each_concurrent(32, |id| {
            let (merchant, cart) = (&merchant, &cart);
            async move {
                let mut o = order(merchant, cart, id);
                let status = status_of(id);
                if status != OrderStatus::New {
                    o.transition(status, "set up by the benchmark", Utc::now()).unwrap();
                }
                if status == OrderStatus::OnHold {
                    o.next_attempt_at = Some(Utc::now() + chrono::Duration::hours(8));
                }
                assert!(ledger.orders.create(&o).await.unwrap());
            }
        })
        .await;
    eprintln!("console: {ORDERS} orders stored in {:.1} s", filled.elapsed().as_secs_f64());

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let issued: Value = http
        .post(format!("{}/admin/merchants/acme/tokens", app.url()))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"name": "bench"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = issued["token"].as_str().unwrap().to_owned();
    let signed = http.post(format!("{}/console/sign-in", app.url())).form(&[("token", &token)]).send().await.unwrap();
    let cookie = signed.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();

    let console = |path: &str| http.get(format!("{}{path}", app.url())).header("cookie", &cookie);
    let json = || http.get(format!("{}/admin/orders?merchant=acme&limit=50", app.url())).bearer_auth(&token);
    let (mut page, mut held, mut baseline) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..20 {
        timed(console("/console/orders")).await;
        timed(json()).await;
    }
    for _ in 0..ROUNDS {
        page.push(timed(console("/console/orders")).await);
        baseline.push(timed(json()).await);
        held.push(timed(console("/console/orders?status=on_hold")).await);
    }
    for v in [&mut page, &mut held, &mut baseline] {
        v.sort();
    }
    let line = |name: &str, v: &[Duration]| {
        println!("{name:<38} p50 {:>6.2} ms   p99 {:>6.2} ms", percentile(v, 0.50), percentile(v, 0.99));
    };
    println!("console bench: {ORDERS} orders of one merchant, {ROUNDS} sequential requests each");
    line("GET /admin/orders (JSON, baseline)", &baseline);
    line("GET /console/orders (all, counts)", &page);
    line("GET /console/orders?status=on_hold", &held);
    let ratio = percentile(&page, 0.99) / percentile(&baseline, 0.99);
    println!(
        "orders page p99 / JSON p99 = {ratio:.2}; target p99 < 50 ms: {}",
        if percentile(&page, 0.99) < 50.0 { "met" } else { "NOT met" }
    );
    app.stop(Duration::from_secs(5)).await;
}
