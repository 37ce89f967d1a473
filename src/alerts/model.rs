//! What an alert is, and the one interface between raising alerts (the lifecycle) and telling
//! people about them (delivery): the lifecycle hands each [`Notice`] to an [`AlertSink`].
//!
//! An alert is keyed by (merchant, kind, subject); it is opened once, updated while the
//! condition lasts (count, last seen — updates are not sent), and resolved when it clears (the
//! resolution is sent). Nothing in an alert is a secret: subjects are SKUs, ship method labels,
//! cart ids, account names, barcodes — never keys, tokens or URLs with credentials.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::MerchantId;
use crate::store::StoreError;

/// What needs a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Orders in `error` for one reason class and subject (the missing SKU, the unmapped method…).
    OrderError,
    /// The cart or the WMS answered 401/403 (per account).
    CredentialsRejected,
    /// An OAuth cart lost its grant.
    CartDisconnected,
    /// A job of the merchant gave up (dead letter).
    JobsDead,
    /// A TradeGecko webhook that existed had to be re-created.
    WebhooksRepaired,
    /// After a hold release run: orders still on hold, and the barcodes short.
    HeldOrders,
    /// An account paused by rate limiting for over 30 minutes.
    UpstreamPaused,
}

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Open,
    Resolved,
}

/// One alert, as stored and as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable for this occurrence (a condition that returns after resolution is a new alert).
    pub id: String,
    pub merchant: MerchantId,
    pub kind: AlertKind,
    /// What it is about, e.g. `unknown_sku:WIDGET-9`, `easypost:production`, `acme-tg`.
    pub subject: String,
    /// One line for a person ("51 orders wait for SKU WIDGET-9 (no barcode)").
    pub summary: String,
    pub state: AlertState,
    /// How many times the condition was seen (orders for `order_error`).
    pub count: u64,
    /// The orders concerned (`<cart>:<id>`), bounded (the first 100); for `jobs_dead`, the
    /// ids of the dead jobs.
    pub orders: Vec<String>,
    /// RFC 3339 UTC, milliseconds.
    pub opened_at: String,
    pub last_seen_at: String,
    pub resolved_at: Option<String>,
    pub acked_at: Option<String>,
}

/// What happened to an alert that people should hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeEvent {
    Opened,
    Resolved,
}

/// One thing to tell a merchant: the alert as it was at that moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub event: NoticeEvent,
    pub alert: Alert,
}

/// Where the lifecycle hands its notices. Delivery (e-mail, Standard Webhooks, digests) is
/// behind it; `notify` must be durable when it returns `Ok` (the message will be sent, once,
/// even across restarts), and cheap (it queues; it never talks to a mail server inline).
#[async_trait]
pub trait AlertSink: Send + Sync {
    async fn notify(&self, merchant: &MerchantId, notice: Notice) -> Result<(), StoreError>;
}

/// A sink that drops every notice (merchants with no alert channels, unit tests).
pub struct DiscardSink;

#[async_trait]
impl AlertSink for DiscardSink {
    async fn notify(&self, _merchant: &MerchantId, _notice: Notice) -> Result<(), StoreError> {
        Ok(())
    }
}
