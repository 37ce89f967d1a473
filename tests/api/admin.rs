//! The admin API's answers that need no upstream: what each route says about an unknown
//! merchant, cart or order, a bad upload or limit, and the shape of its success.

use serde_json::{Value, json};

use cartgate::domain::{CartId, MerchantId};
use cartgate::testkit::wiring::{CartWiring, MerchantWiring, WiredSecret};

use crate::support::{ADMIN_TOKEN, TestApp, base, spawn_app_with};

/// One merchant with one cart whose upstreams are never reached, and no workers.
async fn spawn() -> TestApp {
    let mut wiring = base("memory://");
    wiring.workers.enabled = Some(false);
    let nowhere: url::Url = "http://127.0.0.1:9".parse().unwrap();
    let mut merchant =
        MerchantWiring::easypost(MerchantId::parse("acme").unwrap(), nowhere.clone(), WiredSecret::new("EZAK-test"));
    let mut cart = CartWiring::tradegecko(
        CartId::parse("acme-tg").unwrap(),
        nowhere,
        WiredSecret::new("tg-token"),
        WiredSecret::new("tg-client-secret"),
    );
    cart.stock_location_id = Some(1);
    merchant.carts.push(cart);
    wiring.merchants.push(merchant);
    spawn_app_with(&wiring).await
}

impl TestApp {
    /// Status and JSON body of an admin call.
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<(&str, &str)>) -> (u16, Value) {
        let mut req = self.client.request(method, self.url(path)).bearer_auth(ADMIN_TOKEN);
        if let Some((content_type, body)) = body {
            req = req.header("content-type", content_type).body(body.to_owned());
        }
        let resp = req.send().await.expect("request sent");
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    }
}

fn error(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

#[tokio::test]
async fn unknown_merchants_carts_and_orders_are_404_naming_what_is_missing() {
    use reqwest::Method;
    let app = spawn().await;
    let unknown_cart = error("not_found", "unknown cart `nope`");
    let unknown_merchant = error("not_found", "unknown merchant `nobody`");
    let no_order = error("not_found", "no order 7 in cart `acme-tg`");
    let cases = [
        (Method::GET, "/admin/carts/nope/orders/7", &unknown_cart),
        (Method::POST, "/admin/carts/nope/orders/7/resend", &unknown_cart),
        (Method::POST, "/admin/carts/nope/test", &unknown_cart),
        (Method::POST, "/admin/carts/nope/sync/orders", &unknown_cart),
        (Method::GET, "/admin/carts/acme-tg/orders/7", &no_order),
        (Method::POST, "/admin/carts/acme-tg/orders/7/cancel-sending", &no_order),
        (Method::POST, "/admin/carts/acme-tg/orders/7/resend", &no_order),
        (Method::POST, "/admin/merchants/nobody/holds/release", &unknown_merchant),
        (Method::GET, "/admin/merchants/nobody/aliases", &unknown_merchant),
        (Method::DELETE, "/admin/merchants/nobody/aliases/A-1", &unknown_merchant),
        (Method::POST, "/admin/merchants/nobody/wms/test", &unknown_merchant),
        (Method::POST, "/admin/merchants/nobody/sync/shipments", &unknown_merchant),
        (Method::POST, "/admin/merchants/nobody/sync/inventory", &unknown_merchant),
    ];
    for (method, path, expected) in cases {
        assert_eq!(app.call(method.clone(), path, None).await, (404, expected.clone()), "{method} {path}");
    }
}

#[tokio::test]
async fn aliases_are_uploaded_whole_listed_and_deleted() {
    use reqwest::Method;
    let app = spawn().await;
    let path = "/admin/merchants/acme/aliases";
    let bad = app.call(Method::PUT, path, Some(("application/json", r#"[{"sku":"A","barcode":"1"},{"sku":"B"}]"#)));
    assert_eq!(bad.await, (400, error("bad_request", "line 2: sku and barcode must both be non-empty")));
    let plain = app.call(Method::PUT, path, Some(("text/plain", "sku,barcode\n")));
    assert_eq!(
        plain.await,
        (415, error("unsupported_media_type", "expected application/json or text/csv, got text/plain"))
    );
    let csv = app.call(Method::PUT, path, Some(("text/csv", "sku,barcode\nA-1,0001\nB-2,0002\n"))).await;
    assert_eq!(csv, (200, json!({"upserted": 2, "requeued_orders": 0})));
    let (status, listed) = app.call(Method::GET, path, None).await;
    assert_eq!((status, listed["aliases"].as_array().map(Vec::len)), (200, Some(2)), "{listed}");
    let one = format!("{path}/A-1");
    assert_eq!(app.call(Method::DELETE, &one, None).await, (200, json!({"deleted": "A-1"})));
    assert_eq!(app.call(Method::DELETE, &one, None).await, (404, error("not_found", "no alias for SKU `A-1`")));
}

#[tokio::test]
async fn syncs_and_releases_answer_with_what_they_queued() {
    use reqwest::Method;
    let app = spawn().await;
    let sync = app.call(Method::POST, "/admin/carts/acme-tg/sync/orders", None).await;
    assert_eq!(sync, (202, json!({"status": "queued", "job": "poll_orders:acme-tg"})));
    let (status, body) = app.call(Method::POST, "/admin/merchants/acme/sync/inventory", None).await;
    assert_eq!((status, &body["status"]), (202, &json!("queued")), "{body}");
    let release = app.call(Method::POST, "/admin/merchants/acme/holds/release", None).await;
    assert_eq!(release, (200, json!({"released": 0})));
    let orders = app.call(Method::GET, "/admin/orders", None).await;
    assert_eq!(orders, (200, json!({"orders": [], "next_cursor": null})));
}

#[tokio::test]
async fn limits_and_filters_out_of_range_are_400() {
    use reqwest::Method;
    let app = spawn().await;
    let status = app.call(Method::GET, "/admin/orders?status=bogus", None).await;
    assert_eq!(status, (400, error("bad_request", "unknown status `bogus`")));
    let list = app.call(Method::GET, "/admin/dead-letters?limit=1001", None).await;
    assert_eq!(list, (400, error("bad_request", "limit must be at most 1000")));
    let redrive =
        app.call(Method::POST, "/admin/dead-letters/redrive", Some(("application/json", r#"{"limit":10001}"#)));
    assert_eq!(redrive.await, (400, error("bad_request", "limit must be at most 10000")));
}
