//! Alert webhooks as the Standard Webhooks specification has them: `POST` of the JSON payload
//! with `webhook-id` (the message id, the same on every retry), `webhook-timestamp` (unix
//! seconds of this attempt) and `webhook-signature` ([`super::sign`]). Sent with the upstream
//! client core's pooled client (rustls, no redirects, connect timeout) and a request timeout;
//! any 2xx is delivered, anything else is retried by the job.

use std::time::Duration;

use super::deliver::ChannelError;
use super::message::Message;
use super::sign;
use crate::settings::AlertWebhook;

/// How long one webhook attempt may take (the specification suggests receivers answer fast).
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);

/// Posts `message` to `hook`, signed for `timestamp` (unix seconds).
pub async fn send(
    http: &reqwest::Client,
    hook: &AlertWebhook,
    message: &Message,
    timestamp: i64,
) -> Result<(), ChannelError> {
    if !hook.url_is_allowed() {
        return Err(ChannelError::Permanent("the webhook URL must be https:// (or http:// to loopback)".into()));
    }
    let body = message.body();
    let signature = sign::sign(hook.secret.expose(), message.id.as_str(), timestamp, &body)
        .map_err(|e| ChannelError::Permanent(format!("webhook secret: {e}")))?;
    let sent = http
        .post(hook.url.clone())
        .timeout(WEBHOOK_TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", message.id.as_str())
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        // The URL is the merchant's and may carry a token in its query: never in an error.
        .map_err(|e| ChannelError::Transient(format!("webhook: {}", e.without_url())))?;
    let status = sent.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(ChannelError::Transient(format!("webhook: the receiver answered {status}")))
    }
}
