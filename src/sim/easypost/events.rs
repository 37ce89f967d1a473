//! Outbound EasyPost events: `{"id":"evt_…","object":"Event",…,"result":{…}}` to every webhook
//! of the object's mode, signed per webhook (`X-Hmac-Signature: hmac-sha256-hex=…`, the
//! secret NFKD-normalised) with the same bytes for all. At least once: retried on failure.

use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use serde_json::{Value, json};

use super::EpShared;
use super::model::{Mode, new_id};
use crate::signature::easypost_sign;
use crate::sim::delivery::Outbound;
use crate::sim::util::{ep_time, lock};

/// Sends an event with `description` (`tracker.created`, `tracker.updated`,
/// `fulfillment.order.updated`) about `result` to the webhooks of `mode`.
pub(crate) fn emit(shared: &Arc<EpShared>, mode: Mode, description: &str, result: Value, previous: Option<Value>) {
    let hooks: Vec<(String, String)> = lock(&shared.state)
        .webhooks
        .iter()
        .filter(|w| w.mode == mode)
        .map(|w| (w.url.clone(), w.secret.clone()))
        .collect();
    if hooks.is_empty() {
        return;
    }
    let id = new_id("evt");
    let now = ep_time(&Utc::now());
    let urls: Vec<&String> = hooks.iter().map(|(u, _)| u).collect();
    let event = json!({
        "id": id, "object": "Event", "mode": mode, "description": description,
        "previous_attributes": previous, "result": result, "status": "pending",
        "pending_urls": urls, "completed_urls": [], "user_id": "user_sim",
        "created_at": now, "updated_at": now,
    });
    let body = Bytes::from(event.to_string());
    for (url, secret) in hooks {
        let headers = vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-hmac-signature".to_owned(), easypost_sign(&secret, &body)),
            ("user-agent".to_owned(), "EasyPost WebHook Agent 1.0 (cartgate sim)".to_owned()),
        ];
        let job = Outbound { url, body: body.clone(), headers, event: description.to_owned(), delivery_id: id.clone() };
        shared.deliverer.dispatch(job, |_| {});
    }
}
