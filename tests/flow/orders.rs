//! Workflows 1 and 2: orders from the cart reach the warehouse exactly once, or wait visibly.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cartgate::domain::OrderStatus;
use cartgate::ledger::Alias;
use cartgate::sim::delivery::DeliverySwitches;
use cartgate::sim::seed;
use cartgate::sim::tradegecko::{NewLine, NewOrder, OrderPatch};
use cartgate::store::{ClaimedJob, JobKind};
use cartgate::workers::{Handler, Outcome};
use cartgate::workflows::{Deps, jobs::send_order};
use reqwest::Method;
use serde_json::Value;
use tokio::sync::Notify;

use crate::support::{Flow, HOURLY, Options, start, start_with};

fn line(sku: &str, quantity: i64) -> NewLine {
    NewLine { sku: Some(sku.into()), quantity, ..Default::default() }
}

fn order(lines: Vec<NewLine>) -> NewOrder {
    NewOrder { lines, ..Default::default() }
}

/// (barcode, units) of the warehouse order created for `order_number`, sorted.
fn wms_lines(flow: &Flow, order_number: &str) -> Vec<(String, u64)> {
    let orders = flow.ep.orders();
    let o = orders.iter().find(|o| o["description"] == order_number).expect("order at the warehouse");
    let mut lines: Vec<(String, u64)> = o["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["product"]["barcode"].as_str().unwrap().to_owned(), l["units"].as_u64().unwrap()))
        .collect();
    lines.sort();
    lines
}

/// The units of each line of a warehouse order's JSON, in its order.
fn units(order: &Value) -> Vec<u64> {
    let lines = order["line_items"].as_array().map(Vec::as_slice).unwrap_or_default();
    lines.iter().filter_map(|l| l["units"].as_u64()).collect()
}

/// Barcodes of the warehouse order created for `order_number`, sorted.
fn wms_barcodes(flow: &Flow, order_number: &str) -> Vec<String> {
    wms_lines(flow, order_number).into_iter().map(|(barcode, _)| barcode).collect()
}

#[tokio::test]
async fn fifty_finalized_orders_reach_the_warehouse_once_translated_even_when_webhooks_arrive_twice() {
    let flow = start(Options::default()).await;
    // Variants without a UPC reach the warehouse through the merchant's aliases.
    flow.tg.add_variant("ALIASED-7", None, "Aliased item", 100);
    flow.deps
        .ledger
        .aliases
        .upsert("acme", &[Alias { sku: "ALIASED-7".into(), barcode: seed::barcode(7) }])
        .await
        .unwrap();
    flow.tg.set_delivery_switches(DeliverySwitches { duplicate_rate: 1.0, ..Default::default() });

    let mut ids = Vec::new();
    for n in 0..50 {
        let mut lines = vec![line(&seed::sku(1 + n % 5), 1)];
        if n % 3 == 0 {
            lines.push(line("ALIASED-7", 2));
        }
        ids.push(flow.tg.create_order(order(lines)).unwrap());
    }
    let stragglers = flow.wait_all(&ids, OrderStatus::AtWms, Duration::from_secs(60)).await;
    assert!(stragglers.is_empty(), "not at the warehouse: {stragglers:?}");
    assert!(flow.ep.duplicate_descriptions().is_empty(), "duplicates: {:?}", flow.ep.duplicate_descriptions());
    assert_eq!(flow.ep.orders().len(), 50);
    let first = flow.order(ids[0]).await.unwrap();
    assert_eq!(wms_barcodes(&flow, &first.order_number), [seed::barcode(1), seed::barcode(7)]);
    assert!(first.wms_order_id.is_some());
}

#[tokio::test]
async fn orders_arrive_through_the_poll_alone_when_webhooks_are_lost() {
    let flow = start(Options::default()).await;
    flow.tg.set_delivery_switches(DeliverySwitches { drop_rate: 1.0, ..Default::default() });
    let ids: Vec<u64> =
        (0..10).map(|n| flow.tg.create_order(order(vec![line(&seed::sku(1 + n % 3), 1)])).unwrap()).collect();
    let resp = flow.admin(Method::POST, "/admin/carts/acme-tg/sync/orders").await.send().await.unwrap();
    assert_eq!(resp.status(), 202);
    let stragglers = flow.wait_all(&ids, OrderStatus::AtWms, Duration::from_secs(30)).await;
    assert!(stragglers.is_empty(), "not at the warehouse: {stragglers:?}");
    assert!(flow.ep.duplicate_descriptions().is_empty());
}

#[tokio::test]
async fn an_order_beyond_stock_holds_until_0100_pacific_and_is_sent_when_released_after_stock_arrives() {
    let flow = start(Options { warehouse_stock: 3, ..Options::default() }).await;
    let id = flow.tg.create_order(order(vec![line(&seed::sku(2), 5)])).unwrap();
    let pending = flow.wait_all(&[id], OrderStatus::OnHold, Duration::from_secs(20)).await;
    assert!(pending.is_empty(), "{pending:?}");
    let held = flow.order(id).await.unwrap();
    let next = held.next_attempt_at.expect("a held order shows its next attempt");
    let pacific = next.with_timezone(&chrono_tz::America::Los_Angeles);
    assert_eq!(pacific.format("%H:%M").to_string(), "01:00", "{next}");
    assert!(next > chrono::Utc::now() && next < chrono::Utc::now() + chrono::Duration::hours(25));
    assert!(held.status_reason.unwrap_or_default().contains("inventory"));

    flow.wait_startup_inventory_sync().await;
    flow.ep.receive(&seed::barcode(2), None, 10).unwrap();
    // Released whether its job is parked yet or not (see the next two tests). On a busy machine
    // an inventory sync that saw the stock arrive may have released it early already (0).
    assert!(release(&flow).await <= 1);
    let pending = flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(20)).await;
    assert!(pending.is_empty(), "{pending:?}");
    assert_eq!(flow.ep.orders().len(), 1);
}

async fn release(flow: &Flow) -> u64 {
    let resp = flow.admin(Method::POST, "/admin/merchants/acme/holds/release").await.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["released"].as_u64().unwrap()
}

/// Where the first send stops until the test lets it go.
#[derive(Clone, Copy, PartialEq)]
enum Stop {
    /// Claimed, before it runs.
    BeforeRun,
    /// Run (the ledger written), before the pool acts on its outcome.
    BeforeOutcome,
}

/// The real `send_order`, its first run stopped at `stop`; every outcome recorded.
#[derive(Clone)]
struct FirstSendStopped {
    deps: Deps,
    stop: Stop,
    stopped: Arc<AtomicBool>,
    reached: Arc<Notify>,
    go: Arc<Notify>,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
}

impl FirstSendStopped {
    fn new(deps: &Deps, stop: Stop) -> Self {
        Self {
            deps: deps.clone(),
            stop,
            stopped: Arc::default(),
            reached: Arc::default(),
            go: Arc::default(),
            outcomes: Arc::default(),
        }
    }

    async fn wait_here(&self, stop: Stop, first: bool) {
        if first && self.stop == stop {
            self.reached.notify_one();
            self.go.notified().await;
        }
    }

    fn outcomes(&self) -> Vec<Outcome> {
        self.outcomes.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl Handler for FirstSendStopped {
    async fn handle(&self, job: &ClaimedJob) -> Outcome {
        let first = !self.stopped.swap(true, Ordering::SeqCst);
        self.wait_here(Stop::BeforeRun, first).await;
        let outcome = send_order::run(&self.deps, job).await;
        self.outcomes.lock().unwrap().push(outcome.clone());
        self.wait_here(Stop::BeforeOutcome, first).await;
        outcome
    }
}

/// Starts a flow whose first send stops at `stop`, and creates an order beyond stock.
async fn start_stopped(stop: Stop) -> (Flow, FirstSendStopped, u64) {
    let gate = std::sync::OnceLock::new();
    let flow = start_with(Options { warehouse_stock: 3, ..Options::default() }, |deps| {
        let handler = FirstSendStopped::new(deps, stop);
        gate.set(handler.clone()).ok();
        cartgate::workflows::registry(deps).with(JobKind::SendOrder, handler)
    })
    .await;
    let gate = gate.into_inner().unwrap();
    let id = flow.tg.create_order(order(vec![line(&seed::sku(2), 5)])).unwrap();
    tokio::time::timeout(Duration::from_secs(20), gate.reached.notified()).await.expect("the first send ran");
    (flow, gate, id)
}

#[tokio::test]
async fn a_release_while_a_refused_send_is_being_parked_sends_the_order_again_at_once() {
    let (flow, gate, id) = start_stopped(Stop::BeforeOutcome).await;
    // The ledger says on_hold; the job is still in flight, not yet in the hold set.
    assert_eq!(flow.order(id).await.unwrap().status(), OrderStatus::OnHold);
    assert!(matches!(gate.outcomes()[..], [Outcome::Hold { .. }]), "{:?}", gate.outcomes());
    flow.wait_startup_inventory_sync().await;
    flow.ep.receive(&seed::barcode(2), None, 10).unwrap();
    assert_eq!(release(&flow).await, 1, "the send being parked counts as released");
    gate.go.notify_one();
    let pending = flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(20)).await;
    assert!(pending.is_empty(), "sent after the release, not at 01:00: {pending:?}");
    assert_eq!(flow.ep.orders().len(), 1);
}

#[tokio::test]
async fn a_send_refused_for_inventory_after_a_release_during_its_attempt_tries_again_instead_of_parking() {
    let (flow, gate, id) = start_stopped(Stop::BeforeRun).await;
    // Claimed, not yet refused: nothing is held, but the release is recorded.
    assert_eq!(release(&flow).await, 0);
    gate.go.notify_one();
    let parked = |o: &Outcome| matches!(o, Outcome::Hold { .. });
    let held =
        crate::support::eventually(Duration::from_secs(20), || async { gate.outcomes().iter().any(parked) }).await;
    // The attempt that began before the release tries again at once; a later one parks.
    let outcomes = gate.outcomes();
    assert!(held, "{outcomes:?}");
    assert!(matches!(outcomes[0], Outcome::RetryAt(_)), "{outcomes:?}");
    assert_eq!(flow.order(id).await.unwrap().status(), OrderStatus::OnHold);
    assert!(flow.ep.orders().is_empty());
}

#[tokio::test]
async fn reimporting_an_unchanged_held_order_reads_only_the_order_and_its_lines() {
    let flow = start(Options { warehouse_stock: 3, ..Options::default() }).await;
    // Webhooks lost: each import below is one the test asked for (a poll of the cart).
    flow.tg.set_delivery_switches(DeliverySwitches { drop_rate: 1.0, ..Default::default() });
    let id = flow.tg.create_order(order(vec![line(&seed::sku(2), 5)])).unwrap();
    let import = [format!("import_order:acme-tg:{id}")];
    let calls = |endpoint: &str| flow.tg.record().count(endpoint);
    let mut reads = Vec::new();
    for round in 0..2 {
        let before = calls("GET /orders/{id}");
        flow.admin(Method::POST, "/admin/carts/acme-tg/sync/orders").await.send().await.unwrap();
        let imported = crate::support::eventually(Duration::from_secs(20), || async {
            calls("GET /orders/{id}") > before && flow.no_pending(&import).await
        })
        .await;
        assert!(imported, "import {round} ran");
        let pending = flow.wait_all(&[id], OrderStatus::OnHold, Duration::from_secs(20)).await;
        assert!(pending.is_empty(), "{pending:?}");
        reads.push((calls("GET /addresses/{id}"), calls("GET /variants")));
    }
    assert!(reads[0].0 >= 1 && reads[0].1 >= 1, "the first import read the address and the variants: {reads:?}");
    assert_eq!(reads[1], reads[0], "the order did not change in the cart: not read again");
}

#[tokio::test]
async fn an_unknown_sku_stops_the_order_naming_it_and_adding_the_alias_delivers_it() {
    let flow = start(Options::default()).await;
    flow.tg.add_variant("NO-ALIAS-1", None, "Needs an alias", 10);
    let id = flow.tg.create_order(order(vec![line("NO-ALIAS-1", 1), line(&seed::sku(1), 1)])).unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::Error, Duration::from_secs(20)).await.is_empty());
    let stopped = flow.order(id).await.unwrap();
    assert!(stopped.status_reason.as_deref().unwrap_or("").contains("NO-ALIAS-1"), "{:?}", stopped.status_reason);
    assert!(flow.ep.orders().is_empty());

    let csv = format!("sku,barcode\nNO-ALIAS-1,{}\n", seed::barcode(4));
    let resp = flow
        .admin(Method::PUT, "/admin/merchants/acme/aliases")
        .await
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    assert_eq!(wms_barcodes(&flow, &stopped.order_number), [seed::barcode(1), seed::barcode(4)]);
}

/// Edits the order's lines in the cart, silently (TradeGecko sends no webhook for edits), and
/// has cartgate poll the cart, as its backstop poll would.
async fn edit_in_cart_and_poll(flow: &Flow, id: u64, lines: Vec<NewLine>) {
    let patch = OrderPatch { lines: Some(lines), ..Default::default() };
    flow.tg.update_order(id, patch).unwrap();
    let resp = flow.admin(Method::POST, "/admin/carts/acme-tg/sync/orders").await.send().await.unwrap();
    assert_eq!(resp.status(), 202);
}

#[tokio::test]
async fn a_held_order_edited_in_the_cart_to_fit_the_stock_is_sent_at_once_with_its_new_lines() {
    let flow = start(Options { warehouse_stock: 3, ..Options::default() }).await;
    let id = flow.tg.create_order(order(vec![line(&seed::sku(2), 5)])).unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::OnHold, Duration::from_secs(20)).await.is_empty());
    assert!(flow.ep.orders().is_empty());

    // The merchant cuts the line to what is in stock and adds another item; no release by hand.
    edit_in_cart_and_poll(&flow, id, vec![line(&seed::sku(2), 2), line(&seed::sku(3), 1)]).await;
    let pending = flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(20)).await;
    assert!(pending.is_empty(), "still {pending:?}: an edited held order waits for 01:00");
    let sent = flow.order(id).await.unwrap();
    assert_eq!(wms_lines(&flow, &sent.order_number), [(seed::barcode(2), 2), (seed::barcode(3), 1)]);
    assert_eq!(flow.ep.orders().len(), 1);
    assert!(sent.timeline().iter().any(|e| e.reason.contains("updated from the cart")), "{:?}", sent.timeline());
}

#[tokio::test]
async fn a_held_order_edited_in_the_cart_still_beyond_the_stock_holds_again_with_its_new_lines() {
    let flow = start(Options { warehouse_stock: 3, ..Options::default() }).await;
    let id = flow.tg.create_order(order(vec![line(&seed::sku(2), 5)])).unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::OnHold, Duration::from_secs(20)).await.is_empty());
    // Offers of 4 units. Not any further offer: the first import's webhook twin may have
    // queued a send that was in flight, which runs once more with the old lines.
    let offered_four = || {
        let posts =
            flow.ep.record().entries().into_iter().filter(|e| e.endpoint() == "POST /fulfillment/vendor/v2/orders");
        posts.filter(|e| serde_json::from_str::<Value>(&e.body).is_ok_and(|b| units(&b) == [4])).count()
    };
    assert_eq!(offered_four(), 0);

    edit_in_cart_and_poll(&flow, id, vec![line(&seed::sku(2), 4)]).await;
    let tried = crate::support::eventually(Duration::from_secs(20), || async { offered_four() > 0 }).await;
    assert!(tried, "the edited order was offered to the warehouse again");
    assert!(flow.wait_all(&[id], OrderStatus::OnHold, Duration::from_secs(20)).await.is_empty());
    let held = flow.order(id).await.unwrap();
    assert_eq!(held.lines.iter().map(|l| l.quantity).collect::<Vec<_>>(), [4]);
    assert!(flow.ep.orders().is_empty());

    // Stock arrives; the daily release (here by hand) sends the edited order, once.
    flow.wait_startup_inventory_sync().await;
    flow.ep.receive(&seed::barcode(2), None, 10).unwrap();
    assert_eq!(release(&flow).await, 1);
    assert!(flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    assert_eq!(wms_lines(&flow, &held.order_number), [(seed::barcode(2), 4)]);
    assert_eq!(flow.ep.orders().len(), 1);
}

#[tokio::test]
async fn an_order_stopped_for_an_unknown_sku_is_sent_when_the_merchant_replaces_the_line_in_the_cart() {
    let flow = start(Options::default()).await;
    flow.tg.add_variant("NO-ALIAS-2", None, "Needs an alias", 10);
    let id = flow.tg.create_order(order(vec![line("NO-ALIAS-2", 1), line(&seed::sku(1), 1)])).unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::Error, Duration::from_secs(20)).await.is_empty());

    edit_in_cart_and_poll(&flow, id, vec![line(&seed::sku(4), 3), line(&seed::sku(1), 1)]).await;
    assert!(flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    let sent = flow.order(id).await.unwrap();
    assert_eq!(wms_lines(&flow, &sent.order_number), [(seed::barcode(1), 1), (seed::barcode(4), 3)]);
    assert_eq!(flow.ep.orders().len(), 1);
}

#[tokio::test]
async fn an_edit_in_the_cart_after_delivery_changes_nothing_at_the_warehouse() {
    let flow = start(Options::default()).await;
    let id = flow.tg.create_order(order(vec![line(&seed::sku(1), 1)])).unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    let sent = flow.order(id).await.unwrap();

    edit_in_cart_and_poll(&flow, id, vec![line(&seed::sku(1), 7)]).await;
    let import = [format!("import_order:acme-tg:{id}")];
    let calls = || flow.tg.record().count("GET /orders/{id}");
    let before = calls();
    let polled = crate::support::eventually(Duration::from_secs(20), || async {
        calls() > before && flow.no_pending(&import).await
    })
    .await;
    assert!(polled, "the poll re-read the order");
    let after = flow.order(id).await.unwrap();
    assert_eq!(after.status(), OrderStatus::AtWms);
    assert_eq!(after.lines, sent.lines, "the ledger keeps what the warehouse has");
    assert_eq!(wms_lines(&flow, &sent.order_number), [(seed::barcode(1), 1)]);
    assert_eq!(flow.ep.orders().len(), 1);
}

#[tokio::test]
async fn a_void_in_the_cart_after_delivery_cancels_the_warehouse_order() {
    let flow = start(Options::default()).await;
    let id = flow.tg.create_order(order(vec![line(&seed::sku(3), 1)])).unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    flow.tg.void_order(id).unwrap();
    // TradeGecko sends no webhook for a void: the poll sees it.
    flow.admin(Method::POST, "/admin/carts/acme-tg/sync/orders").await.send().await.unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::Canceled, Duration::from_secs(20)).await.is_empty());
    let wms_id = flow.order(id).await.unwrap().wms_order_id.unwrap();
    assert_eq!(flow.ep.order(&wms_id).unwrap()["status"], "cancelled");
}

#[tokio::test]
async fn a_crash_between_the_warehouse_accepting_and_the_ledger_recording_leaves_one_warehouse_order() {
    let flow = start(Options::default()).await;
    flow.deps.faults.crash_after_wms_accept.store(1, std::sync::atomic::Ordering::SeqCst);
    let id = flow.tg.create_order(order(vec![line(&seed::sku(4), 1)])).unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(30)).await.is_empty());
    assert_eq!(
        flow.deps.faults.crash_after_wms_accept.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the crash happened"
    );
    assert_eq!(flow.ep.orders().len(), 1, "exactly one warehouse order");
    let o = flow.order(id).await.unwrap();
    assert!(o.timeline().iter().any(|t| t.reason.contains("found at the warehouse")), "{:?}", o.timeline());
}

#[tokio::test]
async fn test_wms_connection_says_plainly_what_is_wrong() {
    let flow = start(Options::default()).await;
    let check = |flow: &Flow| {
        let req = flow
            .client
            .post(format!("{}/admin/merchants/acme/wms/test", flow.address))
            .bearer_auth(crate::support::ADMIN);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let ok = check(&flow).await;
    assert_eq!((ok["ok"].as_bool(), ok["mode"].as_str()), (Some(true), Some("production")), "{ok}");
    let key = flow.ep.key(cartgate::sim::easypost::Mode::Production).unwrap();
    flow.ep.set_key_active(&key, false);
    let inactive = check(&flow).await;
    assert_eq!(inactive["ok"], false);
    assert!(inactive["message"].as_str().unwrap().contains("inactive"), "{inactive}");
}

#[tokio::test]
async fn an_order_recorded_by_an_import_that_crashed_before_queueing_its_send_is_still_sent() {
    let flow = start(Options::default()).await;
    // Webhooks lost, and the ledger written by hand as a run that died after its write would
    // leave it: `new`, with no send queued.
    flow.tg.set_delivery_switches(DeliverySwitches { drop_rate: 1.0, ..Default::default() });
    let id = flow.tg.create_order(order(vec![line(&seed::sku(5), 1)])).unwrap();
    let new = cartgate::domain::NewOrder {
        cart: flow.cart(),
        cart_order_id: id,
        order_number: format!("SO-crash-{id}"),
        merchant: cartgate::domain::MerchantId::parse("acme").unwrap(),
        destination: cartgate::domain::Destination {
            name: "Ada".into(),
            street1: "1 Main St".into(),
            city: "SF".into(),
            zip: "94105".into(),
            country: "US".into(),
            ..Default::default()
        },
        lines: vec![cartgate::domain::OrderLine {
            line_item_id: 1,
            variant_id: flow.tg.variant_id(&seed::sku(5)).unwrap(),
            sku: seed::sku(5).parse().unwrap(),
            upc: Some(seed::barcode(5).parse().unwrap()),
            barcode: None,
            quantity: 1,
        }],
        ship_method: None,
    };
    let recorded = cartgate::domain::Order::new(new, chrono::Utc::now(), "imported (then crashed)");
    assert!(flow.deps.ledger.orders.create(&recorded).await.unwrap());
    let send = cartgate::store::JobId::parse(&format!("send_order:acme-tg:{id}")).unwrap();
    assert!(flow.deps.jobs.job(&send).await.unwrap().is_none(), "no send queued yet");

    flow.admin(Method::POST, "/admin/carts/acme-tg/sync/orders").await.send().await.unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    assert_eq!(flow.ep.orders().len(), 1);
}

#[tokio::test]
async fn cancel_sending_before_delivery_keeps_the_order_from_the_warehouse() {
    // Scheduled delivery: new orders wait for the next delivery run.
    let flow = start(Options { order_delivery: HOURLY, ..Options::default() }).await;
    let kept = flow.tg.create_order(order(vec![line(&seed::sku(1), 1)])).unwrap();
    let sent = flow.tg.create_order(order(vec![line(&seed::sku(2), 1)])).unwrap();
    assert!(flow.wait_all(&[kept, sent], OrderStatus::New, Duration::from_secs(20)).await.is_empty());

    let path = format!("/admin/carts/acme-tg/orders/{kept}/cancel-sending");
    let resp = flow.admin(Method::POST, &path).await.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "cancel_sending");

    // The delivery run, now rather than in an hour.
    let run = cartgate::jobs::MerchantTask { merchant: cartgate::domain::MerchantId::parse("acme").unwrap() }
        .job(cartgate::store::JobKind::DeliverOrders);
    flow.deps.jobs.enqueue(&run, cartgate::store::When::Now, cartgate::store::OnExisting::MoveEarlier).await.unwrap();
    assert!(flow.wait_all(&[sent], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    assert_eq!(flow.order(kept).await.unwrap().status(), OrderStatus::CancelSending);
    let numbers: Vec<String> = flow.ep.orders().iter().map(|o| o["description"].as_str().unwrap().to_owned()).collect();
    assert_eq!(numbers, [flow.order(sent).await.unwrap().order_number], "only the other order reached the warehouse");

    // Once at the warehouse it is too late: 409 with the reason.
    let resp = flow
        .admin(Method::POST, &format!("/admin/carts/acme-tg/orders/{sent}/cancel-sending"))
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("at_wms"), "{body}");
}

/// `ledger.keep_finished_days` (90 by default) through the `prune_ledger` job's own function,
/// with the clock moved: nothing goes 89 days on; 91 days on, the confirmed order is gone (from
/// GET and the listing) and the one still at the warehouse stays.
#[tokio::test]
async fn finished_orders_leave_the_ledger_once_keep_finished_days_have_passed() {
    use cartgate::domain::{CartId, MerchantId, Order};
    use cartgate::workflows::jobs::prune_ledger;
    let flow = start(Options::default()).await;
    assert_eq!(flow.deps.settings.ledger.keep_finished_days, 90);
    let (merchant, cart) = (MerchantId::parse("acme").unwrap(), CartId::parse("acme-tg").unwrap());
    let now = chrono::Utc::now();
    for (id, path) in [
        (901u64, &[OrderStatus::AtWms, OrderStatus::Shipped, OrderStatus::Confirmed][..]),
        (902, &[OrderStatus::AtWms][..]),
    ] {
        let new = cartgate::domain::NewOrder {
            cart: cart.clone(),
            cart_order_id: id,
            order_number: format!("SO{id}"),
            merchant: merchant.clone(),
            destination: Default::default(),
            lines: vec![],
            ship_method: None,
        };
        let mut o = Order::new(new, now, "imported");
        for s in path {
            o.transition(*s, "test", now).unwrap();
        }
        assert!(flow.deps.ledger.orders.create(&o).await.unwrap());
    }
    let in_days = |d: i64| now + chrono::Duration::days(d);
    assert_eq!(prune_ledger::prune(&flow.deps, &merchant, in_days(89)).await.unwrap(), 0);
    assert_eq!(prune_ledger::prune(&flow.deps, &merchant, in_days(91)).await.unwrap(), 1);
    assert_eq!(flow.order(901).await, None);
    assert_eq!(flow.order(902).await.map(|o| o.status()), Some(OrderStatus::AtWms));
    let resp = flow.admin(Method::GET, "/admin/carts/acme-tg/orders/901").await.send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let listed: Value =
        flow.admin(Method::GET, "/admin/orders?merchant=acme").await.send().await.unwrap().json().await.unwrap();
    let ids: Vec<u64> =
        listed["orders"].as_array().unwrap().iter().map(|o| o["cart_order_id"].as_u64().unwrap()).collect();
    assert!(ids.contains(&902) && !ids.contains(&901), "{listed}");
}
