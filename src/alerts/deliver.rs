//! `deliver_alert`: send one message of a merchant's outbox on each configured channel.
//!
//! Idempotent per channel: a channel that delivered is marked done in the outbox before the
//! job goes on, so a retry (another channel failed, the worker died) never sends it twice; a
//! failed channel makes the job retry on the standard backoff and, past the give-up horizon,
//! land in the dead letters (its notices stay in the outbox, so a redrive sends them). Every
//! attempt of one message carries the same id (`webhook-id`, `Message-ID`). Which channels
//! exist is read from the merchant's settings at delivery time (a channel removed meanwhile
//! is not used). Nothing here logs or records a secret: errors name channels and statuses.

use chrono::Utc;

use super::message::{Message, MessageId};
use super::outbox::{Channel, Outbox};
use super::{email, webhook};
use crate::jobs::DeliverAlert;
use crate::settings::MerchantSettings;
use crate::store::ClaimedJob;
use crate::workers::{Handler, Outcome};
use crate::workflows::{Deps, payload, store_failed};

/// Deliveries by channel and outcome (`sent`, `retry`, `failed`).
pub const DELIVERIES: &str = "cartgate_alert_deliveries_total";

/// Describes the delivery metrics (called where every metric is described).
pub fn describe() {
    metrics::describe_counter!(DELIVERIES, "Alert message deliveries by channel (email, webhook) and outcome");
}

/// Why one channel did not deliver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// May pass (receiver down, timeout, SMTP 4xx): retried.
    #[error("{0}")]
    Transient(String),
    /// Will not pass as configured (bad address, SMTP 5xx, no mail server).
    #[error("{0}")]
    Permanent(String),
}

/// The `deliver_alert` handler.
pub struct DeliveryHandler {
    deps: Deps,
    outbox: Outbox,
}

impl DeliveryHandler {
    pub fn new(deps: &Deps) -> Self {
        Self { deps: deps.clone(), outbox: super::outbox(deps) }
    }

    async fn deliver(&self, job: &ClaimedJob) -> Result<Outcome, Outcome> {
        let p: DeliverAlert = payload(job)?;
        let group = MessageId::parse(&p.message).ok_or_else(|| Outcome::Permanent("not a message id".into()))?;
        let pending = self.outbox.pending(&p.merchant, &group).await.map_err(store_failed)?;
        let fields: Vec<String> = pending.iter().map(|n| n.field.clone()).collect();
        let Some(first) = pending.first().map(|n| n.seq) else {
            return Ok(Outcome::Done); // delivered already (a rerun after the notices were removed)
        };
        // An instant message is its group; a digest's id also names its first notice.
        let msg = match p.digest_end {
            Some(end) => MessageId::digest_message(&p.merchant, end, first),
            None => group,
        };
        let settings = match self.deps.merchant(p.merchant.as_str()).await {
            Ok(settings) => settings,
            Err(Outcome::Done) => {
                // The merchant is gone: nobody to tell; its notices go too.
                self.outbox.remove(&p.merchant, &msg, &fields).await.map_err(store_failed)?;
                return Ok(Outcome::Done);
            }
            Err(other) => return Err(other),
        };
        let notices = pending.into_iter().map(|n| n.notice).collect();
        let message = Message { id: msg.clone(), merchant: p.merchant.clone(), digest_end: p.digest_end, notices };
        let done = self.outbox.sent(&p.merchant, &msg).await.map_err(store_failed)?;
        let (mut retry, mut failed) = (Vec::new(), Vec::new());
        for channel in Channel::configured(&self.deps.settings, &settings.alerts) {
            if done.contains(&channel) {
                continue;
            }
            let outcome = match self.send(channel, &settings, &message).await {
                Ok(()) => {
                    let now = Utc::now().timestamp_millis();
                    self.outbox.mark_sent(&p.merchant, &msg, channel, now).await.map_err(store_failed)?;
                    tracing::info!(merchant = %p.merchant, msg = %msg, channel = channel.as_str(), "alert message delivered");
                    "sent"
                }
                Err(e) => {
                    let (outcome, into) = match e {
                        ChannelError::Transient(_) => ("retry", &mut retry),
                        ChannelError::Permanent(_) => ("failed", &mut failed),
                    };
                    tracing::warn!(merchant = %p.merchant, msg = %msg, channel = channel.as_str(), outcome, error = %e, "alert message not delivered");
                    into.push(format!("{}: {e}", channel.as_str()));
                    outcome
                }
            };
            metrics::counter!(DELIVERIES, "channel" => channel.as_str(), "outcome" => outcome).increment(1);
        }
        if !retry.is_empty() {
            return Ok(Outcome::Retry(retry.join("; ")));
        }
        if !failed.is_empty() {
            return Ok(Outcome::Permanent(failed.join("; ")));
        }
        self.outbox.remove(&p.merchant, &msg, &fields).await.map_err(store_failed)?;
        Ok(Outcome::Done)
    }

    async fn send(&self, channel: Channel, merchant: &MerchantSettings, message: &Message) -> Result<(), ChannelError> {
        let alerts = &merchant.alerts;
        match channel {
            Channel::Email => {
                let smtp = self.deps.settings.alerts.smtp.as_ref();
                let smtp = smtp.ok_or_else(|| ChannelError::Permanent("no [alerts.smtp] is configured".into()))?;
                email::send(smtp, &alerts.email, message, self.deps.settings.server.public_url.as_ref()).await
            }
            Channel::Webhook => {
                let hook = alerts.webhook.as_ref();
                let hook = hook.ok_or_else(|| ChannelError::Permanent("no webhook is configured".into()))?;
                webhook::send(self.deps.upstream.http(), hook, message, Utc::now().timestamp()).await
            }
        }
    }
}

#[async_trait::async_trait]
impl Handler for DeliveryHandler {
    async fn handle(&self, job: &ClaimedJob) -> Outcome {
        self.deliver(job).await.unwrap_or_else(|o| o)
    }
}
