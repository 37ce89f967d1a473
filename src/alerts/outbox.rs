//! The real [`AlertSink`]: `notify` durably records the notice in the merchant's outbox and
//! schedules a `deliver_alert` job for the message it belongs to — now (`digest = "instant"`,
//! one message per notice) or at the end of the digest period (one message per period).
//!
//! # Keys (relative to the store prefix; one hash tag per merchant, Redis Cluster safe)
//! | key | type | what |
//! | --- | --- | --- |
//! | `{m:<merchant>}:alerts:outbox` | hash | `<msg_id>/<seq>` → [`StoredNotice`] JSON, until delivered |
//! | `{m:<merchant>}:alerts:sent` | hash | `<msg_id>/<channel>` → unix s: channels done for a message |
//! | `{m:<merchant>}:alerts:seq` | hash | `seq`: the merchant's notice counter |
//!
//! Bounded: a delivered message's notices and markers are removed; a merchant holds at most
//! [`MAX_PENDING`] undelivered notices (more are dropped with a warning — the alerts
//! themselves stay listed by the API). Notices hold no secret (see [`super::model`]).

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;

use super::message::{MessageId, StoredNotice};
use super::model::{AlertSink, Notice, NoticeEvent};
use crate::domain::MerchantId;
use crate::jobs::DeliverAlert;
use crate::ledger::Kv;
use crate::settings::{Digest, MerchantAlerts, Settings};
use crate::store::{JobStore, Millis, OnExisting, StoreError, When};
use crate::tenants::Tenants;

/// Undelivered notices kept per merchant.
pub const MAX_PENDING: usize = 1_000;

/// A delivery channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Email,
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Webhook => "webhook",
        }
    }

    /// The channels `alerts` configures that this deployment can use (e-mail needs `[alerts.smtp]`).
    pub fn configured(settings: &Settings, alerts: &MerchantAlerts) -> Vec<Channel> {
        let mut out = Vec::new();
        if !alerts.email.is_empty() && settings.alerts.smtp.is_some() {
            out.push(Self::Email);
        }
        if alerts.webhook.is_some() {
            out.push(Self::Webhook);
        }
        out
    }
}

fn outbox_key(m: &MerchantId) -> String {
    format!("{{m:{m}}}:alerts:outbox")
}

fn sent_key(m: &MerchantId) -> String {
    format!("{{m:{m}}}:alerts:sent")
}

/// Set once a notice (alert id + event) is in the outbox: the lifecycle may hand the same notice
/// again when it could not record that it was told (a crash, a store error), and it is sent once.
fn noticed_key(m: &MerchantId, notice: &Notice) -> String {
    let event = match notice.event {
        NoticeEvent::Opened => "opened",
        NoticeEvent::Resolved => "resolved",
    };
    format!("{{m:{m}}}:alerts:noticed:{}:{event}", notice.alert.id)
}

/// How long a notice is remembered as queued: longer than a resolved alert is kept.
const NOTICED_TTL_MS: u64 = 31 * 24 * 3600 * 1000;

fn seq_key(m: &MerchantId) -> String {
    format!("{{m:{m}}}:alerts:seq")
}

/// One undelivered notice of the outbox.
#[derive(Debug, Clone)]
pub struct Pending {
    pub field: String,
    pub seq: i64,
    pub notice: StoredNotice,
}

/// The outbox of every merchant, over the ledger's store and the queue.
#[derive(Clone)]
pub struct Outbox {
    kv: Arc<dyn Kv>,
    jobs: Arc<dyn JobStore>,
    settings: Arc<Settings>,
    tenants: Tenants,
}

impl Outbox {
    pub fn new(kv: Arc<dyn Kv>, jobs: Arc<dyn JobStore>, settings: Arc<Settings>, tenants: Tenants) -> Self {
        Self { kv, jobs, settings, tenants }
    }

    /// The notices of one outbox group (a message, or a digest period) still to deliver,
    /// oldest first, with their outbox fields and sequence numbers.
    pub async fn pending(&self, m: &MerchantId, msg: &MessageId) -> Result<Vec<Pending>, StoreError> {
        let prefix = format!("{msg}/");
        let mut found: Vec<(i64, String, StoredNotice)> = Vec::new();
        for (field, json) in self.kv.hgetall(&outbox_key(m)).await? {
            let Some(seq) = field.strip_prefix(&prefix).and_then(|s| s.parse().ok()) else { continue };
            match serde_json::from_str(&json) {
                Ok(n) => found.push((seq, field, n)),
                Err(e) => tracing::warn!(merchant = %m, %field, error = %e, "unreadable outbox entry skipped"),
            }
        }
        found.sort_by_key(|(seq, _, _)| *seq);
        Ok(found.into_iter().map(|(seq, field, notice)| Pending { field, seq, notice }).collect())
    }

    /// The channels already done for a message.
    pub async fn sent(&self, m: &MerchantId, msg: &MessageId) -> Result<HashSet<Channel>, StoreError> {
        let mut done = HashSet::new();
        for channel in [Channel::Email, Channel::Webhook] {
            if self.kv.hget(&sent_key(m), &sent_field(msg, channel)).await?.is_some() {
                done.insert(channel);
            }
        }
        Ok(done)
    }

    /// Records that `channel` delivered `msg` (so a retry of the job never sends it again).
    pub async fn mark_sent(
        &self,
        m: &MerchantId,
        msg: &MessageId,
        channel: Channel,
        at: Millis,
    ) -> Result<(), StoreError> {
        let pair = (sent_field(msg, channel), (at / 1000).to_string());
        self.kv.hset(&sent_key(m), &[pair]).await
    }

    /// Message `msg` is delivered: its notices (`fields`) go first (a rerun then finds nothing
    /// to send), then its markers.
    pub async fn remove(&self, m: &MerchantId, msg: &MessageId, fields: &[String]) -> Result<(), StoreError> {
        if !fields.is_empty() {
            self.kv.hdel(&outbox_key(m), fields).await?;
        }
        let markers: Vec<String> = [Channel::Email, Channel::Webhook].iter().map(|c| sent_field(msg, *c)).collect();
        self.kv.hdel(&sent_key(m), &markers).await?;
        Ok(())
    }

    /// When `digest` puts a notice handed over at `now`: its message and when that is sent.
    fn schedule(m: &MerchantId, digest: Digest, seq: i64, now: Millis) -> (MessageId, Option<Millis>) {
        match digest {
            Digest::Instant => (MessageId::instant(m, seq), None),
            Digest::Every(period) => {
                let p = i64::try_from(period.as_millis()).unwrap_or(i64::MAX).max(1);
                let end = now.div_euclid(p).saturating_add(1).saturating_mul(p);
                (MessageId::digest(m, end), Some(end))
            }
        }
    }
}

fn sent_field(msg: &MessageId, channel: Channel) -> String {
    format!("{msg}/{}", channel.as_str())
}

#[async_trait]
impl AlertSink for Outbox {
    async fn notify(&self, merchant: &MerchantId, notice: Notice) -> Result<(), StoreError> {
        let Some(settings) = self.tenants.merchant(merchant.as_str()) else {
            tracing::debug!(%merchant, "alert notice for a merchant not served: not sent");
            return Ok(());
        };
        if Channel::configured(&self.settings, &settings.alerts).is_empty() {
            tracing::debug!(%merchant, alert = %notice.alert.id, "no alert channel configured: not sent");
            return Ok(());
        }
        let noticed = noticed_key(merchant, &notice);
        if self.kv.get_str(&noticed).await?.is_some() {
            tracing::debug!(%merchant, alert = %notice.alert.id, "alert notice queued already: not sent twice");
            return Ok(());
        }
        let outbox = outbox_key(merchant);
        if self.kv.hgetall(&outbox).await?.len() >= MAX_PENDING {
            tracing::warn!(%merchant, alert = %notice.alert.id, max = MAX_PENDING, "alert outbox full: notice dropped");
            return Ok(());
        }
        let seq = self.kv.hincr(&seq_key(merchant), "seq", 1).await?;
        let now = self.jobs.now().await?;
        let (msg, digest_end) = Self::schedule(merchant, settings.alerts.digest, seq, now);
        let stored = serde_json::to_string(&StoredNotice { at: now, notice })
            .map_err(|e| StoreError::Corrupt(format!("alert notice not serialisable: {e}")))?;
        self.kv.hset(&outbox, &[(format!("{msg}/{seq}"), stored)]).await?;
        let job = DeliverAlert { merchant: merchant.clone(), message: msg.to_string(), digest_end }.job();
        let when = digest_end.map_or(When::Now, When::At);
        self.jobs.enqueue(&job, when, OnExisting::Keep).await?;
        self.kv.set_nx_px(&noticed, "1", NOTICED_TTL_MS).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn digests_collect_a_period_and_instant_messages_are_one_per_notice() {
        let m = MerchantId::parse("acme").unwrap();
        let hour = Digest::Every(Duration::from_secs(3600));
        let (a, end) = Outbox::schedule(&m, hour, 1, 7_200_000);
        let (b, _) = Outbox::schedule(&m, hour, 2, 10_799_999);
        let (c, next) = Outbox::schedule(&m, hour, 3, 10_800_000);
        assert_eq!((a.clone(), end), (b, Some(10_800_000)));
        assert_ne!(a, c);
        assert_eq!(next, Some(14_400_000));
        let (x, none) = Outbox::schedule(&m, Digest::Instant, 1, 0);
        assert_eq!(none, None);
        assert_ne!(x, Outbox::schedule(&m, Digest::Instant, 2, 0).0);
    }
}
