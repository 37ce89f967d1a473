//! What a job is and what it is called: its kind, and its id (a natural key, spelled by
//! `crate::jobs`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a job does; one handler per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    ImportOrder,
    SendOrder,
    CancelOrder,
    PollOrders,
    PollShipments,
    CheckShipment,
    TrackerEvent,
    PushTracking,
    SyncInventory,
    PushInventory,
    EnsureWebhooks,
    /// The scheduled delivery run of a merchant whose `order_delivery` is not `auto`.
    DeliverOrders,
    /// A merchant's removal of orders finished longer ago than `ledger.keep_finished_days`.
    PruneLedger,
    /// Send one alert message (e-mail, Standard Webhooks) of a merchant.
    DeliverAlert,
    /// Erase the personal data of a Shopify cart's orders (compliance webhooks).
    ErasePersonalData,
    /// Used by tests and benchmarks of the queue itself.
    Noop,
}

impl JobKind {
    pub const ALL: [JobKind; 16] = [
        Self::ImportOrder,
        Self::SendOrder,
        Self::CancelOrder,
        Self::PollOrders,
        Self::PollShipments,
        Self::CheckShipment,
        Self::TrackerEvent,
        Self::PushTracking,
        Self::SyncInventory,
        Self::PushInventory,
        Self::EnsureWebhooks,
        Self::DeliverOrders,
        Self::PruneLedger,
        Self::DeliverAlert,
        Self::ErasePersonalData,
        Self::Noop,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ImportOrder => "import_order",
            Self::SendOrder => "send_order",
            Self::CancelOrder => "cancel_order",
            Self::PollOrders => "poll_orders",
            Self::PollShipments => "poll_shipments",
            Self::CheckShipment => "check_shipment",
            Self::TrackerEvent => "tracker_event",
            Self::PushTracking => "push_tracking",
            Self::SyncInventory => "sync_inventory",
            Self::PushInventory => "push_inventory",
            Self::EnsureWebhooks => "ensure_webhooks",
            Self::DeliverOrders => "deliver_orders",
            Self::PruneLedger => "prune_ledger",
            Self::DeliverAlert => "deliver_alert",
            Self::ErasePersonalData => "erase_personal_data",
            Self::Noop => "noop",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that cannot be a [`JobId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid job id `{0}`")]
pub struct InvalidJobId(String);

/// A job's natural key: `kind:part:part…`. Printable ASCII without spaces, at most 256 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct JobId(String);

impl JobId {
    /// The cart or merchant a job is for: `kind:owner:rest…` → `owner` (an id without parts
    /// is its own owner). Its queue partition, and whose `jobs_dead` alert it raises.
    pub fn owner(&self) -> &str {
        let mut parts = self.0.splitn(3, ':');
        match (parts.next(), parts.next()) {
            (Some(_), Some(owner)) if !owner.is_empty() => owner,
            _ => &self.0,
        }
    }

    /// Builds `kind:part1:part2…`.
    pub fn new(kind: JobKind, parts: &[&str]) -> Result<Self, InvalidJobId> {
        let mut s = kind.as_str().to_owned();
        for p in parts {
            s.push(':');
            s.push_str(p);
        }
        Self::parse(&s)
    }

    pub fn parse(s: &str) -> Result<Self, InvalidJobId> {
        let ok = !s.is_empty() && s.len() <= 256 && s.bytes().all(|b| b.is_ascii_graphic());
        if ok { Ok(Self(s.to_owned())) } else { Err(InvalidJobId(s.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for JobId {
    type Error = InvalidJobId;
    fn try_from(s: String) -> Result<Self, InvalidJobId> {
        Self::parse(&s)
    }
}

impl From<JobId> for String {
    fn from(id: JobId) -> String {
        id.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
