//! The end-to-end suite of the TradeGecko cart, for a Shopify store beside it: one merchant,
//! a TradeGecko cart (`acme-tg`) and a Shopify store (`acme-shop`, a custom app's token, the
//! variants' barcodes are the warehouse's), one warehouse. Orders arrive by Shopify's signed
//! webhooks (delivered twice, or lost and found by the poll), hold and release, stop on an
//! unknown SKU until an alias, are cancelled in Shopify before and after delivery, come back as
//! one Shopify fulfillment per warehouse pick, and the warehouse's stock becomes Shopify's.

use std::time::Duration;

use cartgate::domain::{CartId, OrderStatus};
use cartgate::settings::CartInventory;
use cartgate::sim::delivery::DeliverySwitches;
use cartgate::sim::easypost::{InventoryItem, PickLine, PickSpec};
use cartgate::sim::seed;
use cartgate::sim::shopify::NewVariant;
use cartgate::sim::tradegecko::{NewLine, NewOrder};
use cartgate::testkit::shopify::{SHOPIFY_CART, ShopifyOptions, ShopifyStore};
use reqwest::Method;

use crate::support::{Flow, HOURLY, Options, eventually, start};

fn options() -> Options {
    Options { shopify: Some(ShopifyOptions::default()), ..Options::default() }
}

fn shop(flow: &Flow) -> &ShopifyStore {
    flow.shop().expect("the world has a Shopify store")
}

fn shop_cart() -> CartId {
    CartId::parse(SHOPIFY_CART).unwrap()
}

/// Barcodes and units of the warehouse order made for `order_number`, sorted.
fn wms_lines(flow: &Flow, order_number: &str) -> Vec<(String, u64)> {
    let orders = flow.ep.orders();
    let o = orders.iter().find(|o| o["description"] == order_number).expect("the order at the warehouse");
    let mut lines: Vec<(String, u64)> = o["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["product"]["barcode"].as_str().unwrap().to_owned(), l["units"].as_u64().unwrap()))
        .collect();
    lines.sort();
    lines
}

async fn at(flow: &Flow, ids: &[u64], status: OrderStatus, secs: u64) {
    let stragglers = flow.wait_all_in(&shop_cart(), ids, status, Duration::from_secs(secs)).await;
    if !stragglers.is_empty() {
        let answers: Vec<_> = shop(flow).sim.deliveries().iter().map(|d| format!("{d:?}")).collect();
        let dead = flow.deps.jobs.dead_letters(10).await;
        panic!(
            "not {status:?}: {stragglers:?}\nwebhook answers {answers:#?}\ndead {dead:#?}\ndepths {:?}",
            flow.deps.jobs.depths().await
        );
    }
}

#[tokio::test]
async fn both_carts_orders_reach_the_warehouse_once_even_when_shopify_delivers_every_webhook_twice() {
    let flow = start(options()).await;
    shop(&flow).sim.set_delivery_switches(DeliverySwitches { duplicate_rate: 1.0, ..Default::default() });
    let (mut shop_ids, mut tg_ids) = (Vec::new(), Vec::new());
    for n in 0..10 {
        shop_ids.push(shop(&flow).order(&[(&seed::sku(1 + n % 5), 1), (&seed::sku(7), 2)]).unwrap());
        let lines = vec![NewLine { sku: Some(seed::sku(1 + n % 5)), quantity: 1, ..Default::default() }];
        tg_ids.push(flow.tg.create_order(NewOrder { lines, ..Default::default() }).unwrap());
    }
    at(&flow, &shop_ids, OrderStatus::AtWms, 60).await;
    assert!(flow.wait_all(&tg_ids, OrderStatus::AtWms, Duration::from_secs(30)).await.is_empty());
    assert!(flow.ep.duplicate_descriptions().is_empty(), "{:?}", flow.ep.duplicate_descriptions());
    assert_eq!(flow.ep.orders().len(), 20, "ten from each cart, once each");
    let first = flow.order_in(&shop_cart(), shop_ids[0]).await.unwrap();
    assert!(first.order_number.starts_with('#'), "Shopify's order name: {}", first.order_number);
    assert_eq!(wms_lines(&flow, &first.order_number), [(seed::barcode(1), 1), (seed::barcode(7), 2)]);
    assert!(!first.destination.name.is_empty() && !first.destination.street1.is_empty(), "{:?}", first.destination);
}

#[tokio::test]
async fn shopify_orders_arrive_through_the_poll_alone_when_webhooks_are_lost() {
    let flow = start(options()).await;
    shop(&flow).sim.set_delivery_switches(DeliverySwitches { drop_rate: 1.0, ..Default::default() });
    let ids: Vec<u64> = (0..8).map(|n| shop(&flow).order(&[(&seed::sku(1 + n % 3), 1)]).unwrap()).collect();
    let resp = flow.admin(Method::POST, "/admin/carts/acme-shop/sync/orders").await.send().await.unwrap();
    assert_eq!(resp.status(), 202);
    at(&flow, &ids, OrderStatus::AtWms, 30).await;
    assert!(flow.ep.duplicate_descriptions().is_empty());
    assert_eq!(flow.ep.orders().len(), 8);
}

#[tokio::test]
async fn a_shopify_order_beyond_stock_holds_and_is_sent_when_released_after_stock_arrives() {
    let flow = start(Options { warehouse_stock: 3, ..options() }).await;
    let id = shop(&flow).order(&[(&seed::sku(2), 5)]).unwrap();
    at(&flow, &[id], OrderStatus::OnHold, 20).await;
    let held = flow.order_in(&shop_cart(), id).await.unwrap();
    assert!(held.next_attempt_at.is_some(), "a held order shows when it is tried again");

    flow.wait_startup_inventory_sync().await;
    flow.ep.receive(&seed::barcode(2), None, 10).unwrap();
    let resp = flow.admin(Method::POST, "/admin/merchants/acme/holds/release").await.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    at(&flow, &[id], OrderStatus::AtWms, 20).await;
    assert_eq!(flow.ep.orders().len(), 1);
}

#[tokio::test]
async fn an_unknown_shopify_sku_stops_the_order_naming_it_and_an_alias_delivers_it() {
    let flow = start(options()).await;
    let variant = NewVariant { sku: "NO-ALIAS-1".into(), stock: 10, ..Default::default() };
    shop(&flow).sim.add_variant(&variant).unwrap();
    let id = shop(&flow).order(&[("NO-ALIAS-1", 1), (&seed::sku(1), 1)]).unwrap();
    at(&flow, &[id], OrderStatus::Error, 20).await;
    let stopped = flow.order_in(&shop_cart(), id).await.unwrap();
    assert!(stopped.status_reason.as_deref().unwrap_or("").contains("NO-ALIAS-1"), "{:?}", stopped.status_reason);
    assert!(flow.ep.orders().is_empty());

    let csv = format!("sku,barcode\nNO-ALIAS-1,{}\n", seed::barcode(4));
    let put = flow.admin(Method::PUT, "/admin/merchants/acme/aliases").await.header("content-type", "text/csv");
    assert_eq!(put.body(csv).send().await.unwrap().status(), 200);
    at(&flow, &[id], OrderStatus::AtWms, 20).await;
    assert_eq!(wms_lines(&flow, &stopped.order_number), [(seed::barcode(1), 1), (seed::barcode(4), 1)]);
}

#[tokio::test]
async fn an_order_cancelled_in_shopify_never_goes_out_before_delivery_and_is_cancelled_at_the_warehouse_after() {
    // Scheduled delivery: new orders wait for the next delivery run.
    let flow = start(Options { order_delivery: HOURLY, ..options() }).await;
    let kept = shop(&flow).order(&[(&seed::sku(1), 1)]).unwrap();
    let sent = shop(&flow).order(&[(&seed::sku(2), 1)]).unwrap();
    at(&flow, &[kept, sent], OrderStatus::New, 20).await;
    shop(&flow).sim.cancel_order(kept).unwrap();
    // Never sent: "Cancelled Sending To WMS", as a void in TradeGecko.
    at(&flow, &[kept], OrderStatus::CancelSending, 20).await;

    let run = cartgate::jobs::MerchantTask { merchant: cartgate::domain::MerchantId::parse("acme").unwrap() }
        .job(cartgate::store::JobKind::DeliverOrders);
    flow.deps.jobs.enqueue(&run, cartgate::store::When::Now, cartgate::store::OnExisting::MoveEarlier).await.unwrap();
    at(&flow, &[sent], OrderStatus::AtWms, 20).await;
    let sent_number = flow.order_in(&shop_cart(), sent).await.unwrap().order_number;
    let numbers: Vec<String> = flow.ep.orders().iter().map(|o| o["description"].as_str().unwrap().to_owned()).collect();
    assert_eq!(numbers, [sent_number], "only the order still wanted reached the warehouse");

    // After delivery, Shopify's orders/cancelled cancels the warehouse order.
    shop(&flow).sim.cancel_order(sent).unwrap();
    at(&flow, &[sent], OrderStatus::Canceled, 20).await;
    let wms_id = flow.order_in(&shop_cart(), sent).await.unwrap().wms_order_id.unwrap();
    assert_eq!(flow.ep.order(&wms_id).unwrap()["status"], "cancelled");
}

#[tokio::test]
async fn every_warehouse_pick_becomes_one_shopify_fulfillment_with_its_tracking() {
    let flow = start(options()).await;
    let split = shop(&flow).order(&[(&seed::sku(1), 2), (&seed::sku(6), 1)]).unwrap();
    let whole = shop(&flow).order(&[(&seed::sku(3), 1)]).unwrap();
    at(&flow, &[split, whole], OrderStatus::AtWms, 30).await;
    let pick = |items: &[(usize, i64)], carrier: &str| PickSpec {
        line_items: items.iter().map(|(n, units)| PickLine { barcode: seed::barcode(*n), units: *units }).collect(),
        carrier: Some(carrier.into()),
    };
    let wms = flow.order_in(&shop_cart(), split).await.unwrap().wms_order_id.unwrap();
    let shipped = flow.ep.ship(&wms, &[pick(&[(1, 1)], "USPS"), pick(&[(1, 1), (6, 1)], "UPS")]).unwrap();
    let whole_wms = flow.order_in(&shop_cart(), whole).await.unwrap().wms_order_id.unwrap();
    flow.ep.ship(&whole_wms, &[]).unwrap();
    at(&flow, &[split, whole], OrderStatus::Confirmed, 60).await;

    let fulfillments = shop(&flow).sim.fulfillments(split);
    assert_eq!(fulfillments.len(), 2, "one per pick: {fulfillments:?}");
    for p in shipped["picks"].as_array().unwrap() {
        let code = p["tracker"]["tracking_code"].as_str().unwrap();
        let f = fulfillments.iter().find(|f| f.tracking.number.as_deref() == Some(code));
        let f = f.unwrap_or_else(|| panic!("no fulfillment for {code}: {fulfillments:?}"));
        let units: i64 = f.lines.iter().map(|(_, q)| q).sum();
        let picked: i64 = p["line_items"].as_array().unwrap().iter().map(|l| l["units"].as_i64().unwrap_or(0)).sum();
        assert_eq!(units, picked, "parcel {code}");
    }
    assert!(shop(&flow).sim.remaining(split).iter().all(|(_, left)| *left == 0), "every unit fulfilled");
    assert_eq!(shop(&flow).sim.fulfillments(whole).len(), 1);
}

#[tokio::test]
async fn warehouse_stock_becomes_shopify_available_at_the_location_less_the_reserve() {
    let reserve = CartInventory { reserve: 2, ..CartInventory::default() };
    let shopify = ShopifyOptions { items: 20, ..ShopifyOptions::default() };
    let flow =
        start(Options { items: 20, inventory: Some(reserve), shopify: Some(shopify), ..Options::default() }).await;
    flow.wait_startup_inventory_sync().await;
    let total = |n: usize| (n as i64 * 7) % 40;
    let items: Vec<InventoryItem> =
        (1..=20).map(|n| InventoryItem { barcode: seed::barcode(n), quantity: total(n), warehouse_id: None }).collect();
    flow.ep.set_inventory(&items).unwrap();
    assert_eq!(flow.post_admin("/admin/merchants/acme/sync/inventory").await, 202);
    let matches =
        || (1..=20).all(|n| shop(&flow).sim.level(&seed::sku(n)).map(|l| l.available) == Some((total(n) - 2).max(0)));
    let levels = || (1..=5).map(|n| (shop(&flow).sim.level(&seed::sku(n)), total(n))).collect::<Vec<_>>();
    assert!(eventually(Duration::from_secs(30), || async { matches() }).await, "Shopify's stock: {:?}", levels());
    let depths = flow.deps.jobs.depths().await.unwrap();
    assert_eq!(depths.dead, 0);
    let metrics = flow.client.get(format!("{}/metrics", flow.address)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("cartgate_inventory_lines_total"), "{}", metrics.len());
}
