//! Stored tenants on Redis: live on every replica within 2 s, sealed at rest (no plaintext in
//! any key or value), key rotation, and a tenant no key opens.

use std::time::{Duration, Instant};

use cartgate::testkit::TestRedis;
use cartgate::testkit::wiring::{WiredSecret, Wiring};
use serde_json::json;

use crate::support::{TestApp, spawn_app_with};
use crate::tenants::{cart_body, merchant_body, wiring};

fn with_keys(mut wiring: Wiring, keys: &[&WiredSecret]) -> Wiring {
    wiring.tenants.keys = keys.iter().map(|k| (*k).clone()).collect();
    wiring
}

fn new_key() -> WiredSecret {
    WiredSecret::new(secrecy::ExposeSecret::expose_secret(&cartgate::tenants::generate_key()))
}

/// Waits up to 2 s for `app` to answer a webhook for `cart` signed with `secret` with `status`.
async fn within_two_seconds(app: &TestApp, cart: &str, secret: &str, status: u16) {
    let started = Instant::now();
    let mut n = 0;
    loop {
        n += 1;
        let got = app.signed_tg(cart, secret, &format!("w-{n}")).await;
        if got == status {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(2), "{cart}: still {got}, expected {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every key and value of the whole Redis at `url`, read by type (DUMP may compress a value).
pub async fn everything_in_redis(url: &str) -> String {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query_async(&mut conn).await.unwrap();
    let mut all = String::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE").arg(&key).query_async(&mut conn).await.unwrap();
        let (cmd, args): (&str, Vec<&str>) = match kind.as_str() {
            "string" => ("GET", vec![]),
            "hash" => ("HGETALL", vec![]),
            "zset" => ("ZRANGE", vec!["0", "-1", "WITHSCORES"]),
            "list" => ("LRANGE", vec!["0", "-1"]),
            "set" => ("SMEMBERS", vec![]),
            "stream" => ("XRANGE", vec!["-", "+"]),
            _ => continue,
        };
        let value: redis::Value =
            redis::cmd(cmd).arg(&key).arg(args).query_async(&mut conn).await.unwrap_or(redis::Value::Nil);
        all.push_str(&key);
        all.push_str(&format!("{value:?}"));
    }
    all
}

#[tokio::test]
async fn a_cart_created_through_one_replica_is_live_on_another_within_two_seconds() {
    let key = new_key();
    let wiring = with_keys(wiring(&TestRedis::shared_url()), &[&key]);
    let (one, two) = (spawn_app_with(&wiring).await, spawn_app_with(&wiring).await);
    assert_eq!(one.put("/admin/merchants/live", merchant_body("r")).await.0, 201);
    assert_eq!(one.put("/admin/merchants/live/carts/live-tg", cart_body("r", "first")).await.0, 201);
    within_two_seconds(&two, "live-tg", "first", 200).await;

    one.patch("/admin/merchants/live/carts/live-tg", json!({"client_secret": "second"})).await;
    within_two_seconds(&two, "live-tg", "second", 200).await;
    assert_eq!(two.signed_tg("live-tg", "first", "old").await, 401, "the old secret only through *_previous");
    assert_eq!(one.signed_tg("live-tg", "second", "one").await, 200);

    one.delete("/admin/merchants/live/carts/live-tg").await;
    within_two_seconds(&two, "live-tg", "second", 404).await;
}

/// Every byte of every file under `dir` (the AOF), as text.
fn every_file(dir: &std::path::Path) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            all.push_str(&every_file(&path));
        } else {
            all.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()));
        }
    }
    all
}

#[tokio::test]
async fn no_secret_written_through_the_api_is_anywhere_in_redis_or_its_aof() {
    let dir = tempfile::tempdir().unwrap();
    let redis = TestRedis::start(true, Some(dir.path())).unwrap();
    let key = new_key();
    let app = spawn_app_with(&with_keys(wiring(redis.url()), &[&key])).await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mut body = merchant_body(&tag);
    body["wms"]["test_api_key"] = json!(format!("EZTK-test-{tag}"));
    // 32 hex digits are base64 too: a Standard Webhooks secret of 24 bytes.
    body["alerts"] = json!({"webhook": {"url": "https://shop.example/hooks", "secret": format!("whsec_{tag}")}});
    assert_eq!(app.put("/admin/merchants/sealed", body).await.0, 201);
    let cart = cart_body(&tag, &format!("client-{tag}"));
    assert_eq!(app.put("/admin/merchants/sealed/carts/sealed-tg", cart).await.0, 201);
    app.patch("/admin/merchants/sealed/carts/sealed-tg", json!({"client_secret_previous": format!("prev-{tag}")}))
        .await;
    assert_eq!(app.signed_tg("sealed-tg", &format!("client-{tag}"), "d").await, 200);
    app.admin(reqwest::Method::POST, "/admin/tenants/rekey", None).await;

    let everything = everything_in_redis(redis.url()).await;
    assert!(everything.contains("sealed-tg"), "the scan sees the stored tenants");
    assert!(!everything.contains(&tag), "a secret written through the API is in Redis in plaintext");
    let aof = every_file(dir.path());
    assert!(aof.contains("sealed-tg"), "the AOF holds the stored tenants");
    assert!(!aof.contains(&tag), "a secret written through the API is in the AOF in plaintext");
}

#[tokio::test]
async fn after_a_rekey_the_old_key_can_be_dropped_and_every_tenant_still_works() {
    let (old, new) = (new_key(), new_key());
    let wiring = wiring(&TestRedis::shared_url());
    let first = spawn_app_with(&with_keys(wiring.clone(), &[&old])).await;
    first.put("/admin/merchants/rot", merchant_body("k")).await;
    first.put("/admin/merchants/rot/carts/rot-tg", cart_body("k", "rot-secret")).await;
    drop(first);

    let rotating = spawn_app_with(&with_keys(wiring.clone(), &[&new, &old])).await;
    let (code, body) = rotating.admin(reqwest::Method::POST, "/admin/tenants/rekey", None).await;
    assert_eq!((code, body["resealed"].as_u64()), (200, Some(4)), "two wms secrets, two cart secrets: {body}");
    drop(rotating);

    let after = spawn_app_with(&with_keys(wiring, &[&new])).await;
    let (_, shown) = after.show("/admin/merchants/rot").await;
    assert_eq!(shown["state"], "usable", "{shown}");
    assert_eq!(after.signed_tg("rot-tg", "rot-secret", "d").await, 200);
}

#[tokio::test]
async fn a_tenant_no_key_opens_is_unusable_and_the_others_keep_running() {
    let (lost, kept) = (new_key(), new_key());
    let wiring = wiring(&TestRedis::shared_url());
    let first = spawn_app_with(&with_keys(wiring.clone(), &[&lost])).await;
    first.put("/admin/merchants/gone", merchant_body("u")).await;
    first.put("/admin/merchants/gone/carts/gone-tg", cart_body("u", "gone-secret")).await;
    drop(first);
    let second = spawn_app_with(&with_keys(wiring.clone(), &[&kept, &lost])).await;
    second.put("/admin/merchants/fine", merchant_body("u")).await;
    second.put("/admin/merchants/fine/carts/fine-tg", cart_body("u", "fine-secret")).await;
    drop(second);

    let app = spawn_app_with(&with_keys(wiring, &[&kept])).await;
    let (_, gone) = app.show("/admin/merchants/gone").await;
    assert_eq!(gone["state"], "unusable", "{gone}");
    assert!(gone["reason"].as_str().unwrap().contains("not in tenants.keys"), "{gone}");
    assert_eq!(gone["carts"][0]["id"], "gone-tg");
    assert_eq!(app.signed_tg("gone-tg", "gone-secret", "d").await, 503, "its webhooks are delivered again later");
    assert_eq!(app.get("/readyz").await.status(), 200);
    assert_eq!(app.signed_tg("fine-tg", "fine-secret", "d").await, 200);
    assert_eq!(app.signed_tg("filed-tg", "filed-secret", "d").await, 200);
    let (code, _) = app.patch("/admin/merchants/gone", json!({"wms": {"test_mode": false}})).await;
    assert_eq!(code, 409, "an unusable merchant is not changed in part");
}

#[tokio::test]
async fn without_a_tenant_key_on_redis_a_secret_is_refused_rather_than_stored_in_plaintext() {
    let app = spawn_app_with(&wiring(&TestRedis::shared_url())).await;
    let (code, body) = app.put("/admin/merchants/keyless", merchant_body("n")).await;
    assert_eq!((code, body["error"]["code"].as_str()), (409, Some("conflict")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("tenants.keys"), "{body}");
    assert_eq!(app.show("/admin/merchants/keyless").await.0, 404);
}
