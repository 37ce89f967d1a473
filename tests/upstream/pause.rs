//! What the upstream says about its limit pauses the account for every replica.

use std::time::Duration;

use cartgate::testkit::unique_prefix;
use cartgate::upstream::{Account, Upstream, UpstreamClient, UpstreamError};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{FAST, local_client, now_ms, replica, sleep_until_ms, spec};

async fn replicas(upstream: Upstream, base: &str) -> Vec<Account> {
    let prefix = unique_prefix();
    let mut out = Vec::new();
    for _ in 0..3 {
        let client = replica(&prefix, Duration::from_millis(500)).await;
        out.push(client.account(spec(upstream, base, FAST, Duration::from_secs(5))).unwrap());
    }
    out
}

async fn server(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(template).mount(&server).await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_json(json!({}))).mount(&server).await;
    server
}

/// Every other replica is told to come back at exactly `until`.
async fn assert_others_paused_until(accounts: &[Account], until: i64) {
    for other in &accounts[1..] {
        match other.acquire().await {
            Err(UpstreamError::RateLimited { until: u, .. }) => assert_eq!(u, until),
            got => panic!("expected RateLimited until {until}, got {got:?}"),
        }
    }
}

async fn post(account: &Account) -> Result<cartgate::upstream::UpstreamResponse, UpstreamError> {
    account.post_json("/fulfillment/vendor/v2/orders", &json!({})).send().await
}

#[tokio::test]
async fn too_many_requests_with_retry_after_pauses_every_replica_until_then() {
    let server = server(ResponseTemplate::new(429).insert_header("Retry-After", "2")).await;
    let accounts = replicas(Upstream::EasyPost, &server.uri()).await;
    let before = now_ms();
    let err = post(&accounts[0]).await.unwrap_err();
    let UpstreamError::Transient { status: Some(429), retry_at: Some(until), .. } = err else { panic!("{err:?}") };
    assert!((before + 1_900..=now_ms() + 2_100).contains(&until), "paused until {until}, now {before}");
    assert_others_paused_until(&accounts, until).await;
    sleep_until_ms(until).await;
    accounts[2].get("/v2/trackers").send().await.expect("the pause is over");
}

#[tokio::test]
async fn bare_too_many_requests_backs_off_with_jitter_for_every_replica() {
    let server = server(ResponseTemplate::new(429)).await;
    let accounts = replicas(Upstream::EasyPost, &server.uri()).await;
    let before = now_ms();
    let err = post(&accounts[0]).await.unwrap_err();
    let Some(until) = err.retry_at() else { panic!("{err:?}") };
    // First strike: 1 s backoff scaled by a jitter in [0.5, 1].
    assert!((before + 450..=now_ms() + 1_050).contains(&until), "paused until {until}, now {before}");
    assert_others_paused_until(&accounts, until).await;
}

#[tokio::test]
async fn tradegecko_remaining_zero_pauses_until_reset_though_the_call_succeeded() {
    let reset_secs = now_ms() / 1000 + 2;
    let template = ResponseTemplate::new(201)
        .insert_header("X-Rate-Limit-Limit", "300")
        .insert_header("X-Rate-Limit-Remaining", "0")
        .insert_header("X-Rate-Limit-Reset", reset_secs.to_string().as_str())
        .insert_header("X-Request-ID", "tg-req-1")
        .set_body_json(json!({"fulfillment": {"id": 1}}));
    let server = server(template).await;
    let accounts = replicas(Upstream::TradeGecko, &server.uri()).await;
    accounts[0].post_json("/fulfillments", &json!({})).send().await.expect("the call itself succeeded");
    assert_others_paused_until(&accounts, reset_secs * 1000).await;
}

#[tokio::test]
async fn tradegecko_429_is_retried_at_the_reset() {
    let reset_secs = now_ms() / 1000 + 3;
    let template = ResponseTemplate::new(429)
        .insert_header("X-Rate-Limit-Remaining", "0")
        .insert_header("X-Rate-Limit-Reset", reset_secs.to_string().as_str());
    let server = server(template).await;
    let accounts = replicas(Upstream::TradeGecko, &server.uri()).await;
    let err = accounts[0].post_json("/orders", &json!({})).send().await.unwrap_err();
    assert_eq!(err.retry_at(), Some(reset_secs * 1000), "{err:?}");
    assert_others_paused_until(&accounts, reset_secs * 1000).await;
}

#[tokio::test]
async fn memory_store_pauses_locally() {
    let server = server(ResponseTemplate::new(429).insert_header("Retry-After", "1")).await;
    let client: UpstreamClient = local_client();
    let account = client.account(spec(Upstream::EasyPost, &server.uri(), FAST, Duration::from_secs(5))).unwrap();
    let until = post(&account).await.unwrap_err().retry_at().expect("a retry time");
    match account.acquire().await {
        Err(UpstreamError::RateLimited { until: u, .. }) => assert_eq!(u, until),
        other => panic!("{other:?}"),
    }
    sleep_until_ms(until).await;
    account.acquire().await.expect("the pause is over");
}
