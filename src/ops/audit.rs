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
use serde_json::Value;

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

/// The dotted paths of the keys whose values differ between two JSON documents (objects are
/// followed, anything else compared whole), sorted — what a merchant or cart write puts in
/// [`Write::changed`]: `changed_keys(&old, &new)` over the settings before and after.
pub fn changed_keys(before: &Value, after: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff("", before, after, &mut out);
    out.sort();
    out
}

fn diff(path: &str, before: &Value, after: &Value, out: &mut Vec<String>) {
    let (Value::Object(b), Value::Object(a)) = (before, after) else {
        if before != after && !path.is_empty() {
            out.push(path.to_owned());
        }
        return;
    };
    let null = Value::Null;
    for key in b.keys().chain(a.keys().filter(|k| !b.contains_key(*k))) {
        let sub = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        diff(&sub, b.get(key).unwrap_or(&null), a.get(key).unwrap_or(&null), out);
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn changed_keys_names_the_paths_that_differ_and_never_a_value() {
        let before = json!({"wms": {"test_mode": false, "production_api_key": "EZAK-old", "base_url": "u"}});
        let after = json!({"wms": {"test_mode": true, "production_api_key": "EZAK-new", "base_url": "u",
                                   "test_api_key": "EZTK-1"}, "schedule": {"inventory": "1h"}});
        let changed = changed_keys(&before, &after);
        assert_eq!(
            changed,
            ["schedule", "wms.production_api_key", "wms.test_api_key", "wms.test_mode"],
            "a new table is one key"
        );
        assert!(changed_keys(&after, &after).is_empty());
    }

    #[test]
    fn actors_read_as_the_log_writes_them() {
        assert_eq!(Actor::Operator.to_string(), "operator");
        assert_eq!(Actor::Token("1f2e".into()).to_string(), "token:1f2e");
    }
}
