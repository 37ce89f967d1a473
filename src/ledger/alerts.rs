//! Each merchant's alerts: one versioned document, `{m:<merchant>}:alerts`, holding an
//! [`AlertBook`] (the open alerts and the recently resolved ones).
//!
//! One document per merchant because every alert change must be decided against the others:
//! "is an alert for (kind, subject) open?" and "open one" are one compare-and-set, so two
//! replicas raising the same condition at once never open it twice (the loser re-reads, finds
//! it open and only updates it) — and only the writer that opened or resolved it tells anyone.
//! The key carries the merchant's hash tag, so on Redis Cluster a merchant's alerts live in
//! that merchant's slot. The book prunes itself on every write (resolved alerts kept 30 days,
//! a bounded number of them; each alert lists at most 100 orders).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::keys;
use super::kv::{Conflict, Kv};
use crate::alerts::book::AlertBook;
use crate::domain::MerchantId;
use crate::store::StoreError;

/// How often a change is re-applied when another replica wrote the same book meanwhile.
const MAX_CAS_ATTEMPTS: u32 = 16;

/// The merchants' alert books.
#[derive(Clone)]
pub struct AlertStore {
    kv: Arc<dyn Kv>,
}

impl AlertStore {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self { kv }
    }

    /// The merchant's book (empty when it never had an alert).
    pub async fn read(&self, merchant: &MerchantId) -> Result<AlertBook, StoreError> {
        Ok(self.read_versioned(merchant).await?.map(|(_, b)| b).unwrap_or_default())
    }

    async fn read_versioned(&self, merchant: &MerchantId) -> Result<Option<(u64, AlertBook)>, StoreError> {
        let key = keys::alerts(merchant);
        let Some(doc) = self.kv.get(&key).await? else { return Ok(None) };
        let book = serde_json::from_slice(&doc.value).map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))?;
        Ok(Some((doc.version, book)))
    }

    /// Applies `change` to the merchant's book (pruned first) and stores it by compare-and-set,
    /// re-applying it on a concurrent write; returns what the applied `change` returned.
    /// Nothing is written when the book stays as it was.
    pub async fn update<T>(
        &self,
        merchant: &MerchantId,
        now: DateTime<Utc>,
        mut change: impl FnMut(&mut AlertBook) -> T,
    ) -> Result<T, StoreError> {
        let key = keys::alerts(merchant);
        for attempt in 0..MAX_CAS_ATTEMPTS {
            if attempt > 0 {
                // Jittered backoff so concurrent writers stop colliding in lockstep.
                let cap_ms = 1u64 << attempt.min(6);
                tokio::time::sleep(std::time::Duration::from_millis(rand::random_range(0..=cap_ms))).await;
            }
            let (version, before) = match self.read_versioned(merchant).await? {
                Some((v, b)) => (Some(v), b),
                None => (None, AlertBook::default()),
            };
            let mut after = before.clone();
            after.prune(now);
            let out = change(&mut after);
            if after == before {
                return Ok(out);
            }
            let value = serde_json::to_vec(&after).map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))?;
            match self.kv.put(&key, version, &value, &[]).await? {
                Ok(_) => return Ok(out),
                Err(Conflict) => continue,
            }
        }
        Err(StoreError::Unavailable(format!("{key}: changed concurrently too often; try again")))
    }
}
