//! The ledger: orders, aliases, cursors and caches — everything cartgate knows besides the
//! queue. Written once over [`kv::Kv`], which the memory and the Redis store implement.

pub mod aliases;
pub mod kv;
pub mod orders;
pub mod redis_kv;

use std::sync::Arc;

pub use aliases::{Alias, Aliases};
pub use kv::{IndexOp, Kv, MemoryKv};
pub use orders::{LedgerError, OrderFilter, OrderLedger};

use crate::store::Millis;

/// Hash of merchant → when its holds were last released by hand (see `workflows::holds`).
const HOLDS_RELEASED: &str = "holds_released";

/// Everything persistent besides the queue.
#[derive(Clone)]
pub struct Ledger {
    pub orders: OrderLedger,
    pub aliases: Aliases,
    kv: Arc<dyn Kv>,
}

impl Ledger {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self { orders: OrderLedger::new(kv.clone()), aliases: Aliases::new(kv.clone()), kv }
    }

    /// The embedded ledger (`memory://`).
    pub fn memory() -> Self {
        Self::new(Arc::new(MemoryKv::default()))
    }

    /// A named cursor (e.g. the order poll's `updated_at_min`).
    pub async fn cursor(&self, name: &str) -> Result<Option<String>, crate::store::StoreError> {
        self.kv.hget("cursors", name).await
    }

    pub async fn set_cursor(&self, name: &str, value: &str) -> Result<(), crate::store::StoreError> {
        self.kv.hset("cursors", &[(name.to_owned(), value.to_owned())]).await
    }

    /// When the merchant's holds were last released by hand (store clock, ms).
    pub async fn holds_released_at(&self, merchant: &str) -> Result<Option<Millis>, crate::store::StoreError> {
        Ok(self.kv.hget(HOLDS_RELEASED, merchant).await?.and_then(|v| v.parse().ok()))
    }

    /// Records a release by hand of the merchant's holds at `at` (store clock, ms).
    pub async fn note_holds_released(&self, merchant: &str, at: Millis) -> Result<(), crate::store::StoreError> {
        self.kv.hset(HOLDS_RELEASED, &[(merchant.to_owned(), at.to_string())]).await
    }

    /// The raw primitives, for caches owned by other modules.
    pub fn kv(&self) -> &Arc<dyn Kv> {
        &self.kv
    }
}
