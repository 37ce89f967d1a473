//! The merchants (with their carts) set up through the admin API: one versioned document, so a
//! write is one compare-and-set and its version is what every replica polls (`tenants::sync`).
//! The document holds secrets only as sealed values (`tenants::record`); this store never sees
//! a plaintext.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::keys;
use super::kv::{Conflict, Kv};
use crate::store::StoreError;

/// Every stored merchant record (secrets sealed), by merchant id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredTenants {
    #[serde(default)]
    pub merchants: BTreeMap<String, serde_json::Value>,
}

/// The stored tenants and the version they were read at (0: nothing stored yet).
#[derive(Debug, Clone, Default)]
pub struct TenantsAt {
    pub version: u64,
    pub tenants: StoredTenants,
}

/// The tenant document.
#[derive(Clone)]
pub struct TenantStore {
    kv: Arc<dyn Kv>,
}

impl TenantStore {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self { kv }
    }

    /// The stored tenants; an unreadable document is reported as corrupt.
    pub async fn load(&self) -> Result<TenantsAt, StoreError> {
        let Some(doc) = self.kv.get(keys::TENANTS).await? else { return Ok(TenantsAt::default()) };
        let tenants =
            serde_json::from_slice(&doc.value).map_err(|e| StoreError::Corrupt(format!("{}: {e}", keys::TENANTS)))?;
        Ok(TenantsAt { version: doc.version, tenants })
    }

    /// The stored version alone (0: nothing stored): what every replica polls.
    pub async fn version(&self) -> Result<u64, StoreError> {
        Ok(self.kv.version(keys::TENANTS).await?.unwrap_or(0))
    }

    /// Writes `tenants` if nobody wrote since `read` was loaded; returns the new version.
    pub async fn save(&self, read: &TenantsAt, tenants: &StoredTenants) -> Result<Result<u64, Conflict>, StoreError> {
        let expected = (read.version > 0).then_some(read.version);
        let value = serde_json::to_vec(tenants).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.kv.put(keys::TENANTS, expected, &value, &[]).await
    }
}
