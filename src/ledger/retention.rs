//! Removing finished orders: an order confirmed, canceled or skipped before a cut-off goes,
//! with every index and map entry that names it, in one atomic step per order (compare-and-set
//! on its version: an order that changed meanwhile — a late tracker update, a skipped order
//! re-imported — is left for the next run). Orders in flight are never in the finished index.

use chrono::{DateTime, Utc};

use super::keys::{self, all_orders, finished, member, status_index, tracking_map, wms_map};
use super::kv::IndexOp;
use super::orders::{LedgerError, OrderLedger};
use crate::domain::{MerchantId, Order};

impl OrderLedger {
    /// Removes up to `batch` of the merchant's orders that finished before `before`; returns
    /// how many went. Bounded work per call: a recurring job calls it until it returns less.
    pub async fn remove_finished(
        &self,
        merchant: &MerchantId,
        before: DateTime<Utc>,
        batch: usize,
    ) -> Result<usize, LedgerError> {
        let cutoff = before.timestamp_millis() as f64;
        let due = self.kv.zrange_after(&finished(merchant.as_str()), None, batch).await?;
        let mut removed = 0;
        for (m, _) in due.into_iter().take_while(|(_, finished_at)| *finished_at < cutoff) {
            let Some((cart, id)) = keys::parse_member(&m) else { continue };
            let Some((version, order)) = self.get_versioned(merchant.as_str(), &cart, id).await? else { continue };
            if !order.status().is_finished() {
                continue;
            }
            let key = keys::order(merchant.as_str(), &cart, id);
            if self.kv.delete(&key, version, &removal(&order)).await?.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Every entry that names `o`: its indexes, its maps, and the lists it could still be on.
fn removal(o: &Order) -> Vec<IndexOp> {
    let merchant = o.merchant.as_str();
    let m = member(&o.cart, o.cart_order_id);
    let mut ops = vec![
        IndexOp::ZRem { key: all_orders(merchant), member: m.clone() },
        IndexOp::ZRem { key: status_index(merchant, o.status()), member: m.clone() },
        IndexOp::ZRem { key: finished(merchant), member: m.clone() },
        IndexOp::HDel { key: keys::ship_watch(&o.merchant), field: m.clone() },
        IndexOp::HDel { key: keys::awaiting(merchant), field: m.clone() },
        IndexOp::HDel { key: keys::ship_awaiting(&o.merchant, &o.cart), field: m },
    ];
    if let Some(wms) = &o.wms_order_id {
        ops.push(IndexOp::HDel { key: wms_map(merchant), field: wms.clone() });
    }
    for s in &o.shipments {
        ops.push(IndexOp::HDel { key: tracking_map(merchant), field: s.tracking_code.clone() });
    }
    ops
}
