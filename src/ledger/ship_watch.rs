//! The shipment watch list: per merchant, the orders `poll_shipments` still looks at, each
//! with when it was last checked (store clock, ms; 0 = never), so the least recently checked
//! go first. Orders are named by [`member`](super::keys::member).

use std::collections::HashMap;
use std::sync::Arc;

use super::keys;
use super::kv::Kv;
use crate::domain::MerchantId;
use crate::store::{Millis, StoreError};

/// The merchant's watched orders.
#[derive(Clone)]
pub struct ShipWatch {
    kv: Arc<dyn Kv>,
}

impl ShipWatch {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self { kv }
    }

    /// Every watched order and when it was last checked (an unreadable time reads as never).
    pub async fn all(&self, merchant: &MerchantId) -> Result<HashMap<String, Millis>, StoreError> {
        let rows = self.kv.hgetall(&keys::ship_watch(merchant)).await?;
        Ok(rows.into_iter().map(|(order, at)| (order, at.parse().unwrap_or(0))).collect())
    }

    /// Starts watching `orders`, as never checked.
    pub async fn add(&self, merchant: &MerchantId, orders: &[String]) -> Result<(), StoreError> {
        self.set(merchant, orders, 0).await
    }

    /// Records that `orders` were checked at `at`.
    pub async fn checked(&self, merchant: &MerchantId, orders: &[String], at: Millis) -> Result<(), StoreError> {
        self.set(merchant, orders, at).await
    }

    /// Stops watching `orders`.
    pub async fn remove(&self, merchant: &MerchantId, orders: &[String]) -> Result<(), StoreError> {
        self.kv.hdel(&keys::ship_watch(merchant), orders).await.map(|_| ())
    }

    async fn set(&self, merchant: &MerchantId, orders: &[String], at: Millis) -> Result<(), StoreError> {
        let pairs: Vec<(String, String)> = orders.iter().map(|o| (o.clone(), at.to_string())).collect();
        self.kv.hset(&keys::ship_watch(merchant), &pairs).await
    }
}
