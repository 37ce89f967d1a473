//! Per-merchant SKU → warehouse barcode aliases, and the orders waiting for one.
//!
//! Two hashes per merchant (see the key table in the `ledger` module header): the aliases
//! (sku → barcode), and the orders waiting for one (order → the SKUs it lacks), so adding an
//! alias can re-queue exactly the orders that were stopped for it.

use std::collections::HashMap;
use std::sync::Arc;

use super::keys;
use super::kv::Kv;
use crate::store::StoreError;

/// One alias row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Alias {
    pub sku: String,
    pub barcode: String,
}

#[derive(Clone)]
pub struct Aliases {
    kv: Arc<dyn Kv>,
}

impl Aliases {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self { kv }
    }

    pub async fn upsert(&self, merchant: &str, rows: &[Alias]) -> Result<(), StoreError> {
        let pairs: Vec<(String, String)> = rows.iter().map(|a| (a.sku.clone(), a.barcode.clone())).collect();
        self.kv.hset(&keys::aliases(merchant), &pairs).await
    }

    pub async fn all(&self, merchant: &str) -> Result<Vec<Alias>, StoreError> {
        let mut rows: Vec<Alias> = self
            .kv
            .hgetall(&keys::aliases(merchant))
            .await?
            .into_iter()
            .map(|(sku, barcode)| Alias { sku, barcode })
            .collect();
        rows.sort_by(|a, b| a.sku.cmp(&b.sku));
        Ok(rows)
    }

    /// All aliases as a map (one read per send; alias tables are small).
    pub async fn map(&self, merchant: &str) -> Result<HashMap<String, String>, StoreError> {
        Ok(self.kv.hgetall(&keys::aliases(merchant)).await?.into_iter().collect())
    }

    /// Removes one alias; whether it existed.
    pub async fn delete(&self, merchant: &str, sku: &str) -> Result<bool, StoreError> {
        Ok(self.kv.hdel(&keys::aliases(merchant), &[sku.to_owned()]).await? > 0)
    }

    /// Remembers that an order waits for aliases of `skus`.
    pub async fn await_aliases(&self, merchant: &str, order: &str, skus: &[String]) -> Result<(), StoreError> {
        self.kv.hset(&keys::awaiting(merchant), &[(order.to_owned(), skus.join("\n"))]).await
    }

    /// Orders waiting for aliases, with the SKUs each lacks.
    pub async fn awaiting(&self, merchant: &str) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        Ok(self
            .kv
            .hgetall(&keys::awaiting(merchant))
            .await?
            .into_iter()
            .map(|(order, skus)| (order, skus.split('\n').map(str::to_owned).collect()))
            .collect())
    }

    pub async fn done_waiting(&self, merchant: &str, order: &str) -> Result<(), StoreError> {
        self.kv.hdel(&keys::awaiting(merchant), &[order.to_owned()]).await.map(|_| ())
    }
}
