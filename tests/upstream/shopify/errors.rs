//! Shopify's answers → error classes (UPSTREAMS-shopify.md §7), and the 401 refresh.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cartgate::settings::{CartSettings, Secret};
use cartgate::upstream::{BearerToken, TokenProvider, TokenSource, Upstream, UpstreamError};
use serde_json::json;
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{answer, data, shop};
use crate::support::{local_client, now_ms};

async fn check_against(template: ResponseTemplate) -> UpstreamError {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(template).mount(&server).await;
    shop(&local_client(), &server.uri()).check().await.unwrap_err()
}

#[tokio::test]
async fn http_answers_take_shopify_s_meanings() {
    let e = check_against(ResponseTemplate::new(401).set_body_json(json!({"errors": "[API] Invalid API key"}))).await;
    assert!(matches!(e, UpstreamError::Unauthorized { status: 401, .. }), "{e:?}");
    let e = check_against(ResponseTemplate::new(403)).await;
    assert!(matches!(&e, UpstreamError::Rejected { status: 403, code: Some(c), .. } if c == "ACCESS_DENIED"), "{e:?}");
    let e = check_against(ResponseTemplate::new(404)).await;
    assert!(matches!(e, UpstreamError::NotFound { .. }), "{e:?}");
    let e = check_against(ResponseTemplate::new(503)).await;
    assert!(matches!(e, UpstreamError::Transient { status: Some(503), .. }), "{e:?}");
    for closed in [402, 423] {
        let before = now_ms();
        let e = check_against(ResponseTemplate::new(closed)).await;
        let UpstreamError::RateLimited { until, .. } = e else { panic!("{closed}: {e:?}") };
        assert!(until >= before + 3_500_000, "{closed}: retried in an hour, not {} ms", until - before);
    }
}

#[tokio::test]
async fn a_too_many_requests_answer_is_a_rate_limit_wait() {
    let e = check_against(ResponseTemplate::new(429).insert_header("Retry-After", "2")).await;
    assert!(matches!(e, UpstreamError::RateLimited { .. }), "{e:?}");
}

#[tokio::test]
async fn top_level_errors_fail_the_operation_with_shopify_s_words() {
    let body = json!({"errors": [{"message": "Field 'nope' doesn't exist on type 'Shop'",
                                  "extensions": {"code": "undefinedField"}}]});
    let e = check_against(ResponseTemplate::new(200).set_body_json(body)).await;
    assert!(matches!(&e, UpstreamError::Rejected { code: Some(c), .. } if c == "undefinedField"), "{e:?}");
    assert!(e.merchant_message().contains("doesn't exist"));
    let body = json!({"errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]});
    let e = check_against(ResponseTemplate::new(200).set_body_json(body)).await;
    assert!(matches!(e, UpstreamError::Transient { .. }), "{e:?}");
}

#[tokio::test]
async fn an_answer_from_another_api_version_is_still_read() {
    let server = MockServer::start().await;
    answer(
        &server,
        "shop { name }",
        data(json!({"shop": {"name": "A"}})).insert_header("X-Shopify-API-Version", "2025-10"),
    )
    .await;
    shop(&local_client(), &server.uri()).check().await.unwrap();
}

/// An OAuth connection whose token is `old` until refreshed, then `new`.
struct Tokens {
    refreshes: AtomicU64,
    unrecoverable: AtomicU64,
}

#[async_trait::async_trait]
impl TokenSource for Tokens {
    fn account_key(&self) -> String {
        "shopify:acme-shop".into()
    }
    async fn token(&self) -> Result<BearerToken, UpstreamError> {
        Ok(BearerToken { version: 1, token: Secret::literal("old") })
    }
    async fn rejected(&self, _: &BearerToken) -> Result<BearerToken, UpstreamError> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        Ok(BearerToken { version: 2, token: Secret::literal("new") })
    }
    async fn unrecoverable(&self, _: &BearerToken) -> UpstreamError {
        self.unrecoverable.fetch_add(1, Ordering::SeqCst);
        UpstreamError::Disconnected { upstream: Upstream::Shopify, reason: "refused".into() }
    }
}

struct Provider(Arc<Tokens>);

impl TokenProvider for Provider {
    fn source(&self, _: &CartSettings) -> Arc<dyn TokenSource> {
        self.0.clone()
    }
}

async fn oauth_check(fresh_accepted: bool) -> (Result<(), UpstreamError>, Arc<Tokens>) {
    let server = MockServer::start().await;
    let ok = data(json!({"shop": {"name": "A"}}));
    let new = if fresh_accepted { ok } else { ResponseTemplate::new(401) };
    Mock::given(header("x-shopify-access-token", "new")).respond_with(new).mount(&server).await;
    Mock::given(header("x-shopify-access-token", "old")).respond_with(ResponseTemplate::new(401)).mount(&server).await;
    let tokens = Arc::new(Tokens { refreshes: AtomicU64::new(0), unrecoverable: AtomicU64::new(0) });
    let client = local_client().with_tokens(Arc::new(Provider(tokens.clone())));
    let mut cart = super::cart(&server.uri());
    cart.auth = cartgate::settings::CartAuth::Oauth;
    cart.access_token = None;
    let result = cartgate::cart::connect(&client, &cart).unwrap().check().await;
    (result, tokens)
}

#[tokio::test]
async fn a_refused_oauth_token_is_refreshed_once_and_sent_in_shopify_s_header() {
    let (result, tokens) = oauth_check(true).await;
    result.unwrap();
    assert_eq!(tokens.refreshes.load(Ordering::SeqCst), 1);
    let (result, tokens) = oauth_check(false).await;
    assert!(matches!(result, Err(UpstreamError::Disconnected { .. })), "{result:?}");
    assert_eq!((tokens.refreshes.load(Ordering::SeqCst), tokens.unrecoverable.load(Ordering::SeqCst)), (1, 1));
}
