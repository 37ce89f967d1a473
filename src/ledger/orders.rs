//! The order ledger: one versioned document per cart order, plus indexes.
//!
//! Every key of a merchant's orders carries the merchant's hash tag `{m:<merchant>}`, because an
//! order and its index entries are written in one atomic step (the key table is in the `ledger`
//! module header): the document, the listing and status indexes (status indexes move with the
//! order), the finished index retention reads, and the maps from WMS order id and tracking
//! code back to the order. An order is found by its merchant, cart and id: the order document
//! carries its merchant, and every caller knows the merchant of the cart it works on.
//! Listing across merchants is `listing`; removing finished orders is `retention`.

use std::sync::Arc;

use crate::domain::{CartId, MerchantId, Order, OrderStatus};
use crate::store::StoreError;

use super::keys::{self, all_orders, finished, tracking_map, wms_map};
pub use super::keys::{member, parse_member, status_index};
use super::kv::{Conflict, IndexOp, Kv};

/// How often an update is re-applied when another replica wrote the same order meanwhile.
const MAX_CAS_ATTEMPTS: u32 = 16;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("ledger record unreadable: {0}")]
    Corrupt(String),
    #[error("order changed concurrently too often; try again")]
    Contended,
}

/// Filters for listing orders.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub merchant: Option<String>,
    pub cart: Option<String>,
}

/// Told when an order leaves `error` or `on_hold`, whichever path it takes (alias added, ship
/// method mapped, resend, cancel, edit in the cart, skipped, sent): the one place every exit
/// passes.
#[async_trait::async_trait]
pub trait ErrorExits: Send + Sync {
    /// Called after the change is stored, with the status the order left; it cannot fail the
    /// change (it logs).
    async fn left(&self, order: &Order, from: OrderStatus);
}

/// The order ledger.
#[derive(Clone)]
pub struct OrderLedger {
    pub(super) kv: Arc<dyn Kv>,
    exits: Option<Arc<dyn ErrorExits>>,
}

impl OrderLedger {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self { kv, exits: None }
    }

    /// The same ledger, telling `exits` about every order that leaves `error` or `on_hold`.
    pub fn with_error_exits(self, exits: Arc<dyn ErrorExits>) -> Self {
        Self { exits: Some(exits), ..self }
    }

    pub async fn get(&self, merchant: &MerchantId, cart: &CartId, id: u64) -> Result<Option<Order>, LedgerError> {
        Ok(self.get_versioned(merchant.as_str(), cart, id).await?.map(|(_, o)| o))
    }

    pub(super) async fn get_versioned(
        &self,
        merchant: &str,
        cart: &CartId,
        id: u64,
    ) -> Result<Option<(u64, Order)>, LedgerError> {
        let Some(doc) = self.kv.get(&keys::order(merchant, cart, id)).await? else { return Ok(None) };
        let order = serde_json::from_slice(&doc.value).map_err(|e| LedgerError::Corrupt(e.to_string()))?;
        Ok(Some((doc.version, order)))
    }

    /// Stores a new order; `false` when it already exists (nothing written).
    pub async fn create(&self, order: &Order) -> Result<bool, LedgerError> {
        let value = serde_json::to_vec(order).map_err(|e| LedgerError::Corrupt(e.to_string()))?;
        let merchant = order.merchant.as_str();
        let m = member(&order.cart, order.cart_order_id);
        let score = order.created_at.timestamp_millis() as f64;
        let mut index = vec![
            IndexOp::ZAdd { key: all_orders(merchant), member: m.clone(), score },
            IndexOp::ZAdd { key: status_index(merchant, order.status()), member: m, score },
        ];
        index.extend(finished_entry(None, order));
        index.extend(map_entries(None, order));
        let key = keys::order(merchant, &order.cart, order.cart_order_id);
        match self.kv.put(&key, None, &value, &index).await? {
            Err(Conflict) => Ok(false),
            Ok(_) => Ok(true),
        }
    }

    /// Applies `change` to the current order and stores it, re-applying on concurrent writes.
    /// Returns `None` when the order does not exist; nothing is written when `change` leaves
    /// the order as it was.
    pub async fn update<T>(
        &self,
        merchant: &MerchantId,
        cart: &CartId,
        id: u64,
        mut change: impl FnMut(&mut Order) -> T,
    ) -> Result<Option<(Order, T)>, LedgerError> {
        let key = keys::order(merchant.as_str(), cart, id);
        for attempt in 0..MAX_CAS_ATTEMPTS {
            if attempt > 0 {
                // Jittered backoff so concurrent writers stop colliding in lockstep.
                let cap_ms = 1u64 << attempt.min(6);
                tokio::time::sleep(std::time::Duration::from_millis(rand::random_range(0..=cap_ms))).await;
            }
            let Some((version, before)) = self.get_versioned(merchant.as_str(), cart, id).await? else {
                return Ok(None);
            };
            let mut after = before.clone();
            let out = change(&mut after);
            if after == before {
                return Ok(Some((after, out)));
            }
            let value = serde_json::to_vec(&after).map_err(|e| LedgerError::Corrupt(e.to_string()))?;
            if self.kv.put(&key, Some(version), &value, &reindex(&before, &after)).await?.is_ok() {
                let from = before.status();
                if let Some(exits) = &self.exits
                    && matches!(from, OrderStatus::Error | OrderStatus::OnHold)
                    && after.status() != from
                {
                    exits.left(&after, from).await;
                }
                return Ok(Some((after, out)));
            }
        }
        Err(LedgerError::Contended)
    }

    /// The order a WMS order belongs to.
    pub async fn by_wms_order(&self, merchant: &str, wms_order_id: &str) -> Result<Option<(CartId, u64)>, LedgerError> {
        let m = self.kv.hget(&wms_map(merchant), wms_order_id).await?;
        Ok(m.as_deref().and_then(parse_member))
    }

    /// The order a tracking code belongs to.
    pub async fn by_tracking_code(&self, merchant: &str, code: &str) -> Result<Option<(CartId, u64)>, LedgerError> {
        let m = self.kv.hget(&tracking_map(merchant), code).await?;
        Ok(m.as_deref().and_then(parse_member))
    }

    /// The merchant's orders in `status` whose cart `keep` accepts, oldest first, reading the
    /// index in pages until it ends or `max_read` members (kept or not) were read.
    pub async fn in_status(
        &self,
        merchant: &MerchantId,
        status: OrderStatus,
        keep: impl Fn(&CartId) -> bool,
        max_read: usize,
    ) -> Result<Vec<(CartId, u64)>, LedgerError> {
        const PAGE: usize = 500;
        let mut out = Vec::new();
        let mut offset = 0;
        while offset < max_read {
            let members = self.with_status(merchant, status, offset, PAGE.min(max_read - offset)).await?;
            out.extend(members.iter().filter_map(|m| parse_member(m)).filter(|(c, _)| keep(c)));
            if members.len() < PAGE {
                break;
            }
            offset += PAGE;
        }
        Ok(out)
    }

    /// Members of one merchant's status index (oldest first), e.g. every held order.
    pub async fn with_status(
        &self,
        merchant: &MerchantId,
        status: OrderStatus,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<String>, LedgerError> {
        Ok(self.kv.zrange(&status_index(merchant.as_str(), status), offset, limit).await?)
    }
}

/// The index changes that go with replacing `before` by `after`, written in the same step.
fn reindex(before: &Order, after: &Order) -> Vec<IndexOp> {
    let merchant = after.merchant.as_str();
    let m = member(&after.cart, after.cart_order_id);
    let mut ops = Vec::new();
    if before.status() != after.status() {
        let score = after.created_at.timestamp_millis() as f64;
        ops.push(IndexOp::ZAdd { key: status_index(merchant, after.status()), member: m.clone(), score });
        ops.push(IndexOp::ZRem { key: status_index(merchant, before.status()), member: m });
    }
    ops.extend(finished_entry(Some(before), after));
    ops.extend(map_entries(Some(before), after));
    ops
}

/// The finished index follows the order into and out of a finished status; its score is when
/// the order finished (its last change).
fn finished_entry(before: Option<&Order>, after: &Order) -> Option<IndexOp> {
    let (was, is) = (before.is_some_and(|b| b.status().is_finished()), after.status().is_finished());
    let key = finished(after.merchant.as_str());
    let m = member(&after.cart, after.cart_order_id);
    match (was, is) {
        (false, true) => Some(IndexOp::ZAdd { key, member: m, score: after.updated_at.timestamp_millis() as f64 }),
        (true, false) => Some(IndexOp::ZRem { key, member: m }),
        _ => None,
    }
}

/// Map entries for the WMS order id and tracking codes `after` has and `before` had not.
fn map_entries(before: Option<&Order>, after: &Order) -> Vec<IndexOp> {
    let m = member(&after.cart, after.cart_order_id);
    let mut ops = Vec::new();
    if let Some(wms) = after.wms_order_id.as_ref().filter(|w| before.and_then(|b| b.wms_order_id.as_ref()) != Some(*w))
    {
        ops.push(IndexOp::HSet { key: wms_map(after.merchant.as_str()), field: wms.clone(), value: m.clone() });
    }
    let known: Vec<&str> =
        before.map(|b| b.shipments.iter().map(|s| s.tracking_code.as_str()).collect()).unwrap_or_default();
    for s in after.shipments.iter().filter(|s| !known.contains(&s.tracking_code.as_str())) {
        ops.push(IndexOp::HSet {
            key: tracking_map(after.merchant.as_str()),
            field: s.tracking_code.clone(),
            value: m.clone(),
        });
    }
    ops
}
