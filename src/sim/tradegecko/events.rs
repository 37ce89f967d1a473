//! Outbound TradeGecko notifications: a thin body naming the object, signed with the OAuth
//! application's client secret (`X-Gecko-Signature`), with a unique `X-Gecko-Delivery`.
//! A 410 from the receiver deletes the webhook; so does giving up after the retry policy's
//! last attempt (TradeGecko deletes a webhook after 3 days of failures — here, after the
//! configured attempts — which is what cartgate's `ensure_webhooks` job must repair).

use std::sync::Arc;

use bytes::Bytes;
use serde_json::json;

use super::TgShared;
use crate::signature::tradegecko_sign;
use crate::sim::delivery::{Outbound, Outcome};
use crate::sim::util::{lock, now_ms};

/// `order.create` and the documented plural spelling `orders.create` name the same event.
fn canonical(event: &str) -> String {
    match event.split_once('.') {
        Some((resource, action)) => format!("{}.{action}", resource.trim_end_matches('s')),
        None => event.to_owned(),
    }
}

/// The API path of the object an event is about.
fn resource_path(event: &str, id: u64) -> String {
    let resource = canonical(event);
    match resource.split_once('.').map(|(r, _)| r) {
        Some("fulfillment") => format!("/fulfillments/{id}"),
        Some("variant") => format!("/variants/{id}"),
        Some("stock_adjustment") => format!("/stock_adjustments/{id}"),
        _ => format!("/orders/{id}"),
    }
}

/// Sends `event` about `object_id` to every webhook registered for it.
pub(crate) fn emit(shared: &Arc<TgShared>, event: &str, object_id: u64) {
    let wanted = canonical(event);
    let hooks: Vec<(u64, String)> = lock(&shared.state)
        .webhooks
        .values()
        .filter(|w| canonical(&w.event) == wanted)
        .map(|w| (w.id, w.address.clone()))
        .collect();
    for (hook_id, address) in hooks {
        let body = json!({
            "object_id": object_id,
            "event": event,
            "timestamp": now_ms() / 1000,
            "resource_url": format!("{}{}", shared.base_url, resource_path(event, object_id)),
        });
        let body = Bytes::from(body.to_string());
        let delivery_id = uuid::Uuid::new_v4().to_string();
        let headers = vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-gecko-signature".to_owned(), tradegecko_sign(&shared.client_secret, &body)),
            ("x-gecko-delivery".to_owned(), delivery_id.clone()),
            ("user-agent".to_owned(), "TradeGecko-Webhook (cartgate sim)".to_owned()),
        ];
        let job = Outbound { url: address, body, headers, event: event.to_owned(), delivery_id };
        let me = shared.clone();
        shared.deliverer.dispatch(job, move |outcome| {
            if matches!(outcome, Outcome::Gone | Outcome::GaveUp) {
                lock(&me.state).webhooks.remove(&hook_id);
            }
        });
    }
}
