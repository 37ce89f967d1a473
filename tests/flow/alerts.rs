//! Alerts raised and resolved by the real workflows against the simulators, on Redis: one
//! `order_error` alert for every order missing one SKU, resolved by the alias; a revoked WMS
//! key opens `credentials_rejected`, restoring it resolves it. Notices are counted through the
//! test kit's notice log; the 51-order flow also receives them as e-mails (a real SMTP server)
//! and signed Standard Webhooks (a real HTTP receiver).

use std::sync::Arc;
use std::time::Duration;

use cartgate::alerts::{AlertKind, AlertState, NoticeEvent, StateFilter, sign};
use cartgate::domain::{MerchantId, OrderStatus};
use cartgate::ledger::Ledger;
use cartgate::ledger::redis_kv::RedisKv;
use cartgate::sim::easypost::Mode;
use cartgate::sim::seed;
use cartgate::sim::tradegecko::{NewLine, NewOrder};
use cartgate::testkit::receiver::{ReceivedHook, WebhookReceiver};
use cartgate::testkit::smtp::SmtpServer;
use cartgate::testkit::wiring::{AlertWebhookWiring, AlertsWiring, MerchantAlertsWiring, SmtpWiring, WiredSecret};
use reqwest::Method;
use serde_json::Value;

use crate::support::{Flow, Options, eventually, start};

fn one_line(sku: &str) -> NewOrder {
    NewOrder { lines: vec![NewLine { sku: Some(sku.into()), quantity: 1, ..Default::default() }], ..Default::default() }
}

fn acme() -> MerchantId {
    MerchantId::parse("acme").unwrap()
}

/// `(event, kind, subject)` of every notice so far.
fn notices(flow: &Flow) -> Vec<(NoticeEvent, AlertKind, String)> {
    flow.notices().into_iter().map(|(_, n)| (n.event, n.alert.kind, n.alert.subject)).collect()
}

async fn alerts_json(flow: &Flow, query: &str) -> Vec<Value> {
    let resp = flow.admin(Method::GET, &format!("/admin/merchants/acme/alerts{query}")).await.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["alerts"].as_array().unwrap().clone()
}

#[tokio::test]
async fn fifty_one_orders_missing_one_sku_are_one_alert_told_once_and_resolved_by_the_alias() {
    let (smtp, hooks) = (SmtpServer::start().await.unwrap(), WebhookReceiver::start().unwrap());
    let flow = start(Options { alerts: Some(channels(&smtp, &hooks)), ..Options::default() }).await;
    flow.tg.add_variant("NO-ALIAS-51", None, "Needs an alias", 1000);
    let first = flow.tg.create_order(one_line("NO-ALIAS-51")).unwrap();
    assert!(flow.wait_all(&[first], OrderStatus::Error, Duration::from_secs(20)).await.is_empty());
    let subject = "unknown_sku:NO-ALIAS-51";
    let opened = eventually(Duration::from_secs(10), || async { !notices(&flow).is_empty() }).await;
    assert!(opened, "no notice");
    assert_eq!(notices(&flow), [(NoticeEvent::Opened, AlertKind::OrderError, subject.to_owned())]);
    let open = alerts_json(&flow, "?state=open").await;
    assert_eq!((open.len(), open[0]["count"].as_u64(), open[0]["subject"].as_str()), (1, Some(1), Some(subject)));
    // Instant: one e-mail and one signed webhook within 5 s.
    messages(&smtp, &hooks, 1).await;
    assert_eq!(hook_type(&hooks.accepted()[0]), "alert.opened");
    assert!(smtp.mails()[0].data.contains("NO-ALIAS-51"), "{}", smtp.mails()[0].data);

    let more = flow.tg.create_orders(50, &one_line("NO-ALIAS-51")).unwrap();
    let stragglers = flow.wait_all(&more, OrderStatus::Error, Duration::from_secs(60)).await;
    assert!(stragglers.is_empty(), "not in error: {stragglers:?}");
    let counted = eventually(Duration::from_secs(10), || async {
        alerts_json(&flow, "?state=open").await.first().and_then(|a| a["count"].as_u64()) == Some(51)
    })
    .await;
    let open = alerts_json(&flow, "?state=open").await;
    assert!(counted, "{open:?}");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["orders"].as_array().unwrap().len(), 51);
    assert_eq!(notices(&flow).len(), 1, "no notice while it stays open");
    assert_eq!((smtp.mails().len(), hooks.accepted().len()), (1, 1), "no message while it stays open");

    let csv = format!("sku,barcode\nNO-ALIAS-51,{}\n", seed::barcode(4));
    let put = flow.admin(Method::PUT, "/admin/merchants/acme/aliases").await;
    let resp = put.header("content-type", "text/csv").body(csv).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let all: Vec<u64> = std::iter::once(first).chain(more).collect();
    assert!(flow.wait_all(&all, OrderStatus::AtWms, Duration::from_secs(60)).await.is_empty());
    let resolved = eventually(Duration::from_secs(10), || async { notices(&flow).len() == 2 }).await;
    assert!(resolved, "{:?}", notices(&flow));
    assert_eq!(notices(&flow)[1], (NoticeEvent::Resolved, AlertKind::OrderError, subject.to_owned()));
    messages(&smtp, &hooks, 2).await;
    assert_eq!(hook_type(&hooks.accepted()[1]), "alert.resolved");
    let listed = alerts_json(&flow, "?state=resolved").await;
    assert_eq!((listed.len(), listed[0]["state"].as_str()), (1, Some("resolved")));
    assert!(alerts_json(&flow, "?state=open").await.is_empty());

    // Kept in Redis: a ledger built afresh over the same prefix (a restarted replica) reads them.
    let conn = flow.store().redis().expect("the flows run on Redis");
    let fresh = Ledger::new(Arc::new(RedisKv::new(conn, &flow.settings().store.prefix)));
    let book = fresh.alerts.read(&acme()).await.unwrap();
    let stored = book.list(StateFilter::Only(AlertState::Resolved), 10);
    assert_eq!((stored.len(), stored[0].count, stored[0].id.as_str()), (1, 51, listed[0]["id"].as_str().unwrap()));
}

#[tokio::test]
async fn a_revoked_wms_key_opens_credentials_rejected_and_restoring_it_resolves_it() {
    let flow = start(Options::default()).await;
    let key = flow.ep.key(Mode::Production).unwrap();
    flow.ep.set_key_active(&key, false);
    // The send reads the warehouse's products first: refused, and retried on the backoff.
    flow.tg.create_order(one_line(&seed::sku(1))).unwrap();
    let account = "easypost:acme:production";
    let opened = eventually(Duration::from_secs(10), || async {
        notices(&flow).contains(&(NoticeEvent::Opened, AlertKind::CredentialsRejected, account.to_owned()))
    })
    .await;
    assert!(opened, "{:?}", notices(&flow));
    let open = alerts_json(&flow, "?state=open").await;
    let creds: Vec<&Value> = open.iter().filter(|a| a["kind"] == "credentials_rejected").collect();
    assert_eq!(creds.len(), 1, "{open:?}");
    assert!(creds[0]["count"].as_u64().unwrap() >= 1);

    flow.ep.set_key_active(&key, true);
    // The next successful call of the account resolves it: a sync the merchant asks for.
    assert_eq!(flow.post_admin("/admin/merchants/acme/sync/inventory").await, 202);
    let resolved = eventually(Duration::from_secs(20), || async {
        notices(&flow).contains(&(NoticeEvent::Resolved, AlertKind::CredentialsRejected, account.to_owned()))
    })
    .await;
    assert!(resolved, "{:?}", notices(&flow));
    let opened_once =
        notices(&flow).iter().filter(|n| n.0 == NoticeEvent::Opened && n.1 == AlertKind::CredentialsRejected).count();
    assert_eq!(opened_once, 1, "retries of the refused calls told nobody again");
    // Nothing about an alert holds the key.
    let everything = serde_json::to_string(&alerts_json(&flow, "").await).unwrap();
    let told = serde_json::to_string(&flow.notices().into_iter().map(|(_, n)| n).collect::<Vec<_>>()).unwrap();
    assert!(!everything.contains(&key) && !told.contains(&key), "the key leaked into an alert");
}

/// Runs the cart's `ensure_webhooks` now and waits for it to finish.
async fn ensure_webhooks_now(flow: &Flow) {
    use cartgate::jobs::CartTask;
    use cartgate::store::{JobKind, OnExisting, When};
    let job = CartTask { cart: flow.cart() }.job(JobKind::EnsureWebhooks);
    flow.deps.jobs.enqueue(&job, When::Now, OnExisting::MoveEarlier).await.unwrap();
    assert!(flow.wait_recurring_idle(job.id.as_str(), Duration::from_secs(20)).await, "ensure_webhooks did not run");
}

#[tokio::test]
async fn webhooks_that_had_to_be_recreated_open_webhooks_repaired_and_the_next_clean_check_resolves_it() {
    let flow = start(Options::default()).await;
    ensure_webhooks_now(&flow).await;
    assert!(notices(&flow).is_empty(), "the first registration is no repair: {:?}", notices(&flow));
    assert!(flow.tg.drop_webhooks() > 0);
    ensure_webhooks_now(&flow).await;
    let repaired = (NoticeEvent::Opened, AlertKind::WebhooksRepaired, flow.cart().to_string());
    assert_eq!(notices(&flow), [repaired]);
    ensure_webhooks_now(&flow).await;
    assert_eq!(notices(&flow).last().map(|n| n.0), Some(NoticeEvent::Resolved), "{:?}", notices(&flow));
}

async fn release_holds(flow: &Flow) {
    let resp = flow.admin(Method::POST, "/admin/merchants/acme/holds/release").await.send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn an_order_still_beyond_stock_after_a_release_opens_held_orders_until_it_is_sent() {
    let flow = start(Options { warehouse_stock: 3, ..Options::default() }).await;
    let id = flow.tg.create_order(NewOrder {
        lines: vec![NewLine { sku: Some(seed::sku(2)), quantity: 5, ..Default::default() }],
        ..Default::default()
    });
    let id = id.unwrap();
    assert!(flow.wait_all(&[id], OrderStatus::OnHold, Duration::from_secs(20)).await.is_empty());
    flow.wait_startup_inventory_sync().await;
    assert!(notices(&flow).is_empty(), "a first hold is no alert");

    release_holds(&flow).await;
    let held = (NoticeEvent::Opened, AlertKind::HeldOrders, "on_hold".to_owned());
    assert!(
        eventually(Duration::from_secs(20), || async { notices(&flow) == [held.clone()] }).await,
        "{:?}",
        notices(&flow)
    );
    let open = alerts_json(&flow, "?state=open").await;
    assert_eq!(open[0]["orders"], serde_json::json!([format!("acme-tg:{id}")]));
    assert!(open[0]["summary"].as_str().unwrap().contains(&seed::barcode(2)), "{}", open[0]["summary"]);

    flow.ep.receive(&seed::barcode(2), None, 10).unwrap();
    release_holds(&flow).await;
    assert!(flow.wait_all(&[id], OrderStatus::AtWms, Duration::from_secs(20)).await.is_empty());
    let resolved = eventually(Duration::from_secs(10), || async { notices(&flow).len() == 2 }).await;
    assert!(resolved && notices(&flow)[1].0 == NoticeEvent::Resolved, "{:?}", notices(&flow));
}

/// The test Standard Webhooks secret (the specification's).
const HOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Both alert channels, instant, to the test's own SMTP server and webhook receiver.
fn channels(smtp: &SmtpServer, hooks: &WebhookReceiver) -> (AlertsWiring, MerchantAlertsWiring) {
    let deployment = AlertsWiring {
        smtp: SmtpWiring {
            url: smtp.url(),
            from: "cartgate <alerts@cartgate.example.com>".into(),
            username: None,
            password: None,
        },
    };
    let merchant = MerchantAlertsWiring {
        email: vec!["ops@acme.example".into()],
        webhook: Some(AlertWebhookWiring { url: hooks.url().to_owned(), secret: WiredSecret::new(HOOK_SECRET) }),
        digest: "instant".into(),
    };
    (deployment, merchant)
}

/// Waits (5 s) until `n` e-mails and `n` webhooks arrived, then checks there are no more and
/// that every webhook's signature verifies.
async fn messages(smtp: &SmtpServer, hooks: &WebhookReceiver, n: usize) {
    let arrived =
        eventually(Duration::from_secs(5), || async { smtp.mails().len() >= n && hooks.accepted().len() >= n }).await;
    assert!(arrived, "{} mails, {} webhooks", smtp.mails().len(), hooks.accepted().len());
    assert_eq!((smtp.mails().len(), hooks.accepted().len()), (n, n), "one of each per message");
    for hook in hooks.accepted() {
        let (id, ts, sig) =
            (hook.header("webhook-id"), hook.header("webhook-timestamp"), hook.header("webhook-signature"));
        let ts: i64 = ts.unwrap().parse().unwrap();
        let now = chrono::Utc::now().timestamp();
        sign::verify(HOOK_SECRET, id.unwrap(), ts, &hook.body, sig.unwrap(), now).unwrap();
        assert!(!String::from_utf8_lossy(&hook.body).contains(&HOOK_SECRET[6..]));
    }
}

fn hook_type(hook: &ReceivedHook) -> String {
    let body: Value = serde_json::from_slice(&hook.body).unwrap();
    body["type"].as_str().unwrap_or_default().to_owned()
}
