//! A merchant's SKU → barcode aliases: list, upload (JSON or CSV, all rows or none), delete.
//! Parsing and re-queuing the orders that waited for an alias are `workflows::aliases`.

use super::{MerchantOps, OpError};
use crate::ledger::Alias;
use crate::workflows::aliases;

/// How an alias upload is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasFormat {
    /// `[{"sku","barcode"}]`
    Json,
    /// A `sku,barcode` header, then one alias a line.
    Csv,
}

/// What an upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasImport {
    pub upserted: usize,
    /// Orders in `error` for want of one of these aliases, now sent again.
    pub requeued: usize,
    /// The SKUs written, in upload order (for the audit log: keys, not barcodes).
    pub skus: Vec<String>,
}

impl MerchantOps<'_> {
    pub async fn aliases(&self) -> Result<Vec<Alias>, OpError> {
        Ok(self.deps().ledger.aliases.all(self.settings().id.as_str()).await?)
    }

    /// Checks every row, then stores them all and re-queues the orders that waited for one.
    pub async fn import_aliases(&self, format: AliasFormat, body: &[u8]) -> Result<AliasImport, OpError> {
        let rows = match format {
            AliasFormat::Json => aliases::parse_json(body),
            AliasFormat::Csv => aliases::parse_csv(body),
        }?;
        let requeued = aliases::apply(self.deps(), &self.settings().id, &rows).await?;
        let skus = rows.iter().map(|r| r.sku.clone()).collect();
        Ok(AliasImport { upserted: rows.len(), requeued, skus })
    }

    pub async fn delete_alias(&self, sku: &str) -> Result<(), OpError> {
        if self.deps().ledger.aliases.delete(self.settings().id.as_str(), sku).await? {
            Ok(())
        } else {
            Err(OpError::NoAlias(sku.to_owned()))
        }
    }
}
