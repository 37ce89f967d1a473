//! HTTP answers → error classes, with the upstream's own words kept.

use cartgate::upstream::UpstreamError;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{easypost, local_client, now_ms, tradegecko};

async fn answering(status: u16, body: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(status).set_body_json(body)).mount(&server).await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(status)).mount(&server).await;
    server
}

#[tokio::test]
async fn tradegecko_401_is_credentials_rejected() {
    let server = answering(401, json!({"message": "invalid token"})).await;
    let err = tradegecko(&local_client(), &server.uri()).get("/orders").send().await.unwrap_err();
    assert!(matches!(err, UpstreamError::Unauthorized { status: 401, .. }), "{err:?}");
    assert_eq!(err.merchant_message(), "credentials rejected");
}

#[tokio::test]
async fn inactive_easypost_key_is_unauthorized_with_its_code_kept() {
    let body =
        json!({"error": {"code": "APIKEY.INACTIVE", "message": "This api key is no longer active.", "errors": []}});
    let server = answering(403, body).await;
    let err = easypost(&local_client(), &server.uri()).post_json("/v2/trackers", &json!({})).send().await.unwrap_err();
    match &err {
        UpstreamError::Unauthorized { status: 403, code, .. } => assert_eq!(code.as_deref(), Some("APIKEY.INACTIVE")),
        other => panic!("{other:?}"),
    }
    assert!(err.merchant_message().contains("inactive"), "{}", err.merchant_message());
}

#[tokio::test]
async fn missing_resource_is_not_found() {
    let server = answering(404, json!({})).await;
    let err = tradegecko(&local_client(), &server.uri()).get("/orders/42").send().await.unwrap_err();
    assert!(matches!(err, UpstreamError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn tradegecko_validation_error_keeps_field_messages() {
    let server = answering(422, json!({"errors": {"order_id": ["can't be blank"]}})).await;
    let err =
        tradegecko(&local_client(), &server.uri()).post_json("/fulfillments", &json!({})).send().await.unwrap_err();
    match err {
        UpstreamError::Rejected { status: 422, message, raw_body, .. } => {
            assert_eq!(message, "order_id can't be blank");
            assert!(raw_body.contains("order_id"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn easypost_rejection_keeps_code_message_and_details() {
    let body = json!({"error": {"code": "ORDER.INSUFFICIENT_INVENTORY", "message": "Not enough stock",
        "errors": [{"field": "line_items", "message": "quantity exceeds inventory"}, "see docs"]}});
    let server = answering(422, body).await;
    let account = easypost(&local_client(), &server.uri());
    let err = account.post_json("/fulfillment/vendor/v2/orders", &json!({})).send().await.unwrap_err();
    match err {
        UpstreamError::Rejected { status: 422, code, message, .. } => {
            assert_eq!(code.as_deref(), Some("ORDER.INSUFFICIENT_INVENTORY"));
            assert_eq!(message, "Not enough stock; line_items: quantity exceeds inventory; see docs");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn easypost_errors_object_shape_is_read_too() {
    let server = answering(422, json!({"errors": {"quantity": ["exceeds available stock"]}})).await;
    let account = easypost(&local_client(), &server.uri());
    let err = account.post_json("/fulfillment/vendor/v2/orders", &json!({})).send().await.unwrap_err();
    match err {
        UpstreamError::Rejected { code: None, message, .. } => assert_eq!(message, "quantity exceeds available stock"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn server_errors_are_transient() {
    let server = answering(500, json!({"error": "boom"})).await;
    let err = tradegecko(&local_client(), &server.uri()).post_json("/orders", &json!({})).send().await.unwrap_err();
    assert!(matches!(err, UpstreamError::Transient { status: Some(500), retry_at: None, .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn unavailable_with_retry_after_is_transient_with_retry_time() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "30"))
        .mount(&server)
        .await;
    let before = now_ms();
    let err = easypost(&local_client(), &server.uri()).get("/v2/trackers").send().await.unwrap_err();
    let UpstreamError::Transient { status: Some(503), retry_at: Some(at), .. } = err else { panic!("{err:?}") };
    assert!((before + 29_000..=now_ms() + 31_000).contains(&at), "retry_at {at} vs now {before}");
}

#[tokio::test]
async fn success_is_parsed_and_unexpected_json_is_invalid() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/orders/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"order": {"id": 7}})))
        .mount(&server)
        .await;
    let resp = tradegecko(&local_client(), &server.uri()).get("/orders/7").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let v: serde_json::Value = resp.json().unwrap();
    assert_eq!(v["order"]["id"], 7);
    let err = resp.json::<Vec<u32>>().unwrap_err();
    assert!(matches!(err, UpstreamError::Invalid { .. }), "{err:?}");
}
