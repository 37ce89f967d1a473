//! Writes with rules: fulfillments (which move the order's statuses and stock) and stock
//! adjustments (signed deltas), plus the variant's computed stock fields.

use chrono::Utc;
use serde_json::{Value, json};

use super::model::{
    Fulfillment, FulfillmentLineItem, FulfillmentStatus, OrderStatus, StockAdjustment, StockAdjustmentLineItem,
};
use super::state::{TgError, TgState};
use crate::sim::util::whole_units;

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(|x| x.as_str()).map(str::to_owned)
}

fn id_of(v: &Value, key: &str) -> Option<u64> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The parsed `fulfillment_line_items` of a request: (order line id, quantity).
fn fulfillment_lines(state: &TgState, order_id: u64, body: &Value) -> Result<Vec<(u64, i64)>, TgError> {
    let field = "fulfillment_line_items";
    let items = body.get(field).and_then(Value::as_array).filter(|a| !a.is_empty());
    let items = items.ok_or_else(|| TgError::invalid(field, "can't be blank"))?;
    let mut out = Vec::new();
    for item in items {
        let line_id = id_of(item, "order_line_item_id")
            .ok_or_else(|| TgError::invalid(field, "order_line_item_id can't be blank"))?;
        if state.lines.get(&line_id).is_none_or(|l| l.order_id != order_id) {
            return Err(TgError::invalid(
                field,
                format!("order line item {line_id} does not belong to order {order_id}"),
            ));
        }
        let qty = item.get("quantity").and_then(whole_units).filter(|q| *q > 0);
        out.push((
            line_id,
            qty.ok_or_else(|| TgError::invalid(field, "quantity must be a whole number greater than 0"))?,
        ));
    }
    Ok(out)
}

/// What a new fulfillment did to its order.
pub(crate) struct FulfillmentEffect {
    pub fulfillment_id: u64,
    pub order_id: u64,
    /// Its status is `fulfilled` (not just `packed`).
    pub shipped: bool,
    /// The order went to `fulfilled` because of it.
    pub order_fulfilled: bool,
}

impl TgState {
    /// `POST /fulfillments`: records it, updates the order and (when `fulfilled`) its stock.
    pub(crate) fn create_fulfillment(&mut self, body: &Value) -> Result<FulfillmentEffect, TgError> {
        let f = body.get("fulfillment").filter(|v| v.is_object());
        let f = f.ok_or_else(|| TgError::invalid("fulfillment", "can't be blank"))?;
        let order_id = id_of(f, "order_id").ok_or_else(|| TgError::invalid("order_id", "can't be blank"))?;
        let order = self.orders.get(&order_id).cloned();
        let order = order.ok_or_else(|| TgError::invalid("order_id", format!("order {order_id} does not exist")))?;
        let status = text(f, "status").unwrap_or_else(|| "fulfilled".into());
        if status != "packed" && status != "fulfilled" {
            return Err(TgError::invalid("status", "is not included in the list (packed, fulfilled)"));
        }
        let lines = fulfillment_lines(self, order_id, f)?;
        let id = self.next_id();
        let shipped = status == "fulfilled";
        let line_ids = self.insert_fulfillment_lines(id, order.stock_location_id, shipped, lines);
        let now = Utc::now();
        let record = Fulfillment {
            id,
            order_id,
            shipping_address_id: order.shipping_address_id,
            billing_address_id: order.billing_address_id,
            status,
            exchange_rate: "1.0".into(),
            packed_at: Some(now.format("%Y-%m-%d").to_string()),
            shipped_at: text(f, "shipped_at").or_else(|| shipped.then(|| crate::sim::util::tg_time(&now))),
            received_at: None,
            delivery_type: text(f, "delivery_type"),
            tracking_number: text(f, "tracking_number"),
            tracking_company: text(f, "tracking_company"),
            tracking_url: text(f, "tracking_url"),
            notes: text(f, "notes"),
            created_at: now,
            updated_at: now,
            fulfillment_line_item_ids: line_ids,
        };
        self.fulfillments.insert(id, record);
        let order_fulfilled = self.refresh_order_after_fulfillment(order_id, id);
        Ok(FulfillmentEffect { fulfillment_id: id, order_id, shipped, order_fulfilled })
    }

    /// Records the fulfillment's lines; shipped units leave the location's stock on hand.
    fn insert_fulfillment_lines(&mut self, id: u64, location: u64, shipped: bool, lines: Vec<(u64, i64)>) -> Vec<u64> {
        let mut ids = Vec::new();
        for (line_id, quantity) in lines {
            let fli = self.next_id();
            let base_price = self.lines.get(&line_id).map_or_else(|| "0.0".into(), |l| l.price.clone());
            let item =
                FulfillmentLineItem { id: fli, fulfillment_id: id, order_line_item_id: line_id, quantity, base_price };
            self.fulfillment_lines.insert(fli, item);
            if let Some(line) = self.lines.get_mut(&line_id) {
                line.fulfillment_line_item_ids.push(fli);
                if let (true, Some(v)) = (shipped, line.variant_id) {
                    *self.stock.entry((v, location)).or_insert(0) -= quantity;
                }
            }
            ids.push(fli);
        }
        ids
    }

    /// Units of an order line in `fulfilled` fulfillments.
    pub(crate) fn shipped_quantity(&self, line_id: u64) -> i64 {
        let Some(line) = self.lines.get(&line_id) else { return 0 };
        line.fulfillment_line_item_ids
            .iter()
            .filter_map(|id| self.fulfillment_lines.get(id))
            .filter(|fli| self.fulfillments.get(&fli.fulfillment_id).is_some_and(|f| f.status == "fulfilled"))
            .map(|fli| fli.quantity)
            .sum()
    }

    /// Recomputes `fulfillment_status`/`packed_status`; returns true when the order just became `fulfilled`.
    fn refresh_order_after_fulfillment(&mut self, order_id: u64, fulfillment_id: u64) -> bool {
        let Some(order) = self.orders.get(&order_id) else { return false };
        let product_lines: Vec<_> = order
            .order_line_item_ids
            .iter()
            .filter_map(|id| self.lines.get(id))
            .filter(|l| l.variant_id.is_some())
            .collect();
        let shipped: Vec<(i64, i64)> =
            product_lines.iter().map(|l| (self.shipped_quantity(l.id), l.quantity)).collect();
        let all = !shipped.is_empty() && shipped.iter().all(|(s, q)| s >= q);
        let any = shipped.iter().any(|(s, _)| *s > 0);
        let Some(order) = self.orders.get_mut(&order_id) else { return false };
        order.fulfillment_ids.push(fulfillment_id);
        order.packed_status = "packed".into();
        order.fulfillment_status = match (all, any) {
            (true, _) => FulfillmentStatus::Shipped,
            (false, true) => FulfillmentStatus::Partial,
            _ => FulfillmentStatus::Unshipped,
        };
        order.updated_at = Utc::now();
        let becomes = all && matches!(order.status, OrderStatus::Active | OrderStatus::Finalized);
        if becomes {
            order.status = OrderStatus::Fulfilled;
        }
        becomes
    }

    /// `POST /stock_adjustments`: applies signed deltas to one location's stock on hand.
    pub(crate) fn create_stock_adjustment(&mut self, body: &Value) -> Result<(u64, Vec<u64>), TgError> {
        let a = body.get("stock_adjustment").filter(|v| v.is_object());
        let a = a.ok_or_else(|| TgError::invalid("stock_adjustment", "can't be blank"))?;
        let location =
            id_of(a, "stock_location_id").ok_or_else(|| TgError::invalid("stock_location_id", "can't be blank"))?;
        if !self.locations.iter().any(|l| l.id == location) {
            return Err(TgError::invalid("stock_location_id", format!("location {location} does not exist")));
        }
        check_reason(a)?;
        let deltas = self.adjustment_deltas(a)?;
        let id = self.next_id();
        let now = Utc::now();
        let mut line_ids = Vec::new();
        for (pos, (variant_id, quantity)) in deltas.iter().copied().enumerate() {
            *self.stock.entry((variant_id, location)).or_insert(0) += quantity;
            let lid = self.next_id();
            let position = pos as u32 + 1;
            let item = StockAdjustmentLineItem {
                id: lid,
                stock_adjustment_id: id,
                variant_id,
                quantity,
                position,
                price: "0.0".into(),
                created_at: now,
                updated_at: now,
            };
            self.adjustment_lines.insert(lid, item);
            line_ids.push(lid);
        }
        let record = StockAdjustment {
            id,
            stock_location_id: location,
            adjustment_number: (self.adjustments.len() + 1).to_string(),
            reason: text(a, "reason"),
            notes: text(a, "notes"),
            status: "received".into(),
            cached_quantity: deltas.iter().map(|(_, q)| q).sum(),
            created_at: now,
            updated_at: now,
            stock_adjustment_line_item_ids: line_ids,
        };
        self.adjustments.insert(id, record);
        Ok((id, deltas.into_iter().map(|(v, _)| v).collect()))
    }

    /// The (variant, signed delta) pairs of an adjustment request.
    fn adjustment_deltas(&self, a: &Value) -> Result<Vec<(u64, i64)>, TgError> {
        let field = "stock_adjustment_line_items";
        let items = a.get(field).and_then(Value::as_array).filter(|v| !v.is_empty());
        let items = items.ok_or_else(|| TgError::invalid(field, "can't be blank"))?;
        items
            .iter()
            .map(|item| {
                let v = id_of(item, "variant_id").filter(|v| self.variants.contains_key(v));
                let v = v.ok_or_else(|| TgError::invalid(field, "variant_id is missing or does not exist"))?;
                let q = item.get("quantity").and_then(whole_units);
                Ok((v, q.ok_or_else(|| TgError::invalid(field, "quantity must be a whole number"))?))
            })
            .collect()
    }

    /// Units of `variant` still owed by open orders at `location`.
    fn committed(&self, variant: u64, location: u64) -> i64 {
        self.orders
            .values()
            .filter(|o| {
                o.stock_location_id == location && matches!(o.status, OrderStatus::Active | OrderStatus::Finalized)
            })
            .flat_map(|o| o.order_line_item_ids.iter().filter_map(|id| self.lines.get(id)))
            .filter(|l| l.variant_id == Some(variant))
            .map(|l| (l.quantity - self.shipped_quantity(l.id)).max(0))
            .sum()
    }

    /// A variant as the API renders it, with stock per location (counts as strings).
    pub(crate) fn variant_json(&self, id: u64) -> Option<Value> {
        let v = self.variants.get(&id)?;
        let mut out = serde_json::to_value(v).ok()?;
        let (mut soh, mut com) = (0, 0);
        let mut locations = Vec::new();
        let mut levels = serde_json::Map::new();
        for loc in &self.locations {
            let s = self.stock.get(&(id, loc.id)).copied().unwrap_or(0);
            let c = self.committed(id, loc.id);
            soh += s;
            com += c;
            locations.push(json!({"location_id": loc.id, "stock_on_hand": s.to_string(), "committed": c.to_string(), "available": (s - c).to_string()}));
            levels.insert(loc.id.to_string(), Value::String(s.to_string()));
        }
        let obj = out.as_object_mut()?;
        obj.insert("stock_on_hand".into(), Value::String(soh.to_string()));
        obj.insert("committed_stock".into(), Value::String(com.to_string()));
        obj.insert("available_stock".into(), Value::String((soh - com).to_string()));
        obj.insert("locations".into(), Value::Array(locations));
        obj.insert("stock_levels".into(), Value::Object(levels));
        Some(out)
    }
}

/// TradeGecko's documented adjustment reasons; a custom one is named by
/// `stock_adjustment_reason_id` instead. Anything else is a 422 (UPSTREAMS.md, "Stock").
const DOCUMENTED_REASONS: [&str; 6] = ["supplier", "customer", "damaged", "shrinkage", "promotion", "production"];

fn check_reason(a: &Value) -> Result<(), TgError> {
    if a.get("stock_adjustment_reason_id").is_some_and(|v| !v.is_null()) {
        return Ok(());
    }
    match a.get("reason").and_then(Value::as_str) {
        Some(r) if DOCUMENTED_REASONS.contains(&r) => Ok(()),
        Some(r) => Err(TgError::invalid("reason", format!("`{r}` is not included in the list"))),
        None => Err(TgError::invalid("reason", "can't be blank")),
    }
}
