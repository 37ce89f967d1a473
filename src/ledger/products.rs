//! The WMS product cache: which barcodes the merchant's warehouse knows, so a SKU that is
//! itself a barcode can be sent without an alias.
//!
//! A hash per merchant (barcode → WMS product id) and, in the `cursors` hash, when it was last
//! read (RFC 3339). A read adds barcodes to the cache; none is ever removed.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::keys;
use super::kv::Kv;
use crate::domain::MerchantId;
use crate::store::StoreError;

/// The merchant's known WMS barcodes.
#[derive(Clone)]
pub struct ProductCache {
    kv: Arc<dyn Kv>,
}

impl ProductCache {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self { kv }
    }

    /// When the product list was last read (none: never, or the stamp does not parse).
    pub async fn read_at(&self, merchant: &MerchantId) -> Result<Option<DateTime<Utc>>, StoreError> {
        let text = self.kv.hget(&keys::cursors(merchant.as_str()), keys::PRODUCTS_READ_AT).await?;
        Ok(text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc)))
    }

    /// Records a read of the product list at `at`: `products` are `(barcode, product id)`.
    pub async fn record(
        &self,
        merchant: &MerchantId,
        products: &[(String, String)],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.kv.hset(&keys::products(merchant), products).await?;
        self.kv.hset(&keys::cursors(merchant.as_str()), &[(keys::PRODUCTS_READ_AT.to_owned(), at.to_rfc3339())]).await
    }

    /// Every barcode the cache holds.
    pub async fn barcodes(&self, merchant: &MerchantId) -> Result<HashSet<String>, StoreError> {
        Ok(self.kv.hgetall(&keys::products(merchant)).await?.into_iter().map(|(barcode, _)| barcode).collect())
    }
}
