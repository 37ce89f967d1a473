//! TradeGecko: paging, rate limit, idempotency, auth, shapes, fulfillments and stock.

use cartgate::sim::tradegecko::{NewLine, NewOrder, RateLimitConfig};
use serde_json::{Value, json};

use crate::support::{client, header, json, tradegecko};

fn order_of(sku: &str, quantity: i64) -> NewOrder {
    NewOrder { lines: vec![NewLine { sku: Some(sku.into()), quantity, ..NewLine::default() }], ..NewOrder::default() }
}

#[tokio::test]
async fn six_hundred_orders_page_with_x_pagination_and_link_headers() {
    let sim = tradegecko(2).await;
    sim.create_orders(600, &order_of("SKU-0001", 1)).unwrap();
    let c = client();
    let get = |q: &str| c.get(format!("{}/orders?{q}", sim.url())).bearer_auth(sim.token()).send();

    let first = get("limit=250").await.unwrap();
    assert_eq!(first.status(), 200);
    let pagination: Value = serde_json::from_str(&header(&first, "x-pagination")).unwrap();
    assert_eq!(
        pagination,
        json!({"total_records": 600, "total_pages": 3, "first_page": true, "last_page": false, "out_of_bounds": false, "offset": 0})
    );
    let link = header(&first, "link");
    assert!(link.contains(&format!("<{}/orders?limit=250&page=2>; rel=\"next\"", sim.url())), "{link}");
    assert!(link.contains(&format!("<{}/orders?limit=250&page=3>; rel=\"last\"", sim.url())), "{link}");
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["orders"].as_array().unwrap().len(), 250);

    let last = get("limit=250&page=3").await.unwrap();
    let pagination: Value = serde_json::from_str(&header(&last, "x-pagination")).unwrap();
    assert_eq!(pagination["last_page"], true);
    assert_eq!(pagination["offset"], 500);
    assert!(!header(&last, "link").contains("rel=\"next\""));
    assert!(header(&last, "link").contains("rel=\"prev\""));
    assert_eq!(last.json::<Value>().await.unwrap()["orders"].as_array().unwrap().len(), 100);

    let default = get("").await.unwrap();
    let pagination: Value = serde_json::from_str(&header(&default, "x-pagination")).unwrap();
    assert_eq!(pagination["total_pages"], 12, "default limit is 50");
    let empty = get("status=void").await.unwrap();
    let pagination: Value = serde_json::from_str(&header(&empty, "x-pagination")).unwrap();
    assert_eq!((pagination["total_records"].as_u64(), pagination["last_page"].as_bool()), (Some(0), Some(true)));
    assert!(header(&empty, "link").is_empty());
    let capped = get("limit=1000").await.unwrap();
    assert_eq!(
        capped.json::<Value>().await.unwrap()["orders"].as_array().unwrap().len(),
        250,
        "limit is capped at 250"
    );
}

#[tokio::test]
async fn rate_limit_answers_429_after_the_limit_until_the_aligned_reset() {
    let sim = tradegecko(1).await;
    sim.set_rate_limit(RateLimitConfig { limit: 300, window_secs: 300 });
    let c = client();
    let call = || c.get(format!("{}/variants", sim.url())).bearer_auth(sim.token()).send();
    let mut reset = header(&call().await.unwrap(), "x-rate-limit-reset").parse::<u64>().unwrap();
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    if reset - now() < 5 {
        // Too close to a window boundary for 300 calls: start in the next window.
        tokio::time::sleep(std::time::Duration::from_secs(reset - now() + 1)).await;
        reset = header(&call().await.unwrap(), "x-rate-limit-reset").parse().unwrap();
    }
    assert_eq!(reset % 300, 0, "windows are aligned to multiples of the window");
    for _ in 1..300 {
        let r = call().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let limited = call().await.unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(header(&limited, "x-rate-limit-limit"), "300");
    assert_eq!(header(&limited, "x-rate-limit-remaining"), "0");
    assert_eq!(header(&limited, "x-rate-limit-reset"), reset.to_string());
    assert!(limited.headers().get("retry-after").is_none());
    assert!(sim.record().max_calls_in_window(&sim.token(), 300_000) >= 301);
}

#[tokio::test]
async fn a_short_window_lets_calls_through_again_after_reset() {
    let sim = tradegecko(1).await;
    sim.set_rate_limit(RateLimitConfig { limit: 2, window_secs: 1 });
    let c = client();
    let call = || c.get(format!("{}/variants", sim.url())).bearer_auth(sim.token()).send();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(call().await.unwrap().status().as_u16());
    }
    // A window boundary may fall inside the burst; at most 2 pass per window.
    assert!(statuses.contains(&429) || statuses.iter().all(|s| *s == 200));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(call().await.unwrap().status(), 200);
}

#[tokio::test]
async fn same_idempotency_key_replays_the_first_answer_without_a_second_fulfillment() {
    let sim = tradegecko(1).await;
    let order = sim.create_order(order_of("SKU-0001", 2)).unwrap();
    let line = sim.order(order).unwrap()["order_line_items"][0]["id"].as_u64().unwrap();
    let body = json!({"fulfillment": {"order_id": order, "status": "fulfilled", "shipped_at": "2026-01-01T00:00:00.000Z",
        "tracking_company": "USPS", "tracking_number": "9400", "tracking_url": "https://t.example/9400",
        "fulfillment_line_items": [{"order_line_item_id": line, "quantity": 1}]}});
    let c = client();
    let post = |key: &str| {
        c.post(format!("{}/fulfillments", sim.url()))
            .bearer_auth(sim.token())
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let a = post("k-1").await.unwrap();
    assert_eq!(a.status(), 201);
    let a: Value = a.json().await.unwrap();
    let b = post("k-1").await.unwrap();
    assert_eq!(b.status(), 201);
    let b: Value = b.json().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(sim.fulfillment_counts()[&order], 1);
    assert_eq!(sim.record().count("POST /fulfillments"), 2);
    let order_now = &sim.order(order).unwrap()["order"];
    assert_eq!(order_now["fulfillment_status"], "partial");
    post("k-2").await.unwrap();
    assert_eq!(sim.fulfillment_counts()[&order], 2);
    assert_eq!(sim.order(order).unwrap()["order"]["status"], "fulfilled");
}

#[tokio::test]
async fn wrong_token_is_a_401_json_error_with_a_request_id() {
    let sim = tradegecko(1).await;
    let r = client().get(format!("{}/orders", sim.url())).bearer_auth("nope").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(!header(&r, "x-request-id").is_empty());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
    sim.set_subscription_lapsed(true);
    let r = client().get(format!("{}/orders", sim.url())).bearer_auth(sim.token()).send().await.unwrap();
    assert_eq!(r.status(), 402);
}

#[tokio::test]
async fn order_sideloads_lines_with_decimal_strings_and_ms_timestamps() {
    let sim = tradegecko(1).await;
    let id = sim.create_order(order_of("SKU-0001", 2)).unwrap();
    let c = client();
    let r = c
        .get(format!("{}/orders/{id}?include=order_line_items", sim.url()))
        .bearer_auth(sim.token())
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["order_line_items"][0]["quantity"], "2.0");
    let created = body["order"]["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 24, "{created}");
    assert_eq!(body["order"]["status"], "finalized");
    let addr = body["order"]["shipping_address_id"].as_u64().unwrap();
    let a = json(c.get(format!("{}/addresses/{addr}", sim.url())).bearer_auth(sim.token())).await;
    assert!(a["address"]["address1"].is_string());
    let v = json(c.get(format!("{}/variants?sku=SKU-0001", sim.url())).bearer_auth(sim.token())).await;
    let loc = &v["variants"][0]["locations"][0];
    assert_eq!(
        (loc["stock_on_hand"].as_str(), loc["committed"].as_str(), loc["available"].as_str()),
        (Some("100"), Some("2"), Some("98"))
    );
}

#[tokio::test]
async fn stock_adjustments_apply_deltas_and_variant_put_changes_nothing() {
    let sim = tradegecko(1).await;
    let v = sim.variant_id("SKU-0001").unwrap();
    let loc = sim.location_id();
    let c = client();
    let put = c
        .put(format!("{}/variants/{v}", sim.url()))
        .bearer_auth(sim.token())
        .json(&json!({"variant": {"stock_on_hand": "5"}}));
    assert_eq!(put.send().await.unwrap().status(), 204);
    assert_eq!(sim.stock_on_hand(v, loc), 100);
    let adj = json!({"stock_adjustment": {"stock_location_id": loc, "reason": "shrinkage", "notes": "sync",
        "stock_adjustment_line_items": [{"variant_id": v, "quantity": -10}]}});
    let r =
        c.post(format!("{}/stock_adjustments", sim.url())).bearer_auth(sim.token()).json(&adj).send().await.unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(sim.stock_on_hand(v, loc), 90);
    assert_eq!(sim.stock_adjustments().len(), 1);
    let bad = json!({"stock_adjustment": {"stock_location_id": 999, "stock_adjustment_line_items": []}});
    let r =
        c.post(format!("{}/stock_adjustments", sim.url())).bearer_auth(sim.token()).json(&bad).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["errors"]["stock_location_id"].is_array());
    // Only TradeGecko's documented reasons (or a custom reason's id) are accepted.
    for reason in [json!("cartgate inventory sync"), Value::Null] {
        let undocumented = json!({"stock_adjustment": {"stock_location_id": loc, "reason": reason,
            "stock_adjustment_line_items": [{"variant_id": v, "quantity": 1}]}});
        let r = c
            .post(format!("{}/stock_adjustments", sim.url()))
            .bearer_auth(sim.token())
            .json(&undocumented)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{reason}");
        assert!(r.json::<Value>().await.unwrap()["errors"]["reason"].is_array());
    }
    let custom = json!({"stock_adjustment": {"stock_location_id": loc, "stock_adjustment_reason_id": 7,
        "stock_adjustment_line_items": [{"variant_id": v, "quantity": 1}]}});
    let r =
        c.post(format!("{}/stock_adjustments", sim.url())).bearer_auth(sim.token()).json(&custom).send().await.unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(sim.stock_on_hand(v, loc), 91, "the refused adjustments changed nothing");
}

#[tokio::test]
async fn an_order_carries_the_tags_and_creation_time_it_was_made_with_and_a_tag_edit_replaces_them() {
    let sim = tradegecko(2).await;
    let spec = NewOrder {
        tags: vec!["wholesale".into()],
        created_at: Some(chrono::DateTime::parse_from_rfc3339("2025-12-31T12:00:00Z").unwrap().into()),
        ..order_of("SKU-0001", 1)
    };
    let id = sim.create_order(spec).unwrap();
    let c = client();
    let get = || c.get(format!("{}/orders/{id}", sim.url())).bearer_auth(sim.token()).send();
    let before: Value = get().await.unwrap().json().await.unwrap();
    let o = &before["order"];
    assert_eq!(o["tags"], json!(["wholesale"]));
    assert!(o["created_at"].as_str().unwrap().starts_with("2025-12-31T12:00:00"), "{o}");
    assert_eq!(o["stock_location_id"], sim.location_id());

    let patch = cartgate::sim::tradegecko::OrderPatch { tags: Some(vec!["retail".into()]), ..Default::default() };
    sim.update_order(id, patch).unwrap();
    let after: Value = get().await.unwrap().json().await.unwrap();
    assert_eq!(after["order"]["tags"], json!(["retail"]));
    assert_eq!(after["order"]["created_at"], o["created_at"]);
}
