//! Driving the TradeGecko simulator: typed methods on [`TradegeckoSim`] and the same actions
//! as JSON under `/_sim/…` (no auth, no faults, not recorded).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde::Deserialize;
use serde_json::{Value, json};

use super::events::emit;
use super::model::OrderStatus;
use super::state::{NewLine, NewOrder, TgError};
use super::{PaymentStatus, RateLimitConfig, TgShared, TradegeckoSim};
use crate::sim::delivery::{DeliveryAttempt, DeliverySwitches};
use crate::sim::faults::FaultConfig;
use crate::sim::util::lock;

/// A silent edit of an order (TradeGecko has no webhook for edits).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrderPatch {
    pub status: Option<OrderStatus>,
    pub payment_status: Option<PaymentStatus>,
    pub notes: Option<String>,
    /// Replaces every line of the order.
    pub lines: Option<Vec<NewLine>>,
    /// Replaces the order's tags.
    pub tags: Option<Vec<String>>,
}

impl TgShared {
    pub(super) fn create_order(self: &Arc<Self>, spec: NewOrder) -> Result<u64, TgError> {
        let id = lock(&self.state).create_order(spec)?;
        emit(self, "order.create", id);
        if lock(&self.state).orders.get(&id).is_some_and(|o| o.status == OrderStatus::Finalized) {
            emit(self, "order.finalized", id);
        }
        Ok(id)
    }

    pub(super) fn set_status(self: &Arc<Self>, id: u64, status: OrderStatus) -> Result<(), TgError> {
        lock(&self.state).set_status(id, status)?;
        if status == OrderStatus::Finalized {
            emit(self, "order.finalized", id);
        }
        Ok(())
    }

    /// Ships everything still unshipped, as a merchant would by hand.
    pub(super) fn fulfil(self: &Arc<Self>, id: u64) -> Result<u64, TgError> {
        let effect = {
            let mut s = lock(&self.state);
            let order = s.orders.get(&id).ok_or_else(|| TgError::not_found("Order", id))?;
            let items: Vec<Value> = order
                .order_line_item_ids
                .iter()
                .filter_map(|l| s.lines.get(l))
                .filter(|l| l.variant_id.is_some())
                .map(|l| (l.id, l.quantity - s.shipped_quantity(l.id)))
                .filter(|(_, q)| *q > 0)
                .map(|(l, q)| json!({"order_line_item_id": l, "quantity": q}))
                .collect();
            let body = json!({"fulfillment": {"order_id": id, "status": "fulfilled", "tracking_company": "Manual", "fulfillment_line_items": items}});
            s.create_fulfillment(&body)?
        };
        emit(self, "fulfillment.create", effect.fulfillment_id);
        emit(self, "fulfillment.fulfilled", effect.fulfillment_id);
        if effect.order_fulfilled {
            emit(self, "order.fulfilled", id);
        }
        Ok(effect.fulfillment_id)
    }

    pub(super) fn patch(&self, id: u64, patch: OrderPatch) -> Result<(), TgError> {
        let mut s = lock(&self.state);
        if let Some(lines) = &patch.lines {
            s.replace_lines(id, lines)?;
        }
        let order = s.order_mut(id)?;
        if let Some(st) = patch.status {
            order.status = st;
        }
        if let Some(p) = patch.payment_status {
            order.payment_status = p;
        }
        if patch.notes.is_some() {
            order.notes = patch.notes;
        }
        if let Some(tags) = patch.tags {
            order.tags = tags;
        }
        order.updated_at = chrono::Utc::now();
        Ok(())
    }

    pub(super) fn order_detail(&self, id: u64) -> Option<Value> {
        let s = lock(&self.state);
        let o = s.orders.get(&id)?;
        let lines: Vec<_> = o.order_line_item_ids.iter().filter_map(|l| s.lines.get(l)).collect();
        let fulfillments: Vec<_> = o.fulfillment_ids.iter().filter_map(|f| s.fulfillments.get(f)).collect();
        Some(json!({"order": o, "order_line_items": lines, "fulfillments": fulfillments}))
    }

    pub(super) fn fulfillments_of(&self, order_id: Option<u64>) -> Vec<Value> {
        let s = lock(&self.state);
        let matching = s.fulfillments.values().filter(|f| order_id.is_none_or(|o| f.order_id == o));
        matching
            .map(|f| {
                let lines: Vec<_> =
                    f.fulfillment_line_item_ids.iter().filter_map(|l| s.fulfillment_lines.get(l)).collect();
                json!({"fulfillment": f, "fulfillment_line_items": lines})
            })
            .collect()
    }

    pub(super) fn adjustments(&self) -> Vec<Value> {
        let s = lock(&self.state);
        s.adjustments
            .values()
            .map(|a| {
                let lines: Vec<_> =
                    a.stock_adjustment_line_item_ids.iter().filter_map(|l| s.adjustment_lines.get(l)).collect();
                json!({"stock_adjustment": a, "stock_adjustment_line_items": lines})
            })
            .collect()
    }

    pub(super) fn stock_table(&self) -> Vec<Value> {
        let s = lock(&self.state);
        s.variants.keys().filter_map(|id| s.variant_json(*id)).collect()
    }

    pub(super) fn set_rate_limit(&self, config: RateLimitConfig) {
        self.limiter.set(config);
        self.common.rate_limit_limit.store(config.limit, Ordering::Relaxed);
    }
}

impl TradegeckoSim {
    /// Creates an order; notifies `order.create` (and `order.finalized` when finalized).
    pub fn create_order(&self, spec: NewOrder) -> Result<u64, TgError> {
        self.shared.create_order(spec)
    }

    /// Creates `count` orders from one template (numbers `SO…` assigned).
    pub fn create_orders(&self, count: usize, template: &NewOrder) -> Result<Vec<u64>, TgError> {
        (0..count).map(|_| self.shared.create_order(NewOrder { order_number: None, ..template.clone() })).collect()
    }

    /// `finalized`, notifying `order.finalized`.
    pub fn finalize_order(&self, id: u64) -> Result<(), TgError> {
        self.shared.set_status(id, OrderStatus::Finalized)
    }

    /// `void` — silently, as TradeGecko has no void event.
    pub fn void_order(&self, id: u64) -> Result<(), TgError> {
        self.shared.set_status(id, OrderStatus::Void)
    }

    /// Ships all remaining units by hand; notifies `fulfillment.create` and `order.fulfilled`.
    pub fn fulfil_order(&self, id: u64) -> Result<u64, TgError> {
        self.shared.fulfil(id)
    }

    /// Edits an order without any notification.
    pub fn update_order(&self, id: u64, patch: OrderPatch) -> Result<(), TgError> {
        self.shared.patch(id, patch)
    }

    /// Sends `event` about `object_id` to the registered webhooks now.
    pub fn notify(&self, event: &str, object_id: u64) {
        emit(&self.shared, event, object_id);
    }

    /// Adds a variant with `stock` on hand at the first location; returns its id.
    pub fn add_variant(&self, sku: &str, upc: Option<&str>, title: &str, stock: i64) -> u64 {
        let mut s = lock(&self.shared.state);
        let id = s.add_variant(sku, upc, title);
        let loc = s.first_location();
        s.stock.insert((id, loc), stock);
        id
    }

    /// The first variant with this SKU.
    pub fn variant_id(&self, sku: &str) -> Option<u64> {
        lock(&self.shared.state).variants.values().find(|v| v.sku == sku).map(|v| v.id)
    }

    /// The first stock location (where orders and seeded stock are).
    pub fn location_id(&self) -> u64 {
        lock(&self.shared.state).first_location()
    }

    /// `stock_on_hand` of a variant at a location.
    pub fn stock_on_hand(&self, variant_id: u64, location_id: u64) -> i64 {
        lock(&self.shared.state).stock.get(&(variant_id, location_id)).copied().unwrap_or(0)
    }

    /// `{"order","order_line_items","fulfillments"}` for one order.
    pub fn order(&self, id: u64) -> Option<Value> {
        self.shared.order_detail(id)
    }

    /// Fulfillments (with their lines) of one order, or of all.
    pub fn fulfillments(&self, order_id: Option<u64>) -> Vec<Value> {
        self.shared.fulfillments_of(order_id)
    }

    /// How many fulfillments each order has (more than one for one shipment = a duplicate upload).
    pub fn fulfillment_counts(&self) -> BTreeMap<u64, usize> {
        let mut out = BTreeMap::new();
        for f in lock(&self.shared.state).fulfillments.values() {
            *out.entry(f.order_id).or_insert(0) += 1;
        }
        out
    }

    /// Every stock adjustment with its lines, oldest first.
    pub fn stock_adjustments(&self) -> Vec<Value> {
        self.shared.adjustments()
    }

    /// Registered webhooks.
    pub fn webhooks(&self) -> Vec<Value> {
        lock(&self.shared.state).webhooks.values().filter_map(|w| serde_json::to_value(w).ok()).collect()
    }

    /// Deletes every registered webhook, as TradeGecko does after 3 days of failed deliveries;
    /// returns how many there were.
    pub fn drop_webhooks(&self) -> usize {
        let mut state = lock(&self.shared.state);
        let n = state.webhooks.len();
        state.webhooks.clear();
        n
    }

    pub fn set_faults(&self, config: FaultConfig) {
        self.shared.common.faults.set(config);
    }

    pub fn faults(&self) -> FaultConfig {
        self.shared.common.faults.config()
    }

    /// 429 on every API request for `duration`.
    pub fn storm(&self, duration: std::time::Duration) {
        self.shared.common.faults.storm(duration);
    }

    pub fn set_delivery_switches(&self, switches: DeliverySwitches) {
        self.shared.deliverer.set_switches(switches);
    }

    pub fn set_delivery_policy(&self, policy: crate::sim::delivery::DeliveryPolicy) {
        self.shared.deliverer.set_policy(policy);
    }

    /// Every delivery attempt so far.
    pub fn deliveries(&self) -> Vec<DeliveryAttempt> {
        self.shared.deliverer.log()
    }

    /// Deliveries not finished yet (retries pending).
    pub fn deliveries_in_flight(&self) -> usize {
        self.shared.deliverer.in_flight()
    }

    pub fn set_rate_limit(&self, config: RateLimitConfig) {
        self.shared.set_rate_limit(config);
    }

    /// A lapsed subscription answers every API call with 402.
    pub fn set_subscription_lapsed(&self, lapsed: bool) {
        self.shared.lapsed.store(lapsed, std::sync::atomic::Ordering::Relaxed);
    }
}
