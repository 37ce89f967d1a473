//! Merchant tokens across replicas, the audit log, and failed authentications.

use std::time::{Duration, Instant};

use cartgate::testkit::TestRedis;
use serde_json::{Value, json};

use crate::access::{client_from, issue};
use crate::support::{ADMIN_TOKEN, TestApp, spawn_app_with, two_merchants};

async fn get_as(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let resp = app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// Every key under `prefix` and every value in it, as text.
async fn dump(prefix: &str) -> String {
    let client = redis::Client::open(TestRedis::shared_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut conn).await.unwrap();
    let mut out = String::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE").arg(&key).query_async(&mut conn).await.unwrap();
        let values: Vec<Vec<u8>> = match kind.as_str() {
            "string" => vec![redis::cmd("GET").arg(&key).query_async(&mut conn).await.unwrap()],
            "hash" => redis::cmd("HGETALL").arg(&key).query_async(&mut conn).await.unwrap(),
            "list" => redis::cmd("LRANGE").arg(&key).arg(0).arg(-1).query_async(&mut conn).await.unwrap(),
            "set" => redis::cmd("SMEMBERS").arg(&key).query_async(&mut conn).await.unwrap(),
            "zset" => redis::cmd("ZRANGE").arg(&key).arg(0).arg(-1).query_async(&mut conn).await.unwrap(),
            other => panic!("key {key} of type {other} not dumped"),
        };
        out.push_str(&key);
        for v in values {
            out.push('\n');
            out.push_str(&String::from_utf8_lossy(&v));
        }
        out.push('\n');
    }
    out
}

#[tokio::test]
async fn a_token_is_shown_once_stored_only_hashed_and_revoked_on_every_replica_within_two_seconds() {
    let wiring = two_merchants(&TestRedis::shared_url());
    let (one, two) = (spawn_app_with(&wiring).await, spawn_app_with(&wiring).await);
    let (id, token) = issue(&one, "acme").await;
    assert!(token.starts_with("cgt_") && token.len() >= 4 + 22, "at least 128 random bits: {token}");

    let (status, listed) = get_as(&two, &token, "/admin/merchants/acme/tokens").await;
    assert_eq!(status, 200, "the token works on the other replica: {listed}");
    let row = listed["tokens"].as_array().unwrap().iter().find(|t| t["id"] == json!(id)).unwrap().clone();
    assert_eq!(row["name"], "issued by a test");
    assert!(row["created_at"].is_string() && row["last_used_at"].is_string(), "{row}");
    assert_eq!(row.as_object().unwrap().len(), 4, "id, name, created_at, last_used_at only: {row}");
    assert!(!listed.to_string().contains(&token), "the listing never shows a token");
    let stored = dump(&wiring.store.prefix).await;
    assert!(stored.contains(&id), "the scan sees the token's records");
    assert!(!stored.contains(&token), "the token is in no Redis key or value");
    assert!(!stored.contains(&token["cgt_".len()..]), "nor its random part");

    let revoke = one.client.delete(one.url(&format!("/admin/merchants/acme/tokens/{id}"))).bearer_auth(&token);
    assert_eq!(revoke.send().await.unwrap().status(), 204, "a token may revoke itself");
    let started = Instant::now();
    loop {
        let (status, _) = get_as(&two, &token, "/admin/merchants/acme/tokens").await;
        if status == 401 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(2), "still {status} on the other replica after 2 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(get_as(&one, &token, "/admin/merchants/acme/tokens").await.0, 401);
    let (_, listed) = get_as(&one, ADMIN_TOKEN, "/admin/merchants/acme/tokens").await;
    assert!(listed["tokens"].as_array().unwrap().iter().all(|t| t["id"] != json!(id)), "{listed}");
}

#[tokio::test]
async fn the_audit_log_names_who_did_what_and_which_keys_never_values() {
    let app = spawn_app_with(&two_merchants("memory://")).await;
    let (id, token) = issue(&app, "acme").await;
    let upload = app.client.put(app.url("/admin/merchants/acme/aliases")).bearer_auth(&token);
    let upload = upload.header("content-type", "text/csv").body("sku,barcode\nA-1,BARCODE-VALUE-9\n");
    assert_eq!(upload.send().await.unwrap().status(), 200);
    let sync = app.client.post(app.url("/admin/carts/acme-tg/sync/orders")).bearer_auth(ADMIN_TOKEN);
    assert_eq!(sync.send().await.unwrap().status(), 202);

    let (status, body) = get_as(&app, &token, "/admin/merchants/acme/audit").await;
    assert_eq!(status, 200, "{body}");
    let entries = body["entries"].as_array().unwrap();
    let summary: Vec<_> =
        entries.iter().map(|e| (e["actor"].clone(), e["action"].clone(), e["target"].clone())).collect();
    assert_eq!(
        summary,
        [
            (json!("operator"), json!("sync.orders"), json!("acme-tg")),
            (json!(format!("token:{id}")), json!("aliases.put"), json!("aliases")),
            (json!("operator"), json!("token.create"), json!(format!("token:{id}"))),
        ],
        "newest first"
    );
    assert_eq!(entries[1]["changed"], json!(["A-1"]));
    assert_eq!(entries[2]["changed"], json!(["name"]));
    assert!(entries[0]["at"].as_str().unwrap().ends_with('Z'));
    let text = body.to_string();
    assert!(!text.contains("BARCODE-VALUE-9") && !text.contains(&token), "values never reach the log: {text}");

    assert_eq!(
        get_as(&app, &token, "/admin/merchants/acme/audit?limit=1").await.1["entries"].as_array().unwrap().len(),
        1
    );
    assert_eq!(get_as(&app, &token, "/admin/merchants/acme/audit?limit=1001").await.0, 400);
    assert!(get_as(&app, ADMIN_TOKEN, "/admin/merchants/beta/audit").await.1["entries"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn failed_authentications_are_counted_and_an_address_is_refused_after_ten_a_minute() {
    let app = spawn_app_with(&two_merchants("memory://")).await;
    let (guesser, bystander) = (client_from(3, 1), client_from(3, 2));
    let path = app.url("/admin/merchants/acme/tokens");
    for n in 0..10 {
        let resp = guesser.get(&path).bearer_auth(format!("cgt_guess{n}")).send().await.unwrap();
        assert_eq!(resp.status(), 401, "guess {n}");
    }
    let refused = guesser.get(&path).bearer_auth("cgt_guess10").send().await.unwrap();
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After: {retry_after}");
    let right = guesser.get(&path).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(right.status(), 429, "a blocked address waits out the window even with the right token");

    for _ in 0..15 {
        assert_eq!(bystander.get(&path).send().await.unwrap().status(), 401, "no credentials: not a guess");
    }
    assert_eq!(bystander.get(&path).bearer_auth(ADMIN_TOKEN).send().await.unwrap().status(), 200);
    for _ in 0..15 {
        assert_eq!(bystander.get(&path).bearer_auth(ADMIN_TOKEN).send().await.unwrap().status(), 200);
    }

    let metrics = app.get("/metrics").await.text().await.unwrap();
    let count = |reason: &str| {
        let series = format!("cartgate_admin_auth_failures_total{{reason=\"{reason}\"}} ");
        metrics.lines().find_map(|l| l.strip_prefix(&series)).map_or(0.0, |v| v.parse::<f64>().unwrap())
    };
    assert!(count("invalid") >= 10.0 && count("throttled") >= 2.0 && count("missing") >= 15.0, "{metrics}");
}
