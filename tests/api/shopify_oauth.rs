//! Shopify OAuth (issue 24): the authorize URL, the HMAC-checked callback and its refusals, the
//! code exchange and the rotating refresh against a wiremock token endpoint, and
//! `invalid_grant` → disconnected with its alert.

use cartgate::upstream::{TokenSource, UpstreamError};
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{body_json, body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::shopify::{SHOP, wiring};
use crate::support::{ADMIN_TOKEN, TestApp, spawn_app_with};

const TOKEN_PATH: &str = "/admin/oauth/access_token";

async fn setup() -> (MockServer, TestApp) {
    let shop = MockServer::start().await;
    let app = spawn_app_with(&wiring("memory://", shop.uri().parse().unwrap())).await;
    (shop, app)
}

fn tokens(access: &str, refresh: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": access, "scope": "read_orders", "expires_in": 3600,
        "refresh_token": refresh, "refresh_token_expires_in": 7_776_000
    }))
}

impl TestApp {
    /// Starts a Connect of `acme-shop`; the authorize URL.
    async fn shopify_connect(&self) -> Url {
        let resp =
            self.client.post(self.url("/admin/carts/acme-shop/connect")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        body["authorize_url"].as_str().unwrap().parse().unwrap()
    }

    /// Calls the callback with these pairs, signed with `secret` (`hush` is the app's).
    async fn shopify_callback(&self, pairs: &[(&str, &str)], secret: &str) -> (u16, String) {
        let hmac = cartgate::signature::shopify_query_sign(secret, pairs.iter().copied());
        let mut url: Url = self.url("/oauth/shopify/callback").parse().unwrap();
        url.query_pairs_mut().extend_pairs(pairs.iter().copied()).append_pair("hmac", &hmac);
        let resp = self.client.get(url).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    async fn shopify_connection(&self) -> Value {
        let cart: Value = self.admin_get("/admin/merchants/acme/carts/acme-shop").await.json().await.unwrap();
        cart["connection"].clone()
    }

    /// The cart's token source (as the Shopify adapter will use it).
    fn shopify_tokens(&self) -> std::sync::Arc<cartgate::oauth::CartTokens> {
        let (_, cart) = self.deps.tenants.cart("acme-shop").unwrap();
        self.deps.oauth.cart(&cart)
    }
}

fn state_of(url: &Url) -> String {
    url.query_pairs().find(|(k, _)| k == "state").map(|(_, v)| v.into_owned()).unwrap()
}

fn now() -> String {
    chrono::Utc::now().timestamp().to_string()
}

#[tokio::test]
async fn connect_answers_the_shops_authorize_url_for_an_offline_token() {
    let (shop, app) = setup().await;
    let url = app.shopify_connect().await;
    assert_eq!(url.origin(), shop.uri().parse::<Url>().unwrap().origin());
    assert_eq!(url.path(), "/admin/oauth/authorize");
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("client_id"), Some("shopify-client"));
    assert_eq!(get("scope"), Some(cartgate::settings::SHOPIFY_SCOPES));
    assert_eq!(get("redirect_uri"), Some(app.url("/oauth/shopify/callback").as_str()));
    assert_eq!(get("grant_options[]"), Some(""), "empty grant options: an offline token");
    assert!(get("state").is_some_and(|s| s.len() >= 43));
}

#[tokio::test]
async fn a_signed_callback_exchanges_the_code_and_a_replay_of_its_state_is_refused() {
    let (shop, app) = setup().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_json(
            json!({"client_id": "shopify-client", "client_secret": "hush", "code": "c0de", "expiring": "1"}),
        ))
        .respond_with(tokens("shpat_a1", "shprt_r1"))
        .expect(1)
        .mount(&shop)
        .await;
    let state = state_of(&app.shopify_connect().await);
    let ts = now();
    let pairs =
        [("code", "c0de"), ("host", "YWRtaW4uc2hvcGlmeS5jb20"), ("shop", SHOP), ("state", &state), ("timestamp", &ts)];
    let (code, page) = app.shopify_callback(&pairs, "hush").await;
    assert_eq!(code, 200, "{page}");
    assert!(!page.contains("shpat_") && !page.contains("shprt_"), "no token in the page");
    assert_eq!(app.shopify_connection().await["status"], "connected");
    assert_eq!(app.shopify_tokens().token().await.unwrap().token.expose(), "shpat_a1");
    let (replayed, _) = app.shopify_callback(&pairs, "hush").await;
    assert_eq!(replayed, 400, "a state is single-use");
}

#[tokio::test]
async fn callbacks_with_a_bad_hmac_a_stale_timestamp_or_another_shop_are_refused_before_any_exchange() {
    let (shop, app) = setup().await;
    Mock::given(method("POST")).and(path(TOKEN_PATH)).respond_with(tokens("a", "r")).expect(1).mount(&shop).await;
    let state = state_of(&app.shopify_connect().await);
    let (ts, stale) = (now(), (chrono::Utc::now().timestamp() - 200).to_string());
    let good = [("code", "c"), ("shop", SHOP), ("state", state.as_str()), ("timestamp", ts.as_str())];
    assert_eq!(app.shopify_callback(&good, "not-the-secret").await.0, 400);
    let old = [("code", "c"), ("shop", SHOP), ("state", state.as_str()), ("timestamp", stale.as_str())];
    assert_eq!(app.shopify_callback(&old, "hush").await.0, 400);
    for other in ["evil.example.com", "other.myshopify.com"] {
        let state = state_of(&app.shopify_connect().await);
        let pairs = [("code", "c"), ("shop", other), ("state", state.as_str()), ("timestamp", ts.as_str())];
        assert_eq!(app.shopify_callback(&pairs, "hush").await.0, 400, "{other}");
    }
    let unknown = [("code", "c"), ("shop", SHOP), ("state", "never-issued"), ("timestamp", ts.as_str())];
    assert_eq!(app.shopify_callback(&unknown, "hush").await.0, 400);
    assert_eq!(app.shopify_connection().await["status"], "disconnected", "nothing was stored");
    // A bad hmac or a stale link does not spend the state: the merchant's real callback works.
    assert_eq!(app.shopify_callback(&good, "hush").await.0, 200);
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_invalid_grant_disconnects_with_an_alert() {
    let (shop, app) = setup().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_partial_json(json!({"code": "c0de"})))
        .respond_with(tokens("shpat_a1", "shprt_r1"))
        .mount(&shop)
        .await;
    let refresh_with = |token: &str| json!({"client_id": "shopify-client", "client_secret": "hush", "grant_type": "refresh_token", "refresh_token": token});
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_json(refresh_with("shprt_r1")))
        .respond_with(tokens("shpat_a2", "shprt_r2"))
        .expect(1)
        .mount(&shop)
        .await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_json(refresh_with("shprt_r2")))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .expect(1)
        .mount(&shop)
        .await;
    let state = state_of(&app.shopify_connect().await);
    let ts = now();
    let pairs = [("code", "c0de"), ("shop", SHOP), ("state", state.as_str()), ("timestamp", ts.as_str())];
    assert_eq!(app.shopify_callback(&pairs, "hush").await.0, 200);

    let source = app.shopify_tokens();
    let first = source.token().await.unwrap();
    let second = source.rejected(&first).await.unwrap();
    assert_eq!(second.token.expose(), "shpat_a2");
    let refused = source.rejected(&second).await.err();
    assert!(matches!(refused, Some(UpstreamError::Disconnected { .. })), "{refused:?}");
    let connection = app.shopify_connection().await;
    assert_eq!(connection["status"], "disconnected", "{connection}");
    let alerts: Value = app.admin_get("/admin/merchants/acme/alerts?state=open").await.json().await.unwrap();
    let alert = &alerts["alerts"][0];
    assert_eq!((alert["kind"].as_str(), alert["subject"].as_str()), (Some("cart_disconnected"), Some("acme-shop")));
    assert!(alert["summary"].as_str().unwrap_or_default().contains("Shopify"), "{alert}");
}

#[tokio::test]
async fn a_shopify_state_is_refused_by_the_tradegecko_callback() {
    let (shop, app) = setup().await;
    Mock::given(method("POST")).respond_with(tokens("a", "r")).expect(0).mount(&shop).await;
    let state = state_of(&app.shopify_connect().await);
    let resp = app.get(&format!("/oauth/tradegecko/callback?code=c&state={state}")).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(app.shopify_connection().await["status"], "disconnected");
}
