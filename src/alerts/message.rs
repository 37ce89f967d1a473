//! One message to a merchant: a single notice (`digest = "instant"`) or every notice of a
//! digest period. Its id is derived, never random, so every retry of one message is the same
//! message: the Standard Webhooks `webhook-id` and the e-mail `Message-ID`.
//!
//! The webhook body is the Standard Webhooks payload shape: `{"type", "timestamp", "data"}`,
//! `type` one of `alert.opened`, `alert.resolved`, `alert.digest`. Its `timestamp` is when the
//! message was made (the last notice, or the period's end), so a retry sends the same bytes.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::model::{Notice, NoticeEvent};
use crate::domain::MerchantId;
use crate::store::Millis;

/// A message's stable id: `msg_` and 24 hex digits of a hash of what it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MessageId(String);

impl MessageId {
    /// The message of the `seq`-th notice of an instant merchant.
    pub fn instant(merchant: &MerchantId, seq: i64) -> Self {
        Self::hashed(&format!("{merchant}:instant:{seq}"))
    }

    /// The outbox group (and job) of the digest period ending at `period_end` (store-clock ms).
    pub fn digest(merchant: &MerchantId, period_end: Millis) -> Self {
        Self::hashed(&format!("{merchant}:digest:{period_end}"))
    }

    /// The digest message of that period whose first notice is the `first_seq`-th. A notice
    /// that arrives in the instant a period's message is being delivered is sent after it as
    /// a message of its own, with an id of its own (a receiver must not drop it as a repeat).
    pub fn digest_message(merchant: &MerchantId, period_end: Millis, first_seq: i64) -> Self {
        Self::hashed(&format!("{merchant}:digest:{period_end}:{first_seq}"))
    }

    fn hashed(what: &str) -> Self {
        Self(format!("msg_{}", hex::encode(&Sha256::digest(what.as_bytes())[..12])))
    }

    /// An id read back from a job payload: only the `msg_` + 24 hex digits this type makes.
    pub fn parse(s: &str) -> Option<Self> {
        let hex = s.strip_prefix("msg_")?;
        (hex.len() == 24 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A notice as the outbox keeps it: when it was handed over (store clock), and what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredNotice {
    pub at: Millis,
    pub notice: Notice,
}

/// Everything one delivery sends, on every channel.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: MessageId,
    pub merchant: MerchantId,
    /// The end of the digest period (store-clock ms); `None` for an instant message.
    pub digest_end: Option<Millis>,
    /// In the order they were handed over.
    pub notices: Vec<StoredNotice>,
}

impl Message {
    /// The Standard Webhooks event type.
    pub fn event_type(&self) -> &'static str {
        match (self.digest_end, self.notices.as_slice()) {
            (None, [one]) if one.notice.event == NoticeEvent::Resolved => "alert.resolved",
            (None, [_]) => "alert.opened",
            _ => "alert.digest",
        }
    }

    /// When the message was made: the period's end, or the (last) notice's time.
    pub fn made_at(&self) -> Millis {
        self.digest_end.or_else(|| self.notices.last().map(|n| n.at)).unwrap_or_default()
    }

    /// `[cartgate] acme: 51 orders wait for SKU WIDGET-9`, `… resolved: …`, or a digest's count.
    pub fn subject(&self) -> String {
        let merchant = &self.merchant;
        match (self.digest_end, self.notices.as_slice()) {
            (None, [one]) => match one.notice.event {
                NoticeEvent::Opened => format!("[cartgate] {merchant}: {}", one.notice.alert.summary),
                NoticeEvent::Resolved => format!("[cartgate] {merchant}: resolved: {}", one.notice.alert.summary),
            },
            _ => {
                let opened = self.notices.iter().filter(|n| n.notice.event == NoticeEvent::Opened).count();
                let resolved = self.notices.len() - opened;
                format!("[cartgate] {merchant}: {opened} alerts opened, {resolved} resolved")
            }
        }
    }

    /// The webhook body (JSON, the Standard Webhooks payload shape). No secret is in an alert.
    pub fn body(&self) -> Vec<u8> {
        let data = match (self.digest_end, self.notices.as_slice()) {
            (None, [one]) => json!({ "merchant": self.merchant, "alert": one.notice.alert }),
            _ => json!({
                "merchant": self.merchant,
                "period_end": self.digest_end.map(rfc3339),
                "notices": self.notices.iter().map(|n| &n.notice).collect::<Vec<_>>(),
            }),
        };
        let payload = json!({ "type": self.event_type(), "timestamp": rfc3339(self.made_at()), "data": data });
        serde_json::to_vec(&payload).unwrap_or_default()
    }
}

/// Store-clock milliseconds as RFC 3339 UTC with milliseconds (as alerts spell times).
pub fn rfc3339(ms: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::alerts::model::{Alert, AlertKind, AlertState};

    pub(crate) fn notice(event: NoticeEvent, subject: &str, summary: &str) -> Notice {
        Notice {
            event,
            alert: Alert {
                id: format!("alr_{subject}"),
                merchant: MerchantId::parse("acme").unwrap(),
                kind: AlertKind::OrderError,
                subject: subject.to_owned(),
                summary: summary.to_owned(),
                state: if event == NoticeEvent::Opened { AlertState::Open } else { AlertState::Resolved },
                count: 51,
                orders: vec!["acme-tg:5706".into(), "acme-tg:5707".into()],
                opened_at: "2026-12-03T06:00:00.000Z".into(),
                last_seen_at: "2026-12-03T06:01:00.000Z".into(),
                resolved_at: None,
                acked_at: None,
            },
        }
    }

    fn message(digest_end: Option<Millis>, notices: Vec<Notice>) -> Message {
        let merchant = MerchantId::parse("acme").unwrap();
        let notices = notices.into_iter().map(|notice| StoredNotice { at: 1_764_741_600_000, notice }).collect();
        Message { id: MessageId::instant(&merchant, 1), merchant, digest_end, notices }
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let acme = MerchantId::parse("acme").unwrap();
        assert_eq!(MessageId::instant(&acme, 1), MessageId::instant(&acme, 1));
        assert_ne!(MessageId::instant(&acme, 1), MessageId::instant(&acme, 2));
        assert_ne!(MessageId::instant(&acme, 1), MessageId::digest(&acme, 1));
        assert_ne!(MessageId::digest_message(&acme, 1, 1), MessageId::digest_message(&acme, 1, 2));
        let id = MessageId::digest(&acme, 3_600_000);
        assert_eq!(MessageId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(MessageId::parse("msg_zz"), None);
    }

    #[test]
    fn subjects_and_bodies_say_what_happened() {
        let open =
            message(None, vec![notice(NoticeEvent::Opened, "unknown_sku:WIDGET-9", "51 orders wait for SKU WIDGET-9")]);
        assert_eq!(open.subject(), "[cartgate] acme: 51 orders wait for SKU WIDGET-9");
        let body: serde_json::Value = serde_json::from_slice(&open.body()).unwrap();
        assert_eq!(body["type"], "alert.opened");
        assert_eq!(body["timestamp"], "2025-12-03T06:00:00.000Z");
        assert_eq!(body["data"]["alert"]["count"], 51);
        let resolved = message(None, vec![notice(NoticeEvent::Resolved, "x", "fixed")]);
        assert_eq!(resolved.event_type(), "alert.resolved");
        assert_eq!(resolved.subject(), "[cartgate] acme: resolved: fixed");
        let digest = message(Some(1_764_745_200_000), vec![notice(NoticeEvent::Opened, "a", "A")]);
        assert_eq!(digest.event_type(), "alert.digest");
        assert_eq!(digest.subject(), "[cartgate] acme: 1 alerts opened, 0 resolved");
        let body: serde_json::Value = serde_json::from_slice(&digest.body()).unwrap();
        assert_eq!(body["data"]["notices"][0]["alert"]["subject"], "a");
        assert_eq!(body["timestamp"], "2025-12-03T07:00:00.000Z");
    }
}
