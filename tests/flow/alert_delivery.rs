//! Alert delivery (#22): notices handed to the real outbox (`Outbox::notify`, as the alert
//! lifecycle does) reach a real SMTP server and a real Standard Webhooks receiver, through the
//! `deliver_alert` job of a running cartgate whose store clock the test moves.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use cartgate::alerts::sign;
use cartgate::alerts::{Alert, AlertKind, AlertSink, AlertState, DeliveryHandler, Notice, NoticeEvent, Outbox};
use cartgate::domain::MerchantId;
use cartgate::store::clock::system_now;
use cartgate::store::{JobKind, Millis};
use cartgate::store::{JobState, MemoryStore, Store};
use cartgate::testkit::app::{self, RunningApp};
use cartgate::testkit::receiver::{ReceivedHook, ReceiverMode, WebhookReceiver};
use cartgate::testkit::smtp::{ReceivedMail, SmtpServer};
use cartgate::testkit::wiring::{
    AlertWebhookWiring, AlertsWiring, MerchantAlertsWiring, MerchantWiring, SmtpWiring, WiredSecret, Wiring,
};
use cartgate::workers::Registry;
use url::Url;

use crate::support::eventually;

/// The Standard Webhooks specification's test secret.
const HOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SMTP_USER: &str = "cartgate-alerts";
const SMTP_PASSWORD: &str = "smtp-pa55word-never-shown";
/// Within this, an instant message is in both places.
const DELIVERY: Duration = Duration::from_secs(5);

struct Harness {
    app: RunningApp,
    smtp: SmtpServer,
    hooks: WebhookReceiver,
    /// Added to the wall clock to make the store's clock.
    offset: Arc<AtomicI64>,
    outbox: Outbox,
    merchant: MerchantId,
}

impl Harness {
    /// A cartgate running only the `deliver_alert` job, for one merchant with both channels,
    /// over a memory store on a clock the test moves.
    async fn start(digest: &str, retry_secs: u64) -> Self {
        Self::start_on(digest, retry_secs, false).await
    }

    /// The same over the test Redis (its clock is Redis's own: nothing to move).
    async fn start_on(digest: &str, retry_secs: u64, redis: bool) -> Self {
        let smtp = SmtpServer::start_with_login(SMTP_USER, SMTP_PASSWORD).await.unwrap();
        let hooks = WebhookReceiver::start().unwrap();
        let mut wiring =
            Wiring::new(if redis { cartgate::testkit::TestRedis::shared_url() } else { "memory://".into() });
        wiring.retry.schedule_secs = Some(vec![retry_secs]);
        wiring.server.public_url = Some(Url::parse("https://cartgate.example.com/").unwrap());
        wiring.alerts = Some(AlertsWiring {
            smtp: SmtpWiring {
                url: smtp.url(),
                from: "cartgate <alerts@cartgate.example.com>".into(),
                username: Some(WiredSecret::new(SMTP_USER)),
                password: Some(WiredSecret::new(SMTP_PASSWORD)),
            },
        });
        let merchant = MerchantId::parse("acme").unwrap();
        // The warehouse is never called: only alert deliveries run.
        let wms = Url::parse("http://127.0.0.1:9").unwrap();
        let mut m = MerchantWiring::easypost(merchant.clone(), wms, WiredSecret::new("EZAK-never-called"));
        // An empty `digest`: the merchant has no `[merchants.alerts]` (no channel).
        m.alerts = (!digest.is_empty()).then(|| MerchantAlertsWiring {
            email: vec!["ops@acme.example".into()],
            webhook: Some(AlertWebhookWiring { url: hooks.url().to_owned(), secret: WiredSecret::new(HOOK_SECRET) }),
            digest: digest.into(),
        });
        wiring.merchants.push(m);
        let offset = Arc::new(AtomicI64::new(0));
        let clock = offset.clone();
        let jobs = MemoryStore::with_clock(Arc::new(move || system_now() + clock.load(Ordering::SeqCst)));
        let settings = wiring.settings().unwrap();
        let store =
            if redis { Store::connect(&settings.store).unwrap() } else { Store::with_jobs(Arc::new(jobs), None) };
        let registry =
            |deps: &cartgate::workflows::Deps| Registry::new().with(JobKind::DeliverAlert, DeliveryHandler::new(deps));
        let app = app::spawn_on(settings, store, registry).await.unwrap();
        let outbox = cartgate::alerts::outbox(app.deps());
        Self { app, smtp, hooks, offset, outbox, merchant }
    }

    fn advance(&self, by: Duration) {
        self.offset.fetch_add(i64::try_from(by.as_millis()).unwrap(), Ordering::SeqCst);
    }

    async fn notify(&self, event: NoticeEvent, subject: &str, summary: &str) {
        self.outbox.notify(&self.merchant, notice(&self.merchant, event, subject, summary)).await.unwrap();
    }

    /// Waits until `mails` e-mails and `hooks` accepted webhooks arrived and the outbox is empty.
    async fn delivered(&self, mails: usize, hooks: usize) {
        let done = eventually(DELIVERY, || async {
            let outbox = self.app.deps().ledger.kv().hgetall("{m:acme}:alerts:outbox").await.unwrap();
            self.smtp.mails().len() >= mails && self.hooks.accepted().len() >= hooks && outbox.is_empty()
        })
        .await;
        assert!(
            done,
            "expected {mails} mails and {hooks} webhooks, got {} and {}",
            self.smtp.mails().len(),
            self.hooks.accepted().len()
        );
        assert_eq!((self.smtp.mails().len(), self.hooks.accepted().len()), (mails, hooks), "nothing more");
    }

    /// The one `deliver_alert` job of the merchant, if queued.
    async fn job(&self) -> Option<(JobState, Millis, u32)> {
        for id in self.outbox_job_ids().await {
            if let Some(info) = self.app.deps().jobs.job(&id).await.unwrap() {
                return Some((info.state, info.at, info.attempts));
            }
        }
        None
    }

    async fn outbox_job_ids(&self) -> Vec<cartgate::store::JobId> {
        let fields = self.app.deps().ledger.kv().hgetall("{m:acme}:alerts:outbox").await.unwrap();
        let msgs = fields.iter().filter_map(|(f, _)| f.split('/').next().map(str::to_owned));
        msgs.map(|m| cartgate::store::JobId::parse(&format!("deliver_alert:acme:{m}")).unwrap()).collect()
    }
}

fn notice(merchant: &MerchantId, event: NoticeEvent, subject: &str, summary: &str) -> Notice {
    let state = if event == NoticeEvent::Opened { AlertState::Open } else { AlertState::Resolved };
    Notice {
        event,
        alert: Alert {
            id: format!("alr_{}", subject.replace(':', "_")),
            merchant: merchant.clone(),
            kind: AlertKind::OrderError,
            subject: subject.into(),
            summary: summary.into(),
            state,
            count: 51,
            orders: vec!["acme-tg:5706".into(), "acme-tg:5707".into()],
            opened_at: "2026-12-03T06:00:00.000Z".into(),
            last_seen_at: "2026-12-03T06:05:00.000Z".into(),
            resolved_at: (event == NoticeEvent::Resolved).then(|| "2026-12-03T06:10:00.000Z".into()),
            acked_at: None,
        },
    }
}

/// The webhook verifies with the reference algorithm (ours and the reference library); its body.
fn verified(hook: &ReceivedHook) -> serde_json::Value {
    let id = hook.header("webhook-id").unwrap();
    let ts: i64 = hook.header("webhook-timestamp").unwrap().parse().unwrap();
    let sig = hook.header("webhook-signature").unwrap();
    sign::verify(HOOK_SECRET, id, ts, &hook.body, sig, system_now() / 1000).unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        headers.insert(name, hook.header(name).unwrap().parse().unwrap());
    }
    let reference = standardwebhooks::Webhook::new(HOOK_SECRET).unwrap();
    reference.verify(&hook.body, &headers).expect("verifies with the reference library");
    serde_json::from_slice(&hook.body).unwrap()
}

/// No secret of the configuration is in anything sent.
fn no_secret(text: &str) {
    for secret in [HOOK_SECRET, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SMTP_PASSWORD, "EZAK-never-called"] {
        assert!(!text.contains(secret), "a secret was sent: {text}");
    }
}

/// Everything logged on this test's thread (the runtime's only thread: the app's tasks too).
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(self.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn mail_is_multipart_with_id(mail: &ReceivedMail, webhook_id: &str) {
    assert!(mail.header("content-type").unwrap().starts_with("multipart/alternative"), "{}", mail.data);
    assert!(mail.data.contains("text/plain") && mail.data.contains("text/html"), "{}", mail.data);
    assert_eq!(mail.header("message-id").unwrap(), format!("<{webhook_id}@cartgate.example.com>"));
    assert_eq!(mail.to, ["ops@acme.example"]);
    no_secret(&mail.joined());
}

#[tokio::test]
async fn instant_notices_send_one_mail_and_one_signed_webhook_each() {
    let h = Harness::start("instant", 1).await;
    h.notify(NoticeEvent::Opened, "unknown_sku:WIDGET-9", "51 orders wait for SKU WIDGET-9").await;
    h.delivered(1, 1).await;
    let (mail, hook) = (&h.smtp.mails()[0], &h.hooks.accepted()[0]);
    let body = verified(hook);
    assert_eq!(body["type"], "alert.opened");
    assert_eq!(body["data"]["alert"]["count"], 51);
    no_secret(&String::from_utf8_lossy(&hook.body));
    assert_eq!(mail.header("subject").unwrap(), "[cartgate] acme: 51 orders wait for SKU WIDGET-9");
    mail_is_multipart_with_id(mail, hook.header("webhook-id").unwrap());
    assert!(mail.joined().contains("https://cartgate.example.com/admin/carts/acme-tg/orders/5706"), "{}", mail.data);

    h.notify(NoticeEvent::Resolved, "unknown_sku:WIDGET-9", "51 orders wait for SKU WIDGET-9").await;
    h.delivered(2, 2).await;
    let resolved = &h.hooks.accepted()[1];
    assert_eq!(verified(resolved)["type"], "alert.resolved");
    assert_ne!(resolved.header("webhook-id"), hook.header("webhook-id"), "a new message");
    assert_eq!(
        h.smtp.mails()[1].header("subject").unwrap(),
        "[cartgate] acme: resolved: 51 orders wait for SKU WIDGET-9"
    );
    assert!(h.job().await.is_none(), "nothing left queued");
}

#[tokio::test]
async fn a_merchant_without_channels_gets_nothing_queued() {
    let h = Harness::start("", 1).await;
    h.notify(NoticeEvent::Opened, "unknown_sku:WIDGET-9", "51 orders wait for SKU WIDGET-9").await;
    let outbox = h.app.deps().ledger.kv().hgetall("{m:acme}:alerts:outbox").await.unwrap();
    assert!(outbox.is_empty(), "dropped: {outbox:?}");
    assert_eq!(h.app.deps().jobs.depths().await.unwrap().due, 0);
}

#[tokio::test]
async fn the_outbox_and_its_markers_work_on_redis_too() {
    let h = Harness::start_on("instant", 1, true).await;
    h.notify(NoticeEvent::Opened, "unknown_sku:WIDGET-9", "51 orders wait for SKU WIDGET-9").await;
    h.delivered(1, 1).await;
    h.notify(NoticeEvent::Resolved, "unknown_sku:WIDGET-9", "51 orders wait for SKU WIDGET-9").await;
    h.delivered(2, 2).await;
    let ids: Vec<_> = h.hooks.accepted().iter().map(|hook| verified(hook)["type"].clone()).collect();
    assert_eq!(ids, ["alert.opened", "alert.resolved"]);
    let sent = h.app.deps().ledger.kv().hgetall("{m:acme}:alerts:sent").await.unwrap();
    assert!(sent.is_empty(), "delivered messages leave no markers: {sent:?}");
}

#[tokio::test]
async fn a_receiver_down_for_30_s_gets_the_message_later_with_the_same_id_and_no_second_mail() {
    let logs = Logs::default();
    let _capture = logs.capture();
    let h = Harness::start("instant", 30).await;
    h.hooks.set_mode(ReceiverMode::Down);
    h.notify(NoticeEvent::Opened, "unknown_sku:WIDGET-9", "51 orders wait for SKU WIDGET-9").await;
    let tried = eventually(DELIVERY, || async { h.smtp.mails().len() == 1 && !h.hooks.hooks().is_empty() }).await;
    assert!(tried, "the mail went out and the webhook was tried");
    let retrying = eventually(DELIVERY, || async { matches!(h.job().await, Some((JobState::Due, _, 1))) }).await;
    assert!(retrying, "the job waits for its retry: {:?}", h.job().await);
    let (_, at, _) = h.job().await.unwrap();
    assert!(at > system_now() + 20_000, "the retry is about 30 s away on the store clock");

    // 30 s pass (on the store's clock) while the receiver is down; then it is back.
    h.advance(Duration::from_secs(45));
    let again = eventually(DELIVERY, || async { matches!(h.job().await, Some((JobState::Due, _, 2))) }).await;
    assert!(again && h.hooks.hooks().len() == 2, "retried once the backoff passed: {:?}", h.job().await);
    h.hooks.set_mode(ReceiverMode::Up);
    h.advance(Duration::from_secs(45));
    h.delivered(1, 1).await;
    let all = h.hooks.hooks();
    let first = all[0].header("webhook-id").unwrap();
    assert!(all.iter().all(|hook| hook.header("webhook-id") == Some(first)), "one message id on every attempt");
    assert_eq!(verified(all.last().unwrap())["type"], "alert.opened");
    mail_is_multipart_with_id(&h.smtp.mails()[0], first);
    let metrics = reqwest::get(format!("{}/metrics", h.app.url())).await.unwrap().text().await.unwrap();
    let counted = |channel: &str, outcome: &str| {
        metrics.lines().any(|l| {
            l.starts_with("cartgate_alert_deliveries_total{")
                && l.contains(&format!("channel=\"{channel}\""))
                && l.contains(&format!("outcome=\"{outcome}\""))
        })
    };
    assert!(counted("webhook", "retry") && counted("webhook", "sent") && counted("email", "sent"), "{metrics}");
    let logged = logs.text();
    assert!(logged.contains("alert message not delivered") && logged.contains("503"), "{logged}");
    no_secret(&logged);
}

#[tokio::test]
async fn a_mail_server_that_refuses_for_a_while_gets_the_mail_later_and_the_webhook_goes_once() {
    let h = Harness::start("instant", 30).await;
    h.smtp.set_down(true);
    h.notify(NoticeEvent::Opened, "unknown_sku:WIDGET-9", "51 orders wait for SKU WIDGET-9").await;
    let retrying = eventually(DELIVERY, || async { matches!(h.job().await, Some((JobState::Due, _, 1))) }).await;
    assert!(retrying && h.hooks.accepted().len() == 1 && h.smtp.mails().is_empty(), "{:?}", h.job().await);
    h.smtp.set_down(false);
    h.advance(Duration::from_secs(45));
    h.delivered(1, 1).await;
    mail_is_multipart_with_id(&h.smtp.mails()[0], h.hooks.accepted()[0].header("webhook-id").unwrap());
}

#[tokio::test]
async fn a_digest_period_sends_one_message_for_three_notices() {
    let h = Harness::start("1h", 1).await;
    // One minute into an hour of the store's clock, so the three notices share a period.
    let now = system_now();
    h.advance(Duration::from_millis(u64::try_from((now / 3_600_000 + 1) * 3_600_000 + 60_000 - now).unwrap()));
    h.notify(NoticeEvent::Opened, "unknown_sku:WIDGET-9", "51 orders wait for SKU WIDGET-9").await;
    h.notify(NoticeEvent::Opened, "unmapped_method:Express", "3 orders wait for a ship method mapping").await;
    h.notify(NoticeEvent::Opened, "acme-tg", "The cart refused our credentials").await;
    let (state, at, _) = h.job().await.expect("one digest job");
    assert_eq!(state, JobState::Due);
    assert_eq!(at % 3_600_000, 0, "at the period's end");
    assert!(h.smtp.mails().is_empty() && h.hooks.hooks().is_empty(), "nothing before the period ends");
    let stored = h.app.deps().ledger.kv().hgetall("{m:acme}:alerts:outbox").await.unwrap();
    assert_eq!(stored.len(), 3);
    stored.iter().for_each(|(_, entry)| no_secret(entry));

    let store_now = h.app.deps().jobs.now().await.unwrap();
    h.advance(Duration::from_millis(u64::try_from(at - store_now).unwrap() + 1_000));
    h.delivered(1, 1).await;
    let body = verified(&h.hooks.accepted()[0]);
    assert_eq!(body["type"], "alert.digest");
    assert_eq!(body["data"]["notices"].as_array().unwrap().len(), 3);
    let mail = &h.smtp.mails()[0];
    assert_eq!(mail.header("subject").unwrap(), "[cartgate] acme: 3 alerts opened, 0 resolved");
    mail_is_multipart_with_id(mail, h.hooks.accepted()[0].header("webhook-id").unwrap());
}
