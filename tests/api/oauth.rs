//! OAuth Connect (issue 20): the authorize URL, the callback's single-use `state`, denial,
//! token carts, and tokens sealed at rest. The TradeGecko simulator is the authorization server.

use std::time::Duration;

use cartgate::domain::{CartId, MerchantId};
use cartgate::ledger::PendingConnect;
use cartgate::sim::tradegecko::OAuthPatch;
use cartgate::testkit::TestRedis;
use cartgate::testkit::sims::{SimOptions, Sims};
use cartgate::testkit::wiring::{AppsWiring, CartWiring, MerchantWiring, WiredSecret, Wiring};
use reqwest::redirect::Policy;
use serde_json::Value;
use url::Url;

use crate::support::{ADMIN_TOKEN, TestApp, base, spawn_app_with};

/// Merchant `acme` with an OAuth cart `acme-tg` and a token cart `acme-fixed`, both on the
/// simulator; workers off (nothing but the routes under test runs).
fn wiring(store_url: &str, sims: &Sims) -> Wiring {
    let mut wiring = base(store_url);
    wiring.server.max_body_bytes = None;
    wiring.workers.enabled = Some(false);
    let port = cartgate::testkit::free_port().unwrap();
    wiring.server.bind.set_port(port);
    wiring.server.public_url = Some(format!("http://127.0.0.1:{port}").parse().unwrap());
    wiring.apps = Some(AppsWiring { tradegecko: Some(sims.app_wiring().unwrap()), shopify: None });
    let nowhere: Url = "http://127.0.0.1:9".parse().unwrap();
    let mut merchant =
        MerchantWiring::easypost(MerchantId::parse("acme").unwrap(), nowhere, WiredSecret::new("EZAK-acme"));
    let tg: Url = sims.tg.url().parse().unwrap();
    merchant.carts.push(CartWiring::oauth(CartId::parse("acme-tg").unwrap(), tg.clone()));
    let fixed = CartWiring::tradegecko(
        CartId::parse("acme-fixed").unwrap(),
        tg,
        WiredSecret::new(sims.tg.token()),
        WiredSecret::new(sims.tg.client_secret()),
    );
    merchant.carts.push(fixed);
    wiring.merchants.push(merchant);
    wiring
}

async fn setup() -> (Sims, TestApp) {
    let sims = Sims::start(&SimOptions::default()).await.unwrap();
    let app = spawn_app_with(&wiring("memory://", &sims)).await;
    (sims, app)
}

impl TestApp {
    async fn connect(&self, cart: &str) -> (u16, Value) {
        let resp = self
            .client
            .post(self.url(&format!("/admin/carts/{cart}/connect")))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn connection(&self, cart: &str) -> Value {
        let cart: Value = self.admin_get(&format!("/admin/merchants/acme/carts/{cart}")).await.json().await.unwrap();
        cart["connection"].clone()
    }
}

/// Where the simulator sends the browser back (the authorize URL's 302, not followed).
async fn callback_location(authorize_url: &str) -> String {
    let client = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let resp = client.get(authorize_url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    resp.headers()["location"].to_str().unwrap().to_owned()
}

async fn get(url: &str) -> (u16, String, String) {
    let resp = reqwest::get(url).await.unwrap();
    let cache = resp.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (resp.status().as_u16(), cache, resp.text().await.unwrap())
}

#[tokio::test]
async fn connect_answers_the_authorize_url_and_the_callback_connects_the_cart_once() {
    let (sims, app) = setup().await;
    assert_eq!(app.connection("acme-tg").await["status"], "disconnected", "not connected yet");
    let (status, body) = app.connect("acme-tg").await;
    assert_eq!(status, 200, "{body}");
    let url = Url::parse(body["authorize_url"].as_str().unwrap()).unwrap();
    assert!(url.as_str().starts_with(&sims.cart_app().authorize_url), "{url}");
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], sims.cart_app().client_id);
    assert_eq!(q["redirect_uri"], app.url("/oauth/tradegecko/callback"));
    assert!(q["state"].len() >= 22, "at least 128 bits: {}", q["state"]);

    let back = callback_location(url.as_str()).await;
    let (status, cache, page) = get(&back).await;
    assert_eq!((status, cache.as_str()), (200, "no-store"), "{page}");
    assert!(page.contains("connected"), "{page}");
    let connection = app.connection("acme-tg").await;
    assert_eq!(connection["status"], "connected", "{connection}");
    assert!(connection["expires_at"].is_string(), "{connection}");
    assert_eq!(sims.tg.oauth_stats().codes_exchanged, 1);

    let (status, _, _) = get(&back).await;
    assert_eq!(status, 400, "a used state is refused");
    assert_eq!(sims.tg.oauth_stats().codes_exchanged, 1, "nothing exchanged the second time");
    let check = app.client.post(app.url("/admin/carts/acme-tg/test")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    let check: Value = check.json().await.unwrap();
    assert_eq!(check["ok"], true, "the stored token works: {check}");
}

#[tokio::test]
async fn a_forged_or_missing_state_is_refused_and_nothing_is_stored() {
    let (sims, app) = setup().await;
    for query in ["?code=abc&state=forged-state-value", "?code=abc", "?state=&code=abc", ""] {
        let (status, cache, page) = get(&app.url(&format!("/oauth/tradegecko/callback{query}"))).await;
        assert_eq!((status, cache.as_str()), (400, "no-store"), "{query}: {page}");
        assert!(!page.contains("forged"), "nothing from the request is echoed: {page}");
    }
    assert_eq!(sims.tg.oauth_stats().codes_exchanged, 0);
    assert!(app.deps.ledger.oauth.load("acme-tg").await.unwrap().is_none(), "nothing stored");
}

#[tokio::test]
async fn an_expired_state_is_refused_and_nothing_is_stored() {
    let (sims, app) = setup().await;
    let (_, body) = app.connect("acme-tg").await;
    let back = callback_location(body["authorize_url"].as_str().unwrap()).await;
    let code = Url::parse(&back).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let pending = PendingConnect { merchant: "acme".into(), cart: "acme-tg".into() };
    assert!(app.deps.ledger.oauth.remember_state("short-lived-state", &pending, 50).await.unwrap());
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (status, _, _) =
        get(&app.url(&format!("/oauth/tradegecko/callback?code={code}&state=short-lived-state"))).await;
    assert_eq!(status, 400);
    assert_eq!(sims.tg.oauth_stats().codes_exchanged, 0);
    assert!(app.deps.ledger.oauth.load("acme-tg").await.unwrap().is_none());
}

#[tokio::test]
async fn access_denied_shows_a_page_and_leaves_the_cart_as_it_was() {
    let (sims, app) = setup().await;
    sims.tg.set_oauth(OAuthPatch { deny: Some(true), ..OAuthPatch::default() });
    let (_, body) = app.connect("acme-tg").await;
    let back = callback_location(body["authorize_url"].as_str().unwrap()).await;
    assert!(back.contains("error=access_denied"), "{back}");
    let (status, cache, page) = get(&back).await;
    assert_eq!((status, cache.as_str()), (200, "no-store"));
    assert!(page.contains("denied"), "{page}");
    assert!(app.deps.ledger.oauth.load("acme-tg").await.unwrap().is_none(), "cart unchanged");
    assert_eq!(app.connection("acme-tg").await["status"], "disconnected");
}

#[tokio::test]
async fn connect_on_a_token_cart_is_a_conflict_and_a_token_cart_shows_its_kind() {
    let (_sims, app) = setup().await;
    let (status, body) = app.connect("acme-fixed").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    assert_eq!(app.connection("acme-fixed").await, serde_json::json!({"status": "token"}));
    assert_eq!(app.connect("nope").await.0, 404);
}

#[tokio::test]
async fn an_oauth_cart_without_the_application_or_a_public_url_is_a_configuration_problem() {
    let sims = Sims::start(&SimOptions::default()).await.unwrap();
    let mut no_app = wiring("memory://", &sims);
    no_app.apps = None;
    let problems = format!("{:?}", no_app.settings().unwrap_err());
    assert!(problems.contains("merchants[0].carts[0].auth") && problems.contains("apps.tradegecko"), "{problems}");
    let mut no_url = wiring("memory://", &sims);
    no_url.server.public_url = None;
    let problems = format!("{:?}", no_url.settings().unwrap_err());
    assert!(problems.contains("public_url"), "{problems}");
    let mut token_without_token = wiring("memory://", &sims);
    token_without_token.merchants[0].carts[1].access_token = None;
    let problems = format!("{:?}", token_without_token.settings().unwrap_err());
    assert!(problems.contains("merchants[0].carts[1].access_token"), "{problems}");
}

#[tokio::test]
async fn no_oauth_token_is_in_redis_in_plaintext() {
    let sims = Sims::start(&SimOptions::default()).await.unwrap();
    let redis = TestRedis::start(false, None).unwrap();
    let mut wiring = wiring(redis.url(), &sims);
    wiring.tenants.keys =
        vec![WiredSecret::new(secrecy::ExposeSecret::expose_secret(&cartgate::tenants::generate_key()))];
    let app = spawn_app_with(&wiring).await;
    let (_, body) = app.connect("acme-tg").await;
    let back = callback_location(body["authorize_url"].as_str().unwrap()).await;
    assert_eq!(get(&back).await.0, 200);

    let (_, stored) = app.deps.ledger.oauth.load("acme-tg").await.unwrap().unwrap();
    let ring = app.deps.tenants.ring();
    let open = |field: &str, sealed: &Option<String>| {
        let sealed = cartgate::tenants::Sealed::try_from(sealed.clone().unwrap()).unwrap();
        let plain = ring.open("acme", &format!("oauth.acme-tg.{field}"), &sealed).unwrap();
        secrecy::ExposeSecret::expose_secret(&plain).to_owned()
    };
    let access = open("access_token", &stored.access_token);
    let refresh = open("refresh_token", &stored.refresh_token);
    assert!(
        ring.open("beta", "oauth.acme-tg.access_token", &stored.access_token.clone().unwrap().try_into().unwrap())
            .is_err(),
        "bound to the merchant"
    );
    let everything = crate::tenants_store::everything_in_redis(redis.url()).await;
    assert!(everything.contains("oauth:{acme-tg}"), "the scan sees the connection");
    assert!(!everything.contains(&access), "the access token is in Redis in plaintext");
    assert!(!everything.contains(&refresh), "the refresh token is in Redis in plaintext");
}

#[tokio::test]
async fn an_oauth_cart_written_through_the_tenant_api_connects_and_is_refused_without_the_application() {
    use crate::tenants::merchant_body;
    let (sims, app) = setup().await;
    assert_eq!(app.put("/admin/merchants/shop", merchant_body("o")).await.0, 201);
    let cart = serde_json::json!({"kind": "tradegecko", "base_url": sims.tg.url(), "auth": "oauth"});
    let (status, shown) = app.put("/admin/merchants/shop/carts/shop-tg", cart.clone()).await;
    assert_eq!(status, 201, "{shown}");
    let mut with_token = cart.clone();
    with_token["access_token"] = serde_json::json!("tok");
    let (status, body) = app.put("/admin/merchants/shop/carts/shop-tg", with_token).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["problems"][0]["key"], "access_token", "{body}");
    let (status, body) = app.connect("shop-tg").await;
    assert_eq!(status, 200, "{body}");
    let back = callback_location(body["authorize_url"].as_str().unwrap()).await;
    assert_eq!(get(&back).await.0, 200);
    let (_, shown) = app.show("/admin/merchants/shop/carts/shop-tg").await;
    assert_eq!(shown["connection"]["status"], "connected", "{shown}");

    let mut no_app = wiring("memory://", &sims);
    no_app.apps = None;
    no_app.merchants[0].carts.remove(0);
    let bare = spawn_app_with(&no_app).await;
    assert_eq!(bare.put("/admin/merchants/shop", merchant_body("o")).await.0, 201);
    let (status, body) = bare.put("/admin/merchants/shop/carts/shop-tg", cart).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["problems"][0]["key"], "auth", "{body}");
}

/// Connects `acme-tg` (operator) through the simulator.
async fn connected(sims: &Sims, app: &TestApp) {
    let (_, body) = app.connect("acme-tg").await;
    let back = callback_location(body["authorize_url"].as_str().unwrap()).await;
    assert_eq!(get(&back).await.0, 200);
    assert_eq!(sims.tg.oauth_stats().codes_exchanged, 1);
}

async fn test_cart(app: &TestApp) -> Value {
    let resp = app.client.post(app.url("/admin/carts/acme-tg/test")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_call_answered_401_refreshes_once_and_is_retried_and_a_revoked_grant_disconnects() {
    let (sims, app) = setup().await;
    connected(&sims, &app).await;
    assert_eq!(sims.tg.expire_access_tokens(), 1);
    let check = test_cart(&app).await;
    assert_eq!(check["ok"], true, "refreshed and retried: {check}");
    let stats = sims.tg.oauth_stats();
    assert_eq!((stats.refreshes, stats.refresh_failures), (1, 0), "{stats:?}");
    assert_eq!(test_cart(&app).await["ok"], true);
    assert_eq!(sims.tg.oauth_stats().refreshes, 1, "the refreshed token is used");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for line in [
        "cartgate_oauth_refreshes_total{outcome=\"ok\"}",
        "cartgate_cart_connection{cart=\"acme-tg\",status=\"connected\"} 1",
        "cartgate_oauth_token_age_seconds{cart=\"acme-tg\"}",
    ] {
        assert!(metrics.contains(line), "{line} missing from /metrics");
    }

    sims.tg.revoke_grants();
    let check = test_cart(&app).await;
    assert_eq!(check["ok"], false, "{check}");
    let connection = app.connection("acme-tg").await;
    assert_eq!(connection["status"], "disconnected", "within one call: {connection}");
    assert!(connection["reason"].as_str().unwrap().contains("invalid_grant"), "{connection}");
    let failures = sims.tg.oauth_stats().refresh_failures;
    assert_eq!(test_cart(&app).await["ok"], false);
    assert_eq!(sims.tg.oauth_stats().refresh_failures, failures, "a disconnected cart does not call again");
}

#[tokio::test]
async fn the_merchant_s_own_token_may_connect_its_cart() {
    let (_sims, app) = setup().await;
    let (status, token) = app
        .admin(reqwest::Method::POST, "/admin/merchants/acme/tokens", Some(serde_json::json!({"name": "shop"})))
        .await;
    assert_eq!(status, 201, "{token}");
    let resp = app
        .client
        .post(app.url("/admin/carts/acme-tg/connect"))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let resp = app.client.post(app.url("/admin/carts/acme-tg/connect")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401, "no token");
}
