//! Per-merchant SKU → warehouse barcode aliases, and the orders waiting for one.
//!
//! Keys: `aliases:<merchant>` (hash sku → barcode); `awaiting:<merchant>` (hash
//! `<cart>:<id>` → the SKUs it lacks), so adding an alias can re-queue exactly the orders
//! that were stopped for it.

use std::collections::HashMap;
use std::sync::Arc;

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
        self.kv.hset(&format!("aliases:{merchant}"), &pairs).await
    }

    pub async fn all(&self, merchant: &str) -> Result<Vec<Alias>, StoreError> {
        let mut rows: Vec<Alias> = self
            .kv
            .hgetall(&format!("aliases:{merchant}"))
            .await?
            .into_iter()
            .map(|(sku, barcode)| Alias { sku, barcode })
            .collect();
        rows.sort_by(|a, b| a.sku.cmp(&b.sku));
        Ok(rows)
    }

    /// All aliases as a map (one read per send; alias tables are small).
    pub async fn map(&self, merchant: &str) -> Result<HashMap<String, String>, StoreError> {
        Ok(self.kv.hgetall(&format!("aliases:{merchant}")).await?.into_iter().collect())
    }

    /// Removes one alias; whether it existed.
    pub async fn delete(&self, merchant: &str, sku: &str) -> Result<bool, StoreError> {
        Ok(self.kv.hdel(&format!("aliases:{merchant}"), &[sku.to_owned()]).await? > 0)
    }

    /// Remembers that an order waits for aliases of `skus`.
    pub async fn await_aliases(&self, merchant: &str, order: &str, skus: &[String]) -> Result<(), StoreError> {
        self.kv.hset(&format!("awaiting:{merchant}"), &[(order.to_owned(), skus.join("\n"))]).await
    }

    /// Orders waiting for aliases, with the SKUs each lacks.
    pub async fn awaiting(&self, merchant: &str) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        Ok(self
            .kv
            .hgetall(&format!("awaiting:{merchant}"))
            .await?
            .into_iter()
            .map(|(order, skus)| (order, skus.split('\n').map(str::to_owned).collect()))
            .collect())
    }

    pub async fn done_waiting(&self, merchant: &str, order: &str) -> Result<(), StoreError> {
        self.kv.hdel(&format!("awaiting:{merchant}"), &[order.to_owned()]).await.map(|_| ())
    }
}
