//! The audit log of admin writes: [`record`] is called once per successful write (by the
//! handler, which knows who asked), [`Ops::audit_log`] reads a merchant's log back.
//!
//! Actions, as written: `token.create`, `token.revoke`, `order.cancel_sending`, `order.resend`,
//! `aliases.put`, `aliases.delete`, `holds.release`, `sync.orders`, `sync.shipments`,
//! `sync.inventory`; merchant and cart writes add `merchant.put|patch|delete` and
//! `cart.put|patch|delete`. `changed` names keys (setting paths such as `wms.test_mode`, SKUs,
//! a token's `name`), never values — so a secret written through the API never reaches the log.

use std::fmt;

use chrono::{SecondsFormat, Utc};

use super::{OpError, Ops};
use crate::domain::MerchantId;
use crate::ledger::AuditEntry;
use crate::workflows::Deps;

/// Entries returned when no `limit` is given, and the most one request may ask for.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = crate::ledger::audit::KEEP;

/// Who made a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The holder of `server.admin_token`.
    Operator,
    /// A merchant token, by its id.
    Token(String),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Operator => f.write_str("operator"),
            Self::Token(id) => write!(f, "token:{id}"),
        }
    }
}

/// One write to record: what was done, to what, and which keys changed.
#[derive(Debug, Clone)]
pub struct Write<'a> {
    pub action: &'a str,
    pub target: String,
    pub changed: Vec<String>,
}

impl<'a> Write<'a> {
    pub fn new(action: &'a str, target: impl Into<String>) -> Self {
        Self { action, target: target.into(), changed: Vec::new() }
    }

    /// The names of the keys that changed.
    pub fn changed<S: Into<String>>(self, keys: impl IntoIterator<Item = S>) -> Self {
        Self { changed: keys.into_iter().map(Into::into).collect(), ..self }
    }
}

/// Appends `write` to the merchant's audit log. The write itself has already happened, so a
/// store failure here is logged (with the merchant and action) rather than turned into an error
/// the caller might answer by repeating the write.
pub async fn record(deps: &Deps, merchant: &MerchantId, actor: &Actor, write: Write<'_>) {
    let entry = AuditEntry {
        at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        actor: actor.to_string(),
        action: write.action.to_owned(),
        target: write.target,
        changed: write.changed,
    };
    if let Err(e) = deps.ledger.audit.append(merchant, &entry).await {
        tracing::error!(%merchant, action = entry.action, error = %e, "audit entry not written");
    }
}

impl Ops {
    /// The merchant's newest audit entries, newest first; `limit` at most 1,000.
    pub async fn audit_log(&self, merchant: &MerchantId, limit: Option<usize>) -> Result<Vec<AuditEntry>, OpError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if limit > MAX_LIMIT {
            return Err(OpError::LimitTooHigh { max: MAX_LIMIT });
        }
        Ok(self.deps().ledger.audit.newest(merchant, limit).await?)
    }

    /// [`record`] over these actions' dependencies.
    pub async fn audit(&self, merchant: &MerchantId, actor: &Actor, write: Write<'_>) {
        record(self.deps(), merchant, actor, write).await;
    }
}
