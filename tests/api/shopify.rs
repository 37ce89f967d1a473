//! Shopify webhooks (issue 24): the documented signature vector, rotation, another shop's
//! deliveries, dedupe, each topic's effect, and the compliance erasure down to every Redis value.

use cartgate::domain::{CartId, MerchantId};
use cartgate::settings::{CartAuth, CartKind, ItemField};
use cartgate::store::{JobId, JobState};
use cartgate::testkit::wiring::{AppsWiring, CartWiring, MerchantWiring, ShopifyAppWiring, WiredSecret, Wiring};
use serde_json::Value;
use url::Url;

use crate::support::{ADMIN_TOKEN, TestApp, base, spawn_app_with};

/// Shopify's documented example, signed with `hush`.
const BODY: &[u8] = br##"{"id":820982911946154508,"name":"#9999"}"##;
const SIGNATURE: &str = "YBwnJ9vsibq7srObgXybmGHWuwos+jDEL//7749XS78=";
pub const SHOP: &str = "acme.myshopify.com";

/// A Shopify cart `id` for `shop` at `base_url` (a token cart until the caller changes `auth`).
pub fn shopify_cart(id: &str, shop: &str, base_url: Url) -> CartWiring {
    let mut cart = CartWiring::tradegecko(
        CartId::parse(id).unwrap(),
        base_url,
        WiredSecret::new("shpat_x"),
        WiredSecret::new("-"),
    );
    cart.kind = CartKind::Shopify;
    cart.shop = Some(shop.to_owned());
    cart.location_id = Some("gid://shopify/Location/1".into());
    cart.item_field = ItemField::Sku;
    cart
}

/// Merchant `acme` with an OAuth Shopify cart `acme-shop` (app secret `hush`), a custom-app
/// token cart `acme-custom` with its own secrets, and a TradeGecko cart `acme-tg`; workers off.
pub fn wiring(store_url: &str, shop_base: Url) -> Wiring {
    let mut wiring = base(store_url);
    wiring.workers.enabled = Some(false);
    wiring.tenants.keys =
        vec![WiredSecret::new(secrecy::ExposeSecret::expose_secret(&cartgate::tenants::generate_key()))];
    let port = cartgate::testkit::free_port().unwrap();
    wiring.server.bind.set_port(port);
    wiring.server.public_url = Some(format!("http://127.0.0.1:{port}").parse().unwrap());
    let app = ShopifyAppWiring { client_id: "shopify-client".into(), client_secret: WiredSecret::new("hush") };
    wiring.apps = Some(AppsWiring { tradegecko: None, shopify: Some(app) });
    let nowhere: Url = "http://127.0.0.1:9".parse().unwrap();
    let mut merchant =
        MerchantWiring::easypost(MerchantId::parse("acme").unwrap(), nowhere.clone(), WiredSecret::new("EZAK-acme"));
    let mut oauth = shopify_cart("acme-shop", SHOP, shop_base);
    (oauth.auth, oauth.access_token, oauth.client_secret) = (Some(CartAuth::Oauth), None, None);
    merchant.carts.push(oauth);
    let mut custom = shopify_cart("acme-custom", "custom.myshopify.com", nowhere.clone());
    custom.client_secret = Some(WiredSecret::new("custom-secret"));
    custom.client_secret_previous = Some(WiredSecret::new("custom-old"));
    merchant.carts.push(custom);
    let mut tg = CartWiring::tradegecko(
        CartId::parse("acme-tg").unwrap(),
        nowhere,
        WiredSecret::new("tg"),
        WiredSecret::new("hush"),
    );
    tg.stock_location_id = Some(1);
    merchant.carts.push(tg);
    wiring.merchants.push(merchant);
    wiring
}

pub async fn spawn(store_url: &str) -> TestApp {
    spawn_app_with(&wiring(store_url, "http://127.0.0.1:9".parse().unwrap())).await
}

/// One delivery's headers.
pub struct Delivery<'a> {
    pub topic: &'a str,
    pub shop: &'a str,
    pub id: &'a str,
    pub hmac: Option<String>,
}

impl<'a> Delivery<'a> {
    pub fn new(topic: &'a str, id: &'a str) -> Self {
        Self { topic, shop: SHOP, id, hmac: None }
    }
}

impl TestApp {
    /// Posts `body` to the cart's Shopify webhook, signed with `hush` unless the delivery says.
    pub async fn post_shopify(&self, cart: &str, body: &[u8], d: Delivery<'_>) -> (u16, Value) {
        self.post_shopify_at(&format!("/webhooks/shopify/{cart}"), body, d).await
    }

    /// [`TestApp::post_shopify`] to any path (the app's own address, `/webhooks/shopify`).
    pub async fn post_shopify_at(&self, path: &str, body: &[u8], d: Delivery<'_>) -> (u16, Value) {
        let hmac = d.hmac.unwrap_or_else(|| cartgate::signature::shopify_sign("hush", body));
        let resp = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .header("X-Shopify-Hmac-Sha256", hmac)
            .header("X-Shopify-Shop-Domain", d.shop)
            .header("X-Shopify-Topic", d.topic)
            .header("X-Shopify-Webhook-Id", d.id)
            .header("X-Shopify-API-Version", "2026-10")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let code = resp.status().as_u16();
        (code, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn job_payload(&self, id: &str) -> Option<(JobState, Value)> {
        let job = self.store.jobs().job(&JobId::parse(id).unwrap()).await.unwrap()?;
        Some((job.state, job.payload))
    }

    pub async fn queued(&self) -> u64 {
        self.store.jobs().depths().await.unwrap().due
    }
}

const IMPORT: &str = "import_order:acme-shop:820982911946154508";

#[tokio::test]
async fn the_documented_signature_is_accepted_and_queues_the_import_of_that_exact_order() {
    let app = spawn("memory://").await;
    let d = Delivery { hmac: Some(SIGNATURE.into()), ..Delivery::new("orders/create", "w-1") };
    assert_eq!(app.post_shopify("acme-shop", BODY, d).await, (200, serde_json::json!({"status": "accepted"})));
    let (state, payload) = app.job_payload(IMPORT).await.unwrap();
    assert_eq!(state, JobState::Due);
    assert_eq!(payload["order_id"].as_u64(), Some(820_982_911_946_154_508));
    assert_eq!(payload["trigger"], "orders/create");
}

#[tokio::test]
async fn one_byte_changed_or_no_or_a_wrong_signature_is_401_and_queues_nothing() {
    let app = spawn("memory://").await;
    let mut changed = BODY.to_vec();
    changed[8] ^= 0x01;
    let cases: [(&[u8], Option<&str>); 3] = [(&changed, Some(SIGNATURE)), (BODY, Some("")), (BODY, Some("bm9wZQ=="))];
    for (body, sig) in cases {
        let d = Delivery { hmac: sig.map(str::to_owned), ..Delivery::new("orders/create", "w-1") };
        let (code, answer) = app.post_shopify("acme-shop", body, d).await;
        assert_eq!((code, answer["error"]["code"].as_str()), (401, Some("unauthorized")), "{answer}");
    }
    // The custom app's secret is not the app's, and the app's is not the custom cart's.
    let (code, _) = app.post_shopify("acme-custom", BODY, Delivery::new("orders/create", "w-2")).await;
    assert_eq!(code, 401);
    assert_eq!(app.queued().await, 0);
}

#[tokio::test]
async fn a_token_cart_takes_its_own_secret_and_the_previous_one_during_rotation() {
    let app = spawn("memory://").await;
    for (secret, id) in [("custom-secret", "w-1"), ("custom-old", "w-2")] {
        let d = Delivery {
            shop: "custom.myshopify.com",
            hmac: Some(cartgate::signature::shopify_sign(secret, BODY)),
            ..Delivery::new("orders/updated", id)
        };
        assert_eq!(app.post_shopify("acme-custom", BODY, d).await.0, 200, "{secret}");
    }
    assert!(app.job_payload("import_order:acme-custom:820982911946154508").await.is_some());
}

#[tokio::test]
async fn another_shops_delivery_is_401_and_queues_nothing() {
    let app = spawn("memory://").await;
    for shop in ["other.myshopify.com", "", "acme.myshopify.com.evil.test"] {
        let d = Delivery { shop, ..Delivery::new("orders/create", "w-1") };
        assert_eq!(app.post_shopify("acme-shop", BODY, d).await.0, 401, "{shop}");
    }
    let d = Delivery { shop: "ACME.myshopify.com", ..Delivery::new("orders/create", "w-2") };
    assert_eq!(app.post_shopify("acme-shop", BODY, d).await.0, 200, "the domain is compared case-insensitively");
    // A redact body naming another shop is refused even with the right header.
    let body = br#"{"shop_id":1,"shop_domain":"other.myshopify.com"}"#;
    assert_eq!(app.post_shopify("acme-shop", body, Delivery::new("shop/redact", "w-3")).await.0, 401);
    assert_eq!(app.queued().await, 1);
}

#[tokio::test]
async fn unknown_and_non_shopify_carts_are_404_and_bad_headers_or_bodies_400() {
    let app = spawn("memory://").await;
    assert_eq!(app.post_shopify("nope", BODY, Delivery::new("orders/create", "w-1")).await.0, 404);
    assert_eq!(app.post_shopify("acme-tg", BODY, Delivery::new("orders/create", "w-1")).await.0, 404);
    assert_eq!(app.post_shopify("acme-shop", BODY, Delivery::new("orders/create", "")).await.0, 400);
    let body = br#"{"id":"not a number"}"#;
    assert_eq!(app.post_shopify("acme-shop", body, Delivery::new("orders/create", "w-2")).await.0, 400);
    assert_eq!(app.queued().await, 0);
}

#[tokio::test]
async fn the_same_webhook_id_twice_is_one_job_and_answers_duplicate() {
    let app = spawn(&cartgate::testkit::TestRedis::shared_url()).await;
    let first = app.post_shopify("acme-shop", BODY, Delivery::new("orders/create", "w-1")).await;
    let again = app.post_shopify("acme-shop", BODY, Delivery::new("orders/create", "w-1")).await;
    assert_eq!(first.1["status"], "accepted");
    assert_eq!(again, (200, serde_json::json!({"status": "duplicate"})));
    assert_eq!(app.queued().await, 1);
}

#[tokio::test]
async fn updates_and_cancellations_import_the_order_and_unknown_topics_are_ignored() {
    let app = spawn("memory://").await;
    for (topic, id) in [("orders/updated", "w-1"), ("orders/cancelled", "w-2")] {
        assert_eq!(app.post_shopify("acme-shop", BODY, Delivery::new(topic, id)).await.0, 200);
    }
    let (_, payload) = app.job_payload(IMPORT).await.unwrap();
    assert_eq!(payload["trigger"], "orders/updated", "one import job per order; it reads cancelledAt itself");
    let cancelled = br#"{"id":450789469,"cancelled_at":"2026-12-03T09:00:00-05:00","cancel_reason":"customer"}"#;
    assert_eq!(app.post_shopify("acme-shop", cancelled, Delivery::new("orders/cancelled", "w-4")).await.0, 200);
    let (_, payload) = app.job_payload("import_order:acme-shop:450789469").await.unwrap();
    assert_eq!(payload["trigger"], "orders/cancelled");
    let (code, answer) = app.post_shopify("acme-shop", BODY, Delivery::new("products/update", "w-3")).await;
    assert_eq!((code, answer["status"].as_str()), (200, Some("ignored")));
    assert_eq!(app.queued().await, 2);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for result in ["accepted", "unknown_topic"] {
        let line = format!(r#"cartgate_webhooks_total{{provider="shopify",result="{result}"}}"#);
        assert!(metrics.contains(&line), "{line} missing");
    }
}

#[tokio::test]
async fn a_data_request_is_answered_200_and_queues_nothing() {
    let app = spawn("memory://").await;
    let body = br#"{"shop_id":1,"shop_domain":"acme.myshopify.com","orders_requested":[299938],
        "customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"},"data_request":{"id":9999}}"#;
    let (code, _) = app.post_shopify("acme-shop", body, Delivery::new("customers/data_request", "w-1")).await;
    assert_eq!(code, 200);
    assert_eq!(app.queued().await, 0);
}

#[tokio::test]
async fn app_uninstalled_disconnects_the_oauth_cart_and_alerts_for_both_kinds_of_cart() {
    let app = spawn("memory://").await;
    let body = br#"{"id":1,"name":"Acme","domain":"acme.myshopify.com"}"#;
    for _ in 0..2 {
        assert_eq!(app.post_shopify("acme-shop", body, Delivery::new("app/uninstalled", "w-1")).await.0, 200);
    }
    let cart: Value = app.admin_get("/admin/merchants/acme/carts/acme-shop").await.json().await.unwrap();
    assert_eq!(cart["connection"]["status"], "disconnected", "{cart}");
    assert_eq!(cart["connection"]["reason"], cartgate::oauth::UNINSTALLED);
    let d = Delivery {
        shop: "custom.myshopify.com",
        hmac: Some(cartgate::signature::shopify_sign("custom-secret", body)),
        ..Delivery::new("app/uninstalled", "w-2")
    };
    assert_eq!(app.post_shopify("acme-custom", body, d).await.0, 200);
    let alerts: Value = app
        .client
        .get(app.url("/admin/merchants/acme/alerts?state=open"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut subjects: Vec<(&str, &str)> = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["kind"].as_str().unwrap(), a["subject"].as_str().unwrap()))
        .collect();
    subjects.sort();
    assert_eq!(subjects, [("cart_disconnected", "acme-custom"), ("cart_disconnected", "acme-shop")]);
}

#[tokio::test]
async fn the_apps_compliance_address_routes_a_delivery_to_the_cart_of_its_shop() {
    let app = spawn("memory://").await;
    let body = br#"{"shop_id":1,"shop_domain":"acme.myshopify.com","orders_to_redact":[820982911946154508],
        "customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"}}"#;
    let at = |id| Delivery::new("customers/redact", id);
    assert_eq!(
        app.post_shopify_at("/webhooks/shopify", body, at("w-1")).await,
        (200, serde_json::json!({"status": "accepted"}))
    );
    assert_eq!(app.queued().await, 1, "the erasure of acme-shop's customer is queued");
    assert_eq!(app.post_shopify_at("/webhooks/shopify", body, at("w-1")).await.1["status"], "duplicate");

    // Signed by anything but the app's secret: 401, nothing queued (a token cart's own secret
    // signs only its own subscriptions).
    let forged = Delivery { hmac: Some(cartgate::signature::shopify_sign("custom-secret", body)), ..at("w-2") };
    assert_eq!(app.post_shopify_at("/webhooks/shopify", body, forged).await.0, 401);
    // A shop no cart has: nothing to erase.
    let gone = br#"{"shop_id":2,"shop_domain":"gone.myshopify.com"}"#;
    let d = Delivery { shop: "gone.myshopify.com", ..Delivery::new("shop/redact", "w-3") };
    assert_eq!(app.post_shopify_at("/webhooks/shopify", gone, d).await.1["status"], "ignored");
    assert_eq!(app.queued().await, 1);
}
