//! Health, readiness, metrics, request ids, the error shape and the admin guard.

use crate::support::{ADMIN_TOKEN, base, error_code, spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_and_readyz_answer_200_on_the_embedded_store() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn readyz_is_503_naming_the_store_when_redis_is_unreachable_but_healthz_stays_200() {
    let app = spawn_app_with(&base("redis://127.0.0.1:1/0")).await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_ready");
    assert!(body["error"]["message"].as_str().unwrap().contains("store"), "{body}");
}

#[tokio::test]
async fn readyz_is_200_against_a_real_redis() {
    let app = spawn_app_with(&base(&cartgate::testkit::TestRedis::shared_url())).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn readiness_turns_off_when_shutdown_begins() {
    let app = spawn_app().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.readiness.begin_shutdown();
    // The server may already have stopped accepting; if it answers, it must say not ready.
    if let Ok(resp) = app.client.get(app.url("/readyz")).send().await {
        assert_eq!(resp.status(), 503);
    }
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_request_counts_and_latency() {
    let app = spawn_app().await;
    app.get("/healthz").await;
    let resp = app.get("/metrics").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = resp.text().await.unwrap();
    assert!(text.contains(r#"cartgate_http_requests_total{route="/healthz",method="GET",status="200"}"#), "{text}");
    assert!(text.contains("cartgate_http_request_duration_seconds_bucket"), "{text}");
    assert!(text.contains("process_"), "process metrics missing");
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "not a sample line: {line}");
    }
}

#[tokio::test]
async fn request_id_is_echoed_or_generated() {
    let app = spawn_app().await;
    let resp = app.client.get(app.url("/healthz")).header("X-Request-Id", "abc-123").send().await.unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
    let resp = app.get("/healthz").await;
    assert!(!resp.headers()["x-request-id"].is_empty());
}

#[tokio::test]
async fn unknown_route_is_a_json_404() {
    let app = spawn_app().await;
    let resp = app.get("/no/such/route").await;
    assert_eq!(resp.status(), 404);
    assert_eq!(error_code(resp).await, "not_found");
}

#[tokio::test]
async fn admin_routes_need_the_bearer_token() {
    let app = spawn_app().await;
    let resp = app.get("/admin/config").await;
    assert_eq!(resp.status(), 401);
    assert_eq!(error_code(resp).await, "unauthorized");
    let resp = app.client.get(app.url("/admin/config")).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = app.admin_get("/admin/config").await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(!text.contains(ADMIN_TOKEN), "admin config leaked the token: {text}");
}

#[tokio::test]
async fn admin_routes_are_404_when_no_token_is_configured() {
    let mut wiring = base("memory://");
    wiring.server.admin_token = None;
    let app = spawn_app_with(&wiring).await;
    let resp = app.client.get(app.url("/admin/config")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(error_code(resp).await, "not_found");
}
