//! Outbound Shopify webhooks (UPSTREAMS-shopify.md §2–§3): REST-shaped bodies (not GraphQL),
//! `X-Shopify-Hmac-Sha256` = Base64(HMAC-SHA256(app client secret, raw body)), and the headers
//! Shopify's libraries require. A delivery keeps its `X-Shopify-Webhook-Id` (and event id)
//! on every retry and on a duplicate, which is what receivers dedupe on.
//!
//! Deliveries go through the shared [`Deliverer`](crate::sim::delivery::Deliverer): retries on
//! non-2xx or a timeout (5 s by default; [`super::ShopifyConfig::delivery`]); after the last
//! retry (8 by default) the subscription is deleted, as Shopify does with API-created ones.
//! `delay_ms` (`/_sim/webhooks`) holds every delivery back before its first attempt.
//!
//! Compliance topics are not subscriptions: they go to the app's configured compliance URI
//! when the control API asks (Shopify sends them when a customer or the shop asks).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

use super::ShopShared;
use super::model::{Order, gid, topic_header};
use super::state::ShopState;
use crate::sim::delivery::{Outbound, Outcome};
use crate::sim::util::{lock, tg_time as iso};

/// Base64(HMAC-SHA256(secret, body)): `X-Shopify-Hmac-Sha256` — the very scheme of
/// TradeGecko's `X-Gecko-Signature`, so cartgate's signer makes it.
pub fn shopify_sign(secret: &str, body: &[u8]) -> String {
    crate::signature::tradegecko_sign(secret, body)
}

fn lower(display: &str) -> Value {
    Value::String(display.to_ascii_lowercase())
}

/// The REST fulfillment status of an order: `null`, `partial` or `fulfilled`.
fn rest_fulfillment(status: &str) -> Value {
    match status {
        "FULFILLED" => "fulfilled".into(),
        "PARTIALLY_FULFILLED" => "partial".into(),
        _ => Value::Null,
    }
}

/// The REST order of `orders/*` webhooks.
pub(crate) fn rest_order(s: &ShopState, o: &Order) -> Value {
    let a = &o.shipping_address;
    let remaining = |line: u64| -> i64 {
        let fos = s.fulfillment_orders.values().filter(|f| f.order_id == o.id && f.status != "CANCELLED");
        fos.flat_map(|f| f.lines.iter()).filter(|l| l.line_item_id == line).map(|l| l.remaining_quantity).sum()
    };
    let lines: Vec<Value> = o
        .line_items
        .iter()
        .map(|l| {
            let v = l.variant_id.and_then(|id| s.variants.get(&id));
            json!({"id": l.id, "admin_graphql_api_id": gid("LineItem", l.id), "variant_id": l.variant_id,
                "product_id": v.map(|v| v.product_id), "sku": l.sku, "title": l.title, "name": l.title,
                "quantity": l.quantity, "fulfillable_quantity": remaining(l.id), "requires_shipping": true,
                "price": "10.00"})
        })
        .collect();
    let shipping: Vec<Value> = o
        .shipping_line
        .iter()
        .map(|l| json!({"id": o.id % 1_000_000, "title": l.title, "code": l.code, "source": l.source, "price": "0.00"}))
        .collect();
    json!({
        "id": o.id, "admin_graphql_api_id": gid("Order", o.id), "name": o.name,
        "order_number": o.name.trim_start_matches('#').parse::<u64>().ok(), "email": o.email, "contact_email": o.email,
        "created_at": iso(&o.created_at), "updated_at": iso(&o.updated_at),
        "cancelled_at": o.cancelled_at.as_ref().map(iso), "cancel_reason": o.cancelled_at.map(|_| "customer"),
        "financial_status": lower(&o.financial_status), "fulfillment_status": rest_fulfillment(&o.fulfillment_status),
        "tags": o.tags.join(", "), "currency": "USD", "line_items": lines, "shipping_lines": shipping,
        "shipping_address": {"first_name": a.first_name, "last_name": a.last_name,
            "name": format!("{} {}", a.first_name, a.last_name).trim(), "company": a.company_name,
            "address1": a.address1, "address2": a.address2, "city": a.city, "province": a.state,
            "province_code": a.state, "zip": a.zip_code, "country": a.country, "country_code": a.country_code,
            "phone": a.phone_number},
        "customer": {"id": o.customer_id, "admin_graphql_api_id": gid("Customer", o.customer_id), "email": o.email,
            "first_name": a.first_name, "last_name": a.last_name, "phone": a.phone_number},
    })
}

/// Sends `topic` (enum spelling) about order `order_id` to every subscription of it.
pub(crate) fn emit_order(shared: &Arc<ShopShared>, topic: &'static str, order_id: u64) {
    let body = {
        let s = lock(&shared.state);
        let Some(o) = s.orders.get(&order_id) else { return };
        rest_order(&s, o)
    };
    emit(shared, topic, &body);
}

/// Sends `body` to every subscription of `topic`.
pub(crate) fn emit(shared: &Arc<ShopShared>, topic: &'static str, body: &Value) {
    let hooks: Vec<(u64, String)> = lock(&shared.state)
        .subscriptions
        .values()
        .filter(|w| w.topic == topic)
        .map(|w| (w.id, w.uri.clone()))
        .collect();
    let header = topic_header(topic).unwrap_or(topic);
    for (hook_id, uri) in hooks {
        let me = shared.clone();
        let job = outbound(shared, uri, header, body);
        send(shared, job, move |outcome| {
            if matches!(outcome, Outcome::Gone | Outcome::GaveUp) {
                lock(&me.state).subscriptions.remove(&hook_id);
            }
        });
    }
}

/// A signed delivery of `body` under `topic` (REST spelling).
pub(crate) fn outbound(shared: &ShopShared, uri: String, topic: &str, body: &Value) -> Outbound {
    let body = Bytes::from(body.to_string());
    let webhook_id = uuid::Uuid::new_v4().to_string();
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("x-shopify-topic".to_owned(), topic.to_owned()),
        ("x-shopify-hmac-sha256".to_owned(), shopify_sign(&shared.client_secret, &body)),
        ("x-shopify-shop-domain".to_owned(), shared.shop.clone()),
        ("x-shopify-api-version".to_owned(), shared.webhook_version()),
        ("x-shopify-webhook-id".to_owned(), webhook_id.clone()),
        ("x-shopify-event-id".to_owned(), uuid::Uuid::new_v4().to_string()),
        ("x-shopify-triggered-at".to_owned(), iso(&chrono::Utc::now())),
        ("user-agent".to_owned(), "Shopify-Captain-Hook".to_owned()),
    ];
    Outbound { url: uri, body, headers, event: topic.to_owned(), delivery_id: webhook_id }
}

/// Dispatches a delivery, after the configured delay.
pub(crate) fn send(shared: &Arc<ShopShared>, job: Outbound, on_done: impl FnOnce(Outcome) + Send + 'static) {
    let delay = shared.webhook_delay_ms.load(std::sync::atomic::Ordering::Relaxed);
    let deliverer = shared.deliverer.clone();
    if delay == 0 {
        deliverer.dispatch(job, on_done);
        return;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => drop(rt.spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            deliverer.dispatch(job, on_done);
        })),
        Err(_) => deliverer.dispatch(job, on_done),
    }
}
