//! Each merchant's audit log: who changed what through the admin API, newest first, the last
//! [`KEEP`] entries kept (a capped list: one atomic push-and-trim, so it never grows unbounded).
//!
//! An entry names the keys that changed, never their values — a log an operator can hand to the
//! merchant, and one that cannot leak a secret that was written.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::keys;
use super::kv::Kv;
use crate::domain::MerchantId;
use crate::store::StoreError;

/// Entries kept per merchant.
pub const KEEP: usize = 1_000;

/// One write through the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// RFC 3339 UTC, milliseconds.
    pub at: String,
    /// `operator` or `token:<id>`.
    pub actor: String,
    /// What was done, e.g. `token.create`, `order.resend`, `aliases.put`.
    pub action: String,
    /// What it was done to, e.g. `acme-tg/5706`, `token:1f2e…`.
    pub target: String,
    /// The names of the keys that changed (never their values).
    pub changed: Vec<String>,
}

/// The audit logs.
#[derive(Clone)]
pub struct AuditLog {
    kv: Arc<dyn Kv>,
}

impl AuditLog {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self { kv }
    }

    /// Appends an entry to the merchant's log, dropping the oldest beyond [`KEEP`].
    pub async fn append(&self, merchant: &MerchantId, entry: &AuditEntry) -> Result<(), StoreError> {
        let json = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(format!("audit entry: {e}")))?;
        self.kv.push_capped(&keys::audit(merchant), &json, KEEP).await
    }

    /// The merchant's newest `limit` entries, newest first (unreadable entries are skipped).
    pub async fn newest(&self, merchant: &MerchantId, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = self.kv.head(&keys::audit(merchant), limit.min(KEEP)).await?;
        Ok(rows.iter().filter_map(|r| serde_json::from_str(r).ok()).collect())
    }
}
