//! Webhook intake: signatures over raw bytes, dedupe, durable enqueue, and every refusal.

use cartgate::store::{JobId, JobState};
use cartgate::testkit::TestRedis;
use serde_json::Value;

use cartgate::domain::{CartId, MerchantId};
use cartgate::testkit::wiring::{CartWiring, MerchantWiring, WiredSecret, Wiring};

use crate::support::{TestApp, base, spawn_app_with};

const TG_BODY: &[u8] = include_bytes!("../data/tradegecko-webhook-order-create.json");
const TG_SIGNATURE: &str = "CBMB3+xgjh4KhOp3BP71zNFhbkYppaE4KFYEHubFwCw=";
const EP_BODY: &[u8] = include_bytes!("../data/easypost-tracker-updated-event.json");
const EP_SIGNATURE: &str = "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db";

/// One merchant (`acme`, production mode, the official EasyPost vector's secret) with one cart
/// (`acme-tg`, signed with the documented test secret) whose API host is `tg_base`; workers off.
fn wiring(store_url: &str, tg_base: &str) -> Wiring {
    let mut wiring = base(store_url);
    wiring.workers.enabled = Some(false);
    let wms_url = "http://127.0.0.1:9".parse().unwrap();
    let mut merchant =
        MerchantWiring::easypost(MerchantId::parse("acme").unwrap(), wms_url, WiredSecret::new("EZAK-test"));
    merchant.wms.webhook_secret = Some(WiredSecret::new("s\u{e9}cret"));
    let (token, secret) = (WiredSecret::new("tg-token"), WiredSecret::new("tg-client-secret"));
    let mut cart = CartWiring::tradegecko(CartId::parse("acme-tg").unwrap(), tg_base.parse().unwrap(), token, secret);
    cart.client_secret_previous = Some(WiredSecret::new("tg-old-secret"));
    cart.stock_location_id = Some(1);
    merchant.carts.push(cart);
    wiring.merchants.push(merchant);
    wiring
}

async fn spawn(store_url: &str) -> TestApp {
    spawn_app_with(&wiring(store_url, "https://api.tradegecko.com")).await
}

impl TestApp {
    async fn post_tg(
        &self,
        cart: &str,
        body: &[u8],
        signature: Option<&str>,
        delivery: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url(&format!("/webhooks/tradegecko/{cart}")))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(s) = signature {
            req = req.header("X-Gecko-Signature", s);
        }
        if let Some(d) = delivery {
            req = req.header("X-Gecko-Delivery", d);
        }
        req.send().await.unwrap()
    }

    async fn post_ep(&self, merchant: &str, body: &[u8], signature: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/webhooks/easypost/{merchant}")))
            .header("content-type", "application/json")
            .header("X-Hmac-Signature", signature)
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
    }

    async fn job_state(&self, id: &str) -> Option<JobState> {
        let id = JobId::parse(id).unwrap();
        retry_while_reconnecting(|| self.store.jobs().job(&id)).await.map(|j| j.state)
    }

    async fn due(&self) -> u64 {
        retry_while_reconnecting(|| self.store.jobs().depths()).await.due
    }
}

/// The test's own store connection fails its first command after a Redis restart (it fails
/// fast by design, then reconnects); the webhooks went over the HTTP workers' connections.
async fn retry_while_reconnecting<T, F, Fut>(call: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, cartgate::store::StoreError>>,
{
    for _ in 0..20 {
        if let Ok(v) = call().await {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    call().await.unwrap()
}

async fn status_of(resp: reqwest::Response) -> (u16, Value) {
    let code = resp.status().as_u16();
    (code, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_tradegecko_body_signed_per_the_docs_is_accepted_and_enqueues_its_import() {
    let app = spawn("memory://").await;
    let (code, body) = status_of(app.post_tg("acme-tg", TG_BODY, Some(TG_SIGNATURE), Some("d-1")).await).await;
    assert_eq!((code, body["status"].as_str()), (200, Some("accepted")));
    assert_eq!(app.job_state("import_order:acme-tg:5706").await, Some(JobState::Due));
}

#[tokio::test]
async fn the_same_body_with_one_byte_changed_or_no_signature_is_401_and_enqueues_nothing() {
    let app = spawn("memory://").await;
    let mut changed = TG_BODY.to_vec();
    changed[25] ^= 0x01;
    for (body, sig) in [(&changed[..], Some(TG_SIGNATURE)), (TG_BODY, None), (TG_BODY, Some("bm9wZQ=="))] {
        let resp = app.post_tg("acme-tg", body, sig, Some("d-1")).await;
        assert_eq!(resp.status(), 401);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
        assert!(!body.to_string().contains("mismatch"), "the reason must stay in the log: {body}");
    }
    assert_eq!(app.due().await, 0);
}

#[tokio::test]
async fn the_previous_client_secret_is_accepted_during_rotation() {
    let app = spawn("memory://").await;
    let sig = cartgate::signature::tradegecko_sign("tg-old-secret", TG_BODY);
    assert_eq!(app.post_tg("acme-tg", TG_BODY, Some(&sig), Some("d-r")).await.status(), 200);
}

#[tokio::test]
async fn the_same_delivery_twice_makes_one_job() {
    let app = spawn(&TestRedis::shared_url()).await;
    let (_, first) = status_of(app.post_tg("acme-tg", TG_BODY, Some(TG_SIGNATURE), Some("d-1")).await).await;
    let (code, second) = status_of(app.post_tg("acme-tg", TG_BODY, Some(TG_SIGNATURE), Some("d-1")).await).await;
    assert_eq!(first["status"], "accepted");
    assert_eq!((code, second["status"].as_str()), (200, Some("duplicate")));
    // Without a delivery id the event, object and timestamp are the dedupe key.
    let (_, a) = status_of(app.post_tg("acme-tg", TG_BODY, Some(TG_SIGNATURE), None).await).await;
    let (_, b) = status_of(app.post_tg("acme-tg", TG_BODY, Some(TG_SIGNATURE), None).await).await;
    assert_eq!((a["status"].as_str(), b["status"].as_str()), (Some("accepted"), Some("duplicate")));
    assert_eq!(app.due().await, 1, "one job per order, whatever the deliveries");
}

#[tokio::test]
async fn the_official_easypost_vector_is_accepted_and_its_negative_variants_are_401() {
    let app = spawn(&TestRedis::shared_url()).await;
    let unnormalised = "hmac-sha256-hex=7f1669d6699d0b937cc1e69402423bdd2be0a8bcf571d34a8116765f1741219b";
    assert_eq!(app.post_ep("acme", EP_BODY, unnormalised).await.status(), 401);
    // The same body with a trailing newline MACs to 044558…: a receiver that re-serialised or
    // trimmed would disagree with the sender either way.
    let mut with_newline = EP_BODY.to_vec();
    with_newline.push(b'\n');
    let newline_sig = "hmac-sha256-hex=044558adfe9c4781bc7c72cd65c57c7185673ac9c03669d3a493caafaff2ef44";
    assert_eq!(app.post_ep("acme", &with_newline, EP_SIGNATURE).await.status(), 401);
    assert_eq!(app.post_ep("acme", EP_BODY, newline_sig).await.status(), 401);
    assert_eq!(app.due().await, 0);

    let (code, body) = status_of(app.post_ep("acme", EP_BODY, EP_SIGNATURE).await).await;
    assert_eq!((code, body["status"].as_str()), (200, Some("accepted")));
    assert_eq!(app.job_state("tracker_event:acme:evt_1").await, Some(JobState::Due));
    let (_, again) = status_of(app.post_ep("acme", EP_BODY, EP_SIGNATURE).await).await;
    assert_eq!(again["status"], "duplicate");
}

#[tokio::test]
async fn an_easypost_event_for_the_other_mode_is_accepted_and_ignored() {
    let app = spawn("memory://").await;
    let body = br#"{"id":"evt_t","object":"Event","mode":"test","description":"tracker.updated","result":{"id":"trk_1","tracking_code":"1","status":"delivered"}}"#;
    let sig = cartgate::signature::easypost_sign("s\u{e9}cret", body);
    let (code, resp) = status_of(app.post_ep("acme", body, &sig).await).await;
    assert_eq!((code, resp["status"].as_str(), resp["reason"].as_str()), (200, Some("ignored"), Some("other_mode")));
    assert_eq!(app.due().await, 0);
}

#[tokio::test]
async fn a_fulfillment_order_event_enqueues_a_shipment_check() {
    let app = spawn("memory://").await;
    let body = br#"{"id":"evt_o","object":"Event","mode":"production","description":"fulfillment.order.updated","result":{"id":"order_42","picks":[]}}"#;
    let sig = cartgate::signature::easypost_sign("s\u{e9}cret", body);
    assert_eq!(app.post_ep("acme", body, &sig).await.status(), 200);
    assert_eq!(app.job_state("check_shipment:acme:order_42").await, Some(JobState::Due));
}

#[tokio::test]
async fn a_resource_url_on_another_host_or_for_another_resource_is_400_and_nothing_is_fetched() {
    let cart_api = wiremock::MockServer::start().await;
    let elsewhere = wiremock::MockServer::start().await;
    let app = spawn_app_with(&wiring("memory://", &cart_api.uri())).await;
    let urls = [format!("{}/orders/5", elsewhere.uri()), format!("{}/orders/6", cart_api.uri())];
    for url in urls {
        let body = format!(r#"{{"object_id":5,"event":"order.create","timestamp":1,"resource_url":"{url}"}}"#);
        let sig = cartgate::signature::tradegecko_sign("tg-client-secret", body.as_bytes());
        let (code, resp) = status_of(app.post_tg("acme-tg", body.as_bytes(), Some(&sig), Some(&url)).await).await;
        assert_eq!((code, resp["error"]["code"].as_str()), (400, Some("bad_request")), "{url}");
    }
    assert_eq!(app.due().await, 0);
    assert!(cart_api.received_requests().await.unwrap().is_empty());
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn unknown_carts_and_merchants_are_404() {
    let app = spawn("memory://").await;
    let (code, body) = status_of(app.post_tg("nobody", TG_BODY, Some(TG_SIGNATURE), None).await).await;
    assert_eq!((code, body["error"]["code"].as_str()), (404, Some("not_found")));
    assert_eq!(app.post_ep("nobody", EP_BODY, EP_SIGNATURE).await.status(), 404);
}

#[tokio::test]
async fn oversized_bodies_are_413_and_other_content_types_415() {
    let app = spawn("memory://").await;
    let big = vec![b' '; 5000];
    let (code, body) = status_of(app.post_tg("acme-tg", &big, Some(TG_SIGNATURE), None).await).await;
    assert_eq!((code, body["error"]["code"].as_str()), (413, Some("payload_too_large")));
    let resp = app
        .client
        .post(app.url("/webhooks/tradegecko/acme-tg"))
        .header("content-type", "text/plain")
        .header("X-Gecko-Signature", TG_SIGNATURE)
        .body(TG_BODY.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
}

#[tokio::test]
async fn a_validly_signed_malformed_payload_is_400() {
    let app = spawn("memory://").await;
    for body in [&b"{not json"[..], br#"{"event":"order.create"}"#] {
        let sig = cartgate::signature::tradegecko_sign("tg-client-secret", body);
        let (code, resp) = status_of(app.post_tg("acme-tg", body, Some(&sig), None).await).await;
        assert_eq!((code, resp["error"]["code"].as_str()), (400, Some("bad_request")));
    }
}

#[tokio::test]
async fn unknown_events_are_200_and_counted_not_errors() {
    let app = spawn("memory://").await;
    let body = br#"{"object_id":9,"event":"invoice.create","timestamp":1,"resource_url":"https://api.tradegecko.com/invoices/9"}"#;
    let sig = cartgate::signature::tradegecko_sign("tg-client-secret", body);
    let (code, resp) = status_of(app.post_tg("acme-tg", body, Some(&sig), None).await).await;
    assert_eq!((code, resp["reason"].as_str()), (200, Some("unknown_event")));
    assert_eq!(app.due().await, 0);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains(r#"cartgate_webhooks_total{provider="tradegecko",result="unknown_event"}"#));
}

#[tokio::test]
async fn store_down_gives_503_and_no_job_then_the_redelivery_is_accepted() {
    let mut redis = TestRedis::start(false, None).unwrap();
    let app = spawn(redis.url()).await;
    redis.stop();
    let resp = app.post_tg("acme-tg", TG_BODY, Some(TG_SIGNATURE), Some("d-outage")).await;
    assert_eq!(resp.status(), 503);
    assert!(resp.headers().contains_key("retry-after"));
    redis.restart().unwrap();
    let mut accepted = None;
    for _ in 0..50 {
        let resp = app.post_tg("acme-tg", TG_BODY, Some(TG_SIGNATURE), Some("d-outage")).await;
        if resp.status() == 200 {
            accepted = Some(resp.json::<Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(accepted.expect("accepted once the store is back")["status"], "accepted");
    assert_eq!(app.job_state("import_order:acme-tg:5706").await, Some(JobState::Due));
    assert_eq!(app.due().await, 1, "exactly the redelivered job");
}
