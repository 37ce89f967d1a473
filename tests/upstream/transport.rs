//! What goes on the wire, and failures before vs after the request was sent.

use std::time::Duration;

use cartgate::testkit::free_port;
use cartgate::upstream::{Upstream, UpstreamError};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{FAST, easypost, local_client, spec, tradegecko};

#[tokio::test]
async fn tradegecko_request_carries_bearer_token_request_id_and_query() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/orders"))
        .and(header("authorization", "Bearer tg-token-do-not-log"))
        .and(header("x-request-id", "job-123"))
        .and(query_param("page", "2"))
        .and(query_param("status[]", "finalized"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"orders": []})))
        .expect(1)
        .mount(&server)
        .await;
    let account = tradegecko(&local_client(), &server.uri());
    let q = [("page", "2"), ("status[]", "finalized")];
    account.get("/orders").query(&q).request_id("job-123").send().await.unwrap();
}

#[tokio::test]
async fn easypost_post_uses_basic_auth_content_length_and_idempotency_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("authorization", "Basic RVpUS2tleS1kby1ub3QtbG9nOg=="))
        .and(header("idempotency-key", "send_order:c1:42"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "order_1"})))
        .expect(1)
        .mount(&server)
        .await;
    let account = easypost(&local_client(), &server.uri());
    let body = json!({"description": "#1001", "line_items": [{"product": {"barcode": "0123"}, "units": 2}]});
    let resp = account
        .post_json("/fulfillment/vendor/v2/orders", &body)
        .header("Idempotency-Key", "send_order:c1:42")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let received = &server.received_requests().await.unwrap()[0];
    let length = received.headers.get("content-length").unwrap().to_str().unwrap();
    assert_eq!(length.parse::<usize>().unwrap(), received.body.len());
    assert!(received.headers.get("transfer-encoding").is_none());
    assert_eq!(received.headers.get("content-type").unwrap(), "application/json");
}

fn silent_server_account(server: &MockServer) -> cartgate::upstream::Account {
    let spec = spec(Upstream::EasyPost, &server.uri(), FAST, Duration::from_millis(300));
    local_client().account(spec).unwrap()
}

async fn never_answering() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn post_without_answer_is_ambiguous_not_transient() {
    let server = never_answering().await;
    let err = silent_server_account(&server)
        .post_json("/fulfillment/vendor/v2/orders", &json!({"description": "#1"}))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, UpstreamError::Ambiguous { .. }), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "the request did reach the server");
}

#[tokio::test]
async fn get_without_answer_is_transient_because_reading_is_safe_to_repeat() {
    let server = never_answering().await;
    let err = silent_server_account(&server).get("/fulfillment/vendor/v2/orders").send().await.unwrap_err();
    assert!(matches!(err, UpstreamError::Transient { status: None, .. }), "{err:?}");
}

#[tokio::test]
async fn connection_refused_is_transient_even_for_a_post() {
    let port = free_port().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let err = easypost(&local_client(), &base).post_json("/fulfillment/vendor/v2/orders", &json!({})).send().await;
    let err = err.unwrap_err();
    assert!(matches!(err, UpstreamError::Transient { status: None, .. }), "{err:?}");
}

#[tokio::test]
async fn secrets_never_appear_in_errors_or_debug_output() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(401)).mount(&server).await;
    let account = tradegecko(&local_client(), &server.uri());
    let err = account.get("/orders").send().await.unwrap_err();
    for shown in [format!("{err}"), format!("{err:?}"), format!("{account:?}"), account.id().to_string()] {
        assert!(!shown.contains("do-not-log"), "{shown}");
    }
}

#[tokio::test]
async fn merchant_settings_pick_the_active_key_and_say_when_it_is_missing() {
    use cartgate::settings::{RateLimit, Secret, WmsKind, WmsSettings};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("authorization", "Basic dGVzdC1rZXk6")) // "test-key:"
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"trackers": []})))
        .expect(1)
        .mount(&server)
        .await;
    let mut wms = WmsSettings {
        kind: WmsKind::Easypost,
        base_url: url::Url::parse(&server.uri()).unwrap(),
        production_api_key: None,
        test_api_key: Some(Secret::literal("test-key")),
        test_mode: true,
        webhook_secret: None,
        webhook_secret_previous: None,
        rate_limit: RateLimit::easypost(),
        timeout_secs: 5,
    };
    let client = local_client();
    client.easypost(&wms).unwrap().get("/v2/trackers").query(&[("page_size", "1")]).send().await.unwrap();
    wms.test_mode = false;
    let err = client.easypost(&wms).unwrap_err();
    assert!(err.to_string().contains("no EasyPost production API key"), "{err}");
}

#[tokio::test]
async fn calls_are_counted_by_route_template_and_status() {
    let metrics = cartgate::metrics::Metrics::install();
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(404)).mount(&server).await;
    let account = tradegecko(&local_client(), &server.uri());
    let _ = account.get("/addresses/987654").send().await;
    let text = metrics.render();
    let counted = text.lines().any(|l| {
        l.starts_with("cartgate_upstream_requests_total")
            && l.contains(r#"endpoint="/addresses/:id""#)
            && l.contains(r#"status="404""#)
            && l.contains(r#"upstream="tradegecko""#)
    });
    assert!(counted, "{text}");
    assert!(text.contains("cartgate_upstream_request_duration_seconds_bucket"), "{text}");
}
