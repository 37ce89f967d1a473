//! Inventory snapshots: what a cart's stock should be, per variant, as of one WMS read.
//!
//! The latest snapshot of each cart is one ledger document, so the job payload only names it
//! by hash: snapshots can be large, and a `push_inventory` whose hash is no longer the latest
//! has been superseded and does nothing (an older snapshot must never be written after a newer
//! one).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys;
use super::kv::Kv;
use super::orders::LedgerError;
use crate::domain::{CartId, MerchantId};

/// Attempts at replacing the document when another writer got there first.
const MAX_PUT_ATTEMPTS: u32 = 5;

/// Target stock on hand per cart variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Names the levels (not the time): an unchanged inventory has the same hash.
    pub hash: String,
    pub taken_at: DateTime<Utc>,
    pub levels: BTreeMap<u64, i64>,
}

impl Snapshot {
    pub fn new(cart: &CartId, levels: BTreeMap<u64, i64>, taken_at: DateTime<Utc>) -> Self {
        let mut h = Sha256::new();
        h.update(cart.as_str().as_bytes());
        for (variant, units) in &levels {
            h.update(format!(";{variant}={units}").as_bytes());
        }
        Self { hash: hex::encode(&h.finalize()[..12]), taken_at, levels }
    }
}

/// The latest snapshot per cart.
#[derive(Clone)]
pub struct Inventory {
    kv: Arc<dyn Kv>,
}

impl Inventory {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self { kv }
    }

    /// The cart's latest snapshot.
    pub async fn latest(&self, merchant: &MerchantId, cart: &CartId) -> Result<Option<Snapshot>, LedgerError> {
        let Some(doc) = self.kv.get(&keys::inventory(merchant, cart)).await? else { return Ok(None) };
        serde_json::from_slice(&doc.value).map(Some).map_err(|e| LedgerError::Corrupt(e.to_string()))
    }

    /// Makes `snapshot` the cart's latest.
    pub async fn replace(&self, merchant: &MerchantId, cart: &CartId, snapshot: &Snapshot) -> Result<(), LedgerError> {
        let key = keys::inventory(merchant, cart);
        let value = serde_json::to_vec(snapshot).map_err(|e| LedgerError::Corrupt(e.to_string()))?;
        for _ in 0..MAX_PUT_ATTEMPTS {
            let version = self.kv.get(&key).await?.map(|d| d.version);
            if self.kv.put(&key, version, &value, &[]).await?.is_ok() {
                return Ok(());
            }
        }
        Err(LedgerError::Contended)
    }
}
