//! The cart's order and item filters: an order they leave out is `skipped` once, with the
//! reason, never sent, visible in the admin API and counted; it is looked at again when it
//! changes in the cart. Lines of skipped SKUs never reach the warehouse.

use std::time::Duration;

use cartgate::domain::{OrderStatus, SkuPatterns};
use cartgate::settings::{CalendarDate, OrderFilters};
use cartgate::sim::seed;
use cartgate::sim::tradegecko::{NewLine, NewOrder, OrderPatch};
use chrono::{NaiveDate, TimeZone, Utc};
use reqwest::Method;
use serde_json::Value;

use crate::support::{Flow, Options, eventually, start};

const POLL: &str = "poll_orders:acme-tg";

fn line(sku: &str, quantity: i64) -> NewLine {
    NewLine { sku: Some(sku.into()), quantity, ..Default::default() }
}

fn filters() -> OrderFilters {
    OrderFilters {
        stock_location_ids: vec![1],
        tags_none: vec!["wholesale".into()],
        created_after: Some(CalendarDate(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())),
        skip_skus: SkuPatterns::parse(&["GIFTCARD-*", "DIGITAL-*"]).unwrap(),
        ..OrderFilters::default()
    }
}

async fn filtered_flow() -> Flow {
    let flow = start(Options { filters: Some(filters()), cart_locations: vec![1, 2], ..Options::default() }).await;
    flow.tg.add_variant("GIFTCARD-10", None, "Gift card", 100);
    flow
}

/// Polls the cart by hand and waits for the poll to finish.
async fn poll(flow: &Flow) {
    assert_eq!(flow.post_admin("/admin/carts/acme-tg/sync/orders").await, 202);
    assert!(flow.wait_recurring_idle(POLL, Duration::from_secs(30)).await, "the poll did not finish");
}

fn skipped_entries(o: &cartgate::domain::Order) -> usize {
    o.timeline().iter().filter(|e| e.status == OrderStatus::Skipped).count()
}

#[tokio::test]
async fn orders_the_filters_leave_out_are_skipped_with_their_reason_and_gift_cards_never_reach_the_warehouse() {
    let flow = filtered_flow().await;
    let product = || line(&seed::sku(1), 1);
    let other_location =
        flow.tg.create_order(NewOrder { stock_location_id: Some(2), lines: vec![product()], ..Default::default() });
    let wholesale = flow.tg.create_order(NewOrder {
        tags: vec!["retail".into(), "wholesale".into()],
        lines: vec![product()],
        ..Default::default()
    });
    let old = flow.tg.create_order(NewOrder {
        created_at: Some(Utc.with_ymd_and_hms(2025, 12, 31, 12, 0, 0).unwrap()),
        lines: vec![product()],
        ..Default::default()
    });
    let gift = flow.tg.create_order(NewOrder { lines: vec![line("GIFTCARD-10", 2)], ..Default::default() });
    let mixed = flow
        .tg
        .create_order(NewOrder { lines: vec![line("GIFTCARD-10", 1), line(&seed::sku(3), 2)], ..Default::default() });
    let ids = [other_location, wholesale, old, gift].map(Result::unwrap);
    let mixed = mixed.unwrap();

    assert!(flow.wait_all(&ids, OrderStatus::Skipped, Duration::from_secs(20)).await.is_empty());
    assert!(flow.wait_all(&[mixed], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    let reasons = [
        "stock location 2 is not in stock_location_ids",
        "tagged \"wholesale\" (tags_none)",
        "created 2025-12-31 before created_after 2026-01-01",
        "only skipped items (GIFTCARD-*)",
    ];
    for (id, reason) in ids.iter().zip(reasons) {
        let o = flow.order(*id).await.unwrap();
        assert_eq!(o.status_reason.as_deref(), Some(reason), "order {id}");
    }
    let warehouse = flow.ep.orders();
    assert_eq!(warehouse.len(), 1, "only the mixed order went: {warehouse:#?}");
    let sent = flow.order(mixed).await.unwrap();
    assert_eq!(warehouse[0]["description"], sent.order_number.as_str());
    let lines: Vec<(String, u64)> = warehouse[0]["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["product"]["barcode"].as_str().unwrap().to_owned(), l["units"].as_u64().unwrap()))
        .collect();
    assert_eq!(lines, [(seed::barcode(3), 2)], "the gift card line stays behind");

    // Visible in the admin API, with the reason.
    let listed: Value =
        flow.admin(Method::GET, "/admin/orders?status=skipped").await.send().await.unwrap().json().await.unwrap();
    let mut listed_ids: Vec<u64> =
        listed["orders"].as_array().unwrap().iter().map(|o| o["cart_order_id"].as_u64().unwrap()).collect();
    listed_ids.sort();
    let mut want = ids.to_vec();
    want.sort();
    assert_eq!(listed_ids, want, "{listed:#}");
    let path = format!("/admin/carts/acme-tg/orders/{}", ids[1]);
    let doc: Value = flow.admin(Method::GET, &path).await.send().await.unwrap().json().await.unwrap();
    assert_eq!((doc["status"].as_str(), doc["status_reason"].as_str()), (Some("skipped"), Some(reasons[1])));

    // Counted in metrics.
    let metrics = flow.client.get(format!("{}/metrics", flow.address)).send().await.unwrap().text().await.unwrap();
    for filter in ["stock_location_ids", "tags_none", "created_after", "skip_skus"] {
        let series = format!("cartgate_orders_skipped_total{{filter=\"{filter}\"}}");
        assert!(metrics.contains(&series), "no {series} in\n{metrics}");
    }

    // Not sent by hand either: the filters decide (409 with the reason why not).
    for action in ["resend", "cancel-sending"] {
        let path = format!("/admin/carts/acme-tg/orders/{}/{action}", ids[0]);
        let resp = flow.admin(Method::POST, &path).await.send().await.unwrap();
        assert_eq!(resp.status(), 409, "{action}");
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains("skipped"), "{body}");
    }

    // Seen again by the poll: recorded once, still nothing at the warehouse.
    poll(&flow).await;
    for id in ids {
        let o = flow.order(id).await.unwrap();
        assert_eq!((o.status(), skipped_entries(&o)), (OrderStatus::Skipped, 1), "order {id}: {:?}", o.timeline());
    }
    assert_eq!(flow.ep.orders().len(), 1);
}

#[tokio::test]
async fn a_skipped_order_whose_tags_are_edited_in_the_cart_so_it_passes_is_sent_once() {
    let flow = filtered_flow().await;
    let spec = NewOrder { tags: vec!["wholesale".into()], lines: vec![line(&seed::sku(2), 1)], ..Default::default() };
    let id = flow.tg.create_order(spec).unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::Skipped, Duration::from_secs(20)).await.is_empty());
    assert!(flow.ep.orders().is_empty());

    // The merchant takes the tag off in the cart (no webhook for edits: the poll sees it).
    flow.tg.update_order(id, OrderPatch { tags: Some(vec!["retail".into()]), ..Default::default() }).unwrap();
    poll(&flow).await;
    assert!(flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    let sent = flow.order(id).await.unwrap();
    assert!(
        sent.timeline().iter().any(|e| e.reason.contains("passes the cart's filters now")),
        "{:?}",
        sent.timeline()
    );

    // Later looks change nothing: one warehouse order.
    poll(&flow).await;
    assert_eq!(flow.ep.orders().len(), 1);
    assert_eq!(flow.order(id).await.unwrap().status(), OrderStatus::AtWms);
}

#[tokio::test]
async fn a_new_order_tagged_in_the_cart_before_it_went_is_skipped_and_not_sent() {
    // Delivery on a schedule, so the orders wait as `new` until the tag arrives.
    let opts = Options { filters: Some(filters()), order_delivery: crate::support::HOURLY, ..Options::default() };
    let flow = start(opts).await;
    let tagged = flow.tg.create_order(NewOrder { lines: vec![line(&seed::sku(2), 1)], ..Default::default() }).unwrap();
    let other = flow.tg.create_order(NewOrder { lines: vec![line(&seed::sku(3), 1)], ..Default::default() }).unwrap();
    assert!(flow.wait_all(&[tagged, other], OrderStatus::New, Duration::from_secs(20)).await.is_empty());
    flow.tg.update_order(tagged, OrderPatch { tags: Some(vec!["Wholesale".into()]), ..Default::default() }).unwrap();
    poll(&flow).await;
    assert!(flow.wait_all(&[tagged], OrderStatus::Skipped, Duration::from_secs(20)).await.is_empty());
    let reason = flow.order(tagged).await.unwrap().status_reason;
    assert_eq!(reason.as_deref(), Some("tagged \"Wholesale\" (tags_none)"));

    // The delivery run, now rather than in an hour: only the other order goes.
    let run = cartgate::jobs::MerchantTask { merchant: cartgate::domain::MerchantId::parse("acme").unwrap() }
        .job(cartgate::store::JobKind::DeliverOrders);
    flow.deps.jobs.enqueue(&run, cartgate::store::When::Now, cartgate::store::OnExisting::MoveEarlier).await.unwrap();
    assert!(flow.wait_all(&[other], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    let numbers: Vec<String> = flow.ep.orders().iter().map(|o| o["description"].as_str().unwrap().to_owned()).collect();
    assert_eq!(numbers, [flow.order(other).await.unwrap().order_number], "a skipped order is never sent");
    assert_eq!(flow.order(tagged).await.unwrap().status(), OrderStatus::Skipped);
}

#[tokio::test]
async fn without_created_after_an_order_from_before_the_cart_was_added_is_skipped() {
    let flow = start(Options::default()).await;
    // The first download (at start-up) records where it started: one day back.
    assert!(flow.wait_recurring_idle(POLL, Duration::from_secs(30)).await, "the first poll did not finish");
    let old = NewOrder {
        created_at: Some(Utc::now() - chrono::Duration::days(3)),
        lines: vec![line(&seed::sku(1), 1)],
        ..Default::default()
    };
    let old = flow.tg.create_order(old).unwrap();
    let fresh = flow.tg.create_order(NewOrder { lines: vec![line(&seed::sku(2), 1)], ..Default::default() }).unwrap();
    assert!(flow.wait_all(&[old], OrderStatus::Skipped, Duration::from_secs(20)).await.is_empty());
    assert!(flow.wait_all(&[fresh], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    let reason = flow.order(old).await.unwrap().status_reason.unwrap_or_default();
    assert!(reason.ends_with("(created_after unset: one day before the cart was added)"), "{reason}");
    assert_eq!(flow.ep.orders().len(), 1);
}

#[tokio::test]
async fn an_order_left_with_only_skipped_items_by_a_filter_saved_before_its_send_is_skipped_then() {
    use cartgate::testkit::{app, world::Wired};

    use crate::tenants::{bodies, finalized_webhook, new_key, send};

    // A cart set up through the API (so its filters can change at run time), delivery on a
    // schedule (so the order waits as `new`).
    let mut world = Options { order_delivery: crate::support::HOURLY, ..Options::default() }.world();
    world.cartgate.tenants.keys = vec![new_key()];
    let mut wired = Wired::start(world).await.unwrap();
    let (merchant, cart) = bodies(&wired.wiring.merchants.pop().unwrap());
    let app = app::spawn(wired.settings().unwrap(), cartgate::workflows::registry).await.unwrap();
    assert_eq!(send(Method::PUT, format!("{}/admin/merchants/acme", app.url()), Some(&merchant)).await, 201);
    let cart_url = format!("{}/admin/merchants/acme/carts/acme-tg", app.url());
    assert_eq!(send(Method::PUT, cart_url.clone(), Some(&cart)).await, 201);
    let (tg, deps) = (wired.sims.tg.clone(), app.deps().clone());
    tg.add_variant("GIFTCARD-10", None, "Gift card", 100);
    let id = tg.create_order(NewOrder { lines: vec![line("GIFTCARD-10", 1)], ..Default::default() }).unwrap();
    let delivered = eventually(Duration::from_secs(10), || async {
        finalized_webhook(&app.url(), tg.url(), tg.client_secret(), id).await == 200
    })
    .await;
    assert!(delivered, "the webhook was not taken");
    let cart_id = cartgate::domain::CartId::parse("acme-tg").unwrap();
    let status = || async {
        deps.ledger
            .orders
            .get(&cartgate::domain::MerchantId::parse("acme").unwrap(), &cart_id, id)
            .await
            .unwrap()
            .map(|o| o.status())
    };
    assert!(eventually(Duration::from_secs(20), || async { status().await == Some(OrderStatus::New) }).await);

    // The merchant adds the item filter before the delivery run.
    let patch = serde_json::json!({"filters": {"skip_skus": ["GIFTCARD-*"]}});
    assert_eq!(send(Method::PATCH, cart_url, Some(&patch)).await, 200);
    let live = eventually(Duration::from_secs(10), || async {
        deps.cart("acme-tg").await.is_ok_and(|(_, c)| !c.filters.skip_skus.is_empty())
    })
    .await;
    assert!(live, "the new filter is not live");
    let run = cartgate::jobs::MerchantTask { merchant: cartgate::domain::MerchantId::parse("acme").unwrap() }
        .job(cartgate::store::JobKind::DeliverOrders);
    deps.jobs.enqueue(&run, cartgate::store::When::Now, cartgate::store::OnExisting::MoveEarlier).await.unwrap();
    assert!(eventually(Duration::from_secs(20), || async { status().await == Some(OrderStatus::Skipped) }).await);
    let order = deps
        .ledger
        .orders
        .get(&cartgate::domain::MerchantId::parse("acme").unwrap(), &cart_id, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.status_reason.as_deref(), Some("only skipped items (GIFTCARD-*)"));
    assert!(wired.sims.ep.orders().is_empty(), "nothing of it reached the warehouse");
    app.stop(Duration::from_secs(10)).await;
}
