//! Merchants and carts set up through the admin API: the contract of every route, its 400 /
//! 404 / 409 answers, and secrets that never come back.

use cartgate::domain::{CartId, MerchantId};
use cartgate::testkit::wiring::{CartWiring, MerchantWiring, WiredSecret, Wiring};
use serde_json::{Value, json};

use crate::support::{ADMIN_TOKEN, TestApp, base, spawn_app_with};

pub const TG_BODY: &[u8] = include_bytes!("../data/tradegecko-webhook-order-create.json");

/// One merchant from the file (`filed`, with cart `filed-tg`); workers off.
pub fn wiring(store_url: &str) -> Wiring {
    let mut wiring = base(store_url);
    wiring.workers.enabled = Some(false);
    let wms_url = "http://127.0.0.1:9".parse().unwrap();
    let mut merchant =
        MerchantWiring::easypost(MerchantId::parse("filed").unwrap(), wms_url, WiredSecret::new("EZAK-filed"));
    let (token, secret) = (WiredSecret::new("filed-token"), WiredSecret::new("filed-secret"));
    let base_url = "https://api.tradegecko.com".parse().unwrap();
    merchant.carts.push(CartWiring::tradegecko(CartId::parse("filed-tg").unwrap(), base_url, token, secret));
    wiring.merchants.push(merchant);
    wiring
}

/// A merchant body with secrets that end in `tag`, so a test can look for them.
pub fn merchant_body(tag: &str) -> Value {
    json!({"wms": {
        "kind": "easypost",
        "base_url": "http://127.0.0.1:9",
        "production_api_key": format!("EZAK-prod-{tag}"),
        "webhook_secret": format!("ep-hook-{tag}"),
    }})
}

/// A cart body, signed with `client_secret`.
pub fn cart_body(tag: &str, client_secret: &str) -> Value {
    json!({
        "kind": "tradegecko",
        "base_url": "https://api.tradegecko.com",
        "access_token": format!("tg-token-{tag}"),
        "client_secret": client_secret,
    })
}

impl TestApp {
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.client.request(method, self.url(path)).bearer_auth(ADMIN_TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let code = resp.status().as_u16();
        (code, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.admin(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.admin(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> u16 {
        self.admin(reqwest::Method::DELETE, path, None).await.0
    }

    pub async fn show(&self, path: &str) -> (u16, Value) {
        self.admin(reqwest::Method::GET, path, None).await
    }

    /// A TradeGecko webhook for `cart` signed with `secret`; the status.
    pub async fn signed_tg(&self, cart: &str, secret: &str, delivery: &str) -> u16 {
        let sig = cartgate::signature::tradegecko_sign(secret, TG_BODY);
        let resp = self
            .client
            .post(self.url(&format!("/webhooks/tradegecko/{cart}")))
            .header("content-type", "application/json")
            .header("X-Gecko-Signature", sig)
            .header("X-Gecko-Delivery", delivery)
            .body(TG_BODY.to_vec())
            .send()
            .await
            .unwrap();
        resp.status().as_u16()
    }
}

fn problems(body: &Value) -> Vec<(String, String)> {
    let list = body["error"]["problems"].as_array().cloned().unwrap_or_default();
    list.iter().map(|p| (p["key"].as_str().unwrap().to_owned(), p["message"].as_str().unwrap().to_owned())).collect()
}

#[tokio::test]
async fn a_merchant_and_cart_set_up_through_the_api_serve_at_once_and_go_away_cleanly() {
    let app = spawn_app_with(&wiring("memory://")).await;
    let (code, created) = app.put("/admin/merchants/shop", merchant_body("a1")).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!((created["source"].as_str(), created["state"].as_str()), (Some("store"), Some("usable")));
    assert_eq!(created["wms"]["production_api_key"], json!({"set": true, "last4": "d-a1"}));
    assert_eq!(created["wms"]["test_api_key"], Value::Null);
    assert_eq!(app.put("/admin/merchants/shop", merchant_body("a1")).await.0, 200, "a second PUT replaces");

    let (code, cart) = app.put("/admin/merchants/shop/carts/shop-tg", cart_body("a1", "hook-1")).await;
    assert_eq!(code, 201, "{cart}");
    assert_eq!(cart["client_secret"], json!({"set": true, "last4": "ok-1"}));
    assert_eq!(app.signed_tg("shop-tg", "hook-1", "d-1").await, 200, "the new cart's webhooks are accepted");

    let (_, list) = app.show("/admin/merchants").await;
    let ids: Vec<_> =
        list["merchants"].as_array().unwrap().iter().map(|m| (m["id"].clone(), m["source"].clone())).collect();
    assert!(
        ids.contains(&(json!("filed"), json!("config"))) && ids.contains(&(json!("shop"), json!("store"))),
        "{list}"
    );
    let (_, shown) = app.show("/admin/merchants/shop").await;
    assert_eq!(shown["carts"][0]["id"], "shop-tg");
    for body in [list.to_string(), shown.to_string(), created.to_string(), cart.to_string()] {
        assert!(!body.contains("EZAK-prod-a1") && !body.contains("hook-1") && !body.contains("tg-token-a1"), "{body}");
    }

    assert_eq!(app.delete("/admin/merchants/shop").await, 409, "a merchant with carts stays");
    assert_eq!(app.delete("/admin/merchants/shop/carts/shop-tg").await, 204);
    assert_eq!(app.signed_tg("shop-tg", "hook-1", "d-2").await, 404, "a deleted cart's webhooks are unknown");
    assert_eq!(app.delete("/admin/merchants/shop").await, 204);
    assert_eq!(app.show("/admin/merchants/shop").await.0, 404);
}

#[tokio::test]
async fn a_patch_changes_only_what_it_names_and_an_omitted_secret_keeps_its_value() {
    let app = spawn_app_with(&wiring("memory://")).await;
    app.put("/admin/merchants/shop", merchant_body("p1")).await;
    app.put("/admin/merchants/shop/carts/shop-tg", cart_body("p1", "hook-old")).await;
    let patch = json!({"wms": {"test_api_key": "EZTK-test-p1", "test_mode": true}});
    let resp = app
        .client
        .patch(app.url("/admin/merchants/shop"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/merge-patch+json")
        .body(patch.to_string())
        .send()
        .await
        .unwrap();
    let (code, patched): (u16, Value) = (resp.status().as_u16(), resp.json().await.unwrap());
    assert_eq!(code, 200, "{patched}");
    assert_eq!(patched["wms"]["test_mode"], true);
    assert_eq!(patched["wms"]["production_api_key"]["last4"], "d-p1", "kept");
    assert_eq!(patched["carts"][0]["id"], "shop-tg", "carts kept");

    let rotate = json!({"client_secret": "hook-new", "client_secret_previous": "hook-old"});
    let (code, cart) = app.patch("/admin/merchants/shop/carts/shop-tg", rotate).await;
    assert_eq!(code, 200, "{cart}");
    assert_eq!(app.signed_tg("shop-tg", "hook-new", "d-1").await, 200);
    assert_eq!(app.signed_tg("shop-tg", "hook-old", "d-2").await, 200, "the old one through *_previous");
    app.patch("/admin/merchants/shop/carts/shop-tg", json!({"client_secret_previous": null})).await;
    assert_eq!(app.signed_tg("shop-tg", "hook-old", "d-3").await, 401, "and no longer once it is dropped");
    let (code, _) = app.patch("/admin/merchants/nobody", json!({"wms": {"test_mode": true}})).await;
    assert_eq!(code, 404);
    assert_eq!(app.patch("/admin/merchants/shop/carts/nope", json!({})).await.0, 404);
}

#[tokio::test]
async fn invalid_settings_are_400_with_the_files_keys_and_wording() {
    let app = spawn_app_with(&wiring("memory://")).await;
    let mut bad = merchant_body("v");
    bad["wms"]["base_url"] = json!("ftp://example.com");
    bad["wms"]["rate_limit"] = json!({"requests": 0, "per_secs": 1});
    let (code, body) = app.put("/admin/merchants/shop", bad).await;
    assert_eq!((code, body["error"]["code"].as_str()), (400, Some("invalid_settings")), "{body}");
    let found = problems(&body);
    assert!(found.contains(&("wms.base_url".into(), "must be an http(s) URL".into())), "{found:?}");
    assert!(found.contains(&("wms.rate_limit".into(), "requests and per_secs must be positive".into())), "{found:?}");

    let mut no_key = merchant_body("v");
    no_key["wms"]["production_api_key"] = Value::Null;
    let (_, body) = app.put("/admin/merchants/shop", no_key).await;
    let expected = ("wms.production_api_key".to_owned(), "is required for the active mode (wms.test_mode)".to_owned());
    assert_eq!(problems(&body), vec![expected]);

    let mut reference = merchant_body("v");
    reference["wms"]["webhook_secret"] = json!("env:HOME");
    let (code, body) = app.put("/admin/merchants/shop", reference).await;
    assert_eq!((code, problems(&body)[0].0.as_str()), (400, "wms.webhook_secret"), "{body}");
    let (code, body) = app.put("/admin/merchants/shop", json!({"wms": {"kind": "easypost"}})).await;
    assert_eq!((code, body["error"]["code"].as_str()), (400, Some("invalid_settings")), "{body}");

    app.put("/admin/merchants/shop", merchant_body("v")).await;
    let mut bad_cart = cart_body("v", "s");
    bad_cart["base_url"] = json!("ftp://tg");
    let (code, body) = app.put("/admin/merchants/shop/carts/shop-tg", bad_cart).await;
    assert_eq!((code, problems(&body)), (400, vec![("base_url".into(), "must be an http(s) URL".into())]));
    let (code, body) = app.put("/admin/merchants/shop/carts/shop-tg", json!({"id": "x"})).await;
    assert_eq!((code, problems(&body)[0].0.as_str()), (400, "id"));
    for (filters, key, message) in [
        (json!({"skip_skus": ["GIFTCARD-*", "BAD-[A"]}), "filters.skip_skus", "`BAD-[A` is not a SKU pattern like"),
        (
            json!({"created_after": "2026-13-01"}),
            "filters.created_after",
            "`2026-13-01` is not a date like \"2026-01-01\"",
        ),
        (json!({"tags_none": [""]}), "filters.tags_none", "must not hold a blank tag"),
    ] {
        let mut bad_filter = cart_body("v", "s");
        bad_filter["filters"] = filters;
        let (code, body) = app.put("/admin/merchants/shop/carts/shop-tg", bad_filter).await;
        let found = problems(&body);
        assert_eq!((code, found.len(), found[0].0.as_str()), (400, 1, key), "{body}");
        assert!(found[0].1.starts_with(message), "{found:?}");
    }
    assert_eq!(app.show("/admin/merchants/shop/carts/shop-tg").await.0, 404, "nothing was stored");
}

#[tokio::test]
async fn the_files_merchants_are_read_only_and_cart_ids_are_unique_across_merchants() {
    let app = spawn_app_with(&wiring("memory://")).await;
    let managed = |(code, body): (u16, Value)| (code, body["error"]["code"].as_str().map(str::to_owned));
    let expected = (409, Some("managed_by_config".to_owned()));
    assert_eq!(managed(app.put("/admin/merchants/filed", merchant_body("c")).await), expected);
    assert_eq!(managed(app.patch("/admin/merchants/filed", json!({})).await), expected);
    assert_eq!(managed(app.put("/admin/merchants/filed/carts/new-tg", cart_body("c", "s")).await), expected);
    assert_eq!(app.delete("/admin/merchants/filed").await, 409);
    assert_eq!(app.delete("/admin/merchants/filed/carts/filed-tg").await, 409);
    let (_, filed) = app.show("/admin/merchants/filed").await;
    assert_eq!(
        (filed["source"].as_str(), filed["carts"][0]["access_token"]["set"].as_bool()),
        (Some("config"), Some(true))
    );

    app.put("/admin/merchants/one", merchant_body("c")).await;
    app.put("/admin/merchants/two", merchant_body("c")).await;
    assert_eq!(app.put("/admin/merchants/one/carts/one-tg", cart_body("c", "s")).await.0, 201);
    let (code, body) = app.put("/admin/merchants/two/carts/one-tg", cart_body("c", "s")).await;
    assert_eq!((code, body["error"]["code"].as_str()), (409, Some("conflict")), "{body}");
    assert_eq!(app.put("/admin/merchants/two/carts/filed-tg", cart_body("c", "s")).await.0, 409);
    assert_eq!(app.put("/admin/merchants/ghost/carts/g-tg", cart_body("c", "s")).await.0, 404);
    assert_eq!(app.show("/admin/merchants/one/carts/nope").await.0, 404);
    assert_eq!(app.delete("/admin/merchants/one/carts/nope").await, 404);
    assert_eq!(app.delete("/admin/merchants/ghost").await, 404);
}

#[tokio::test]
async fn test_before_save_tries_candidate_settings_and_stores_nothing() {
    let app = spawn_app_with(&wiring("memory://")).await;
    let candidate = json!({"wms": merchant_body("t")["wms"]});
    let (code, check) = app.admin(reqwest::Method::POST, "/admin/merchants/newshop/wms/test", Some(candidate)).await;
    assert_eq!((code, check["ok"].as_bool()), (200, Some(false)), "{check}");
    assert!(check["message"].as_str().unwrap().contains("cannot reach EasyPost"), "{check}");
    let bad = json!({"wms": {"kind": "easypost", "base_url": "ftp://x", "production_api_key": "EZAK-x"}});
    let (code, _) = app.admin(reqwest::Method::POST, "/admin/merchants/newshop/wms/test", Some(bad)).await;
    assert_eq!(code, 400);
    let cart = json!({"cart": {"kind": "tradegecko", "base_url": "http://127.0.0.1:9", "access_token": "t", "client_secret": "s"}});
    let (code, check) =
        app.admin(reqwest::Method::POST, "/admin/merchants/newshop/carts/new-tg/test", Some(cart.clone())).await;
    assert_eq!((code, check["ok"].as_bool()), (200, Some(false)), "{check}");
    let (code, _) = app.admin(reqwest::Method::POST, "/admin/carts/new-tg/test", Some(cart)).await;
    assert_eq!(code, 200);
    assert_eq!(app.show("/admin/merchants/newshop").await.0, 404, "nothing stored");
    // Without a body, the saved settings as before; unknown without a body is 404.
    assert_eq!(app.admin(reqwest::Method::POST, "/admin/merchants/filed/wms/test", None).await.0, 200);
    assert_eq!(app.admin(reqwest::Method::POST, "/admin/merchants/newshop/wms/test", None).await.0, 404);
    let garbled = app
        .client
        .post(app.url("/admin/merchants/filed/wms/test"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbled.status(), 400, "a body that is not JSON is not taken for no body");
}

#[tokio::test]
async fn a_new_carts_recurring_jobs_start_at_once_and_a_deleted_carts_stop_without_a_dead_letter() {
    use cartgate::jobs::CartTask;
    use cartgate::store::JobKind;
    let mut wiring = wiring("memory://");
    wiring.workers.enabled = Some(true);
    wiring.retry.schedule_secs = Some(vec![1]);
    let app = spawn_app_with(&wiring).await;
    app.put("/admin/merchants/shop", merchant_body("j")).await;
    let mut cart = cart_body("j", "s");
    cart["base_url"] = json!("http://127.0.0.1:9");
    assert_eq!(app.put("/admin/merchants/shop/carts/shop-tg", cart).await.0, 201);
    let task = CartTask { cart: CartId::parse("shop-tg").unwrap() };
    let ids = [task.job(JobKind::PollOrders).id, task.job(JobKind::EnsureWebhooks).id];
    for id in &ids {
        assert!(app.store.jobs().job(id).await.unwrap().is_some(), "{id} queued at once");
    }

    assert_eq!(app.delete("/admin/merchants/shop/carts/shop-tg").await, 204);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut left = Vec::new();
        for id in &ids {
            if app.store.jobs().job(id).await.unwrap().is_some() {
                left.push(id.clone());
            }
        }
        if left.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still queued after the cart was deleted: {left:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(app.store.jobs().depths().await.unwrap().dead, 0, "finished, not dead");
}

#[tokio::test]
async fn a_carts_filters_and_inventory_reserve_are_stored_and_shown_as_written() {
    let app = spawn_app_with(&wiring("memory://")).await;
    app.put("/admin/merchants/shop", merchant_body("f")).await;
    let mut cart = cart_body("f", "s");
    let filters = json!({"stock_location_ids": [1], "tags_any": ["web"], "tags_none": ["wholesale"],
                         "created_after": "2026-01-01", "skip_skus": ["GIFTCARD-*", "DIGITAL-?"]});
    cart["filters"] = filters.clone();
    cart["inventory"] = json!({"reserve": 2, "locations": ["wh_east"]});
    let (code, body) = app.put("/admin/merchants/shop/carts/shop-tg", cart).await;
    assert!(code == 200 || code == 201, "{code} {body}");
    let (code, shown) = app.show("/admin/merchants/shop/carts/shop-tg").await;
    assert_eq!(code, 200, "{shown}");
    for key in ["stock_location_ids", "tags_any", "tags_none", "created_after", "skip_skus"] {
        assert_eq!(shown["filters"][key], filters[key], "{key}: {shown}");
    }
    assert_eq!(
        (shown["inventory"]["reserve"].as_u64(), shown["inventory"]["locations"][0].as_str()),
        (Some(2), Some("wh_east"))
    );
}
