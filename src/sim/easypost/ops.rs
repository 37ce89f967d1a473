//! Warehouse-side actions: shipping orders in picks, moving trackers, receiving and counting
//! stock, and the inventory listing.

use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::model::{Mode, Pick, Tracker, TrackingDetail, new_id};
use super::state::{EpError, EpState};

/// One parcel to ship: which units go in it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PickSpec {
    pub line_items: Vec<PickLine>,
    /// Default `USPS`.
    pub carrier: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickLine {
    pub barcode: String,
    pub units: i64,
}

/// What a shipment did, for the events it causes.
pub(crate) struct Shipped {
    pub mode: Mode,
    pub order: Value,
    pub previous_status: String,
    pub new_trackers: Vec<Value>,
}

/// After `pre_transit`, a tracker moves through these; `delivered` is final.
const TRACKER_FLOW: [&str; 4] = ["pre_transit", "in_transit", "out_for_delivery", "delivered"];

impl EpState {
    /// Ships `picks` of an order (all remaining units in one pick when empty).
    pub(crate) fn ship(&mut self, id: &str, picks: &[PickSpec]) -> Result<Shipped, EpError> {
        let idx =
            self.orders.iter().position(|o| o.id == id).ok_or_else(|| EpError::NotFound(format!("order {id}")))?;
        let order = &self.orders[idx];
        if order.status == "cancelled" {
            return Err(EpError::invalid("ORDER.CANCELLED", format!("Order {id} is cancelled"), vec![]));
        }
        let remaining: Vec<PickLine> = order
            .lines
            .iter()
            .filter(|l| l.units > l.shipped)
            .map(|l| PickLine { barcode: l.barcode.clone(), units: l.units - l.shipped })
            .collect();
        if remaining.is_empty() {
            return Err(EpError::invalid(
                "ORDER.ALREADY_SHIPPED",
                format!("Order {id} has nothing left to ship"),
                vec![],
            ));
        }
        let picks = if picks.is_empty() {
            vec![PickSpec { line_items: remaining.clone(), carrier: None }]
        } else {
            picks.to_vec()
        };
        for line in picks.iter().flat_map(|p| &p.line_items) {
            let total: i64 =
                picks.iter().flat_map(|p| &p.line_items).filter(|l| l.barcode == line.barcode).map(|l| l.units).sum();
            let left = remaining.iter().find(|r| r.barcode == line.barcode).map_or(0, |r| r.units);
            if line.units <= 0 || total > left {
                return Err(EpError::invalid(
                    "PARAMETER.INVALID",
                    format!("cannot ship {total} of barcode {} (unshipped: {left})", line.barcode),
                    vec![],
                ));
            }
        }
        let previous_status = self.orders[idx].status.clone();
        let mut new_trackers = Vec::new();
        for spec in picks {
            let pick = self.make_pick(idx, &spec);
            new_trackers.push(pick.tracker.json());
            self.orders[idx].picks.push(pick);
        }
        let order = &mut self.orders[idx];
        let done = order.lines.iter().all(|l| l.shipped >= l.units);
        order.status = if done { "shipped" } else { "partially_shipped" }.into();
        order.updated_at = Utc::now();
        Ok(Shipped { mode: order.mode, order: order.json(), previous_status, new_trackers })
    }

    /// Builds one pick, consuming its units from the order's reservations.
    fn make_pick(&mut self, idx: usize, spec: &PickSpec) -> Pick {
        let mut lines = Vec::new();
        for pl in &spec.line_items {
            let Some(line) = self.orders[idx].lines.iter_mut().find(|l| l.barcode == pl.barcode) else { continue };
            line.shipped += pl.units;
            let mut left = pl.units;
            for (wh, reserved) in line.allocations.iter_mut() {
                let take = left.min(*reserved);
                *reserved -= take;
                left -= take;
                let s = self.stock.entry((line.product_id.clone(), wh.clone())).or_default();
                s.reserved -= take;
                s.on_hand -= take;
            }
            line.allocations.retain(|(_, r)| *r > 0);
            lines.push((line.product_id.clone(), line.barcode.clone(), pl.units));
        }
        self.tracking_seq += 1;
        let code = format!("94001{:017}", self.tracking_seq);
        let carrier = spec.carrier.clone().unwrap_or_else(|| "USPS".into());
        let tracker = Tracker::new(self.orders[idx].mode, code, carrier);
        Pick { id: new_id("pick"), lines, tracker, created_at: Utc::now() }
    }

    /// Moves a tracker (by id or tracking code) to `status`, or to the next step of the flow.
    /// Returns the tracker, its previous status and its mode.
    pub(crate) fn advance_tracker(
        &mut self,
        key: &str,
        status: Option<&str>,
    ) -> Result<(Value, String, Mode), EpError> {
        let order = self
            .orders
            .iter_mut()
            .find(|o| o.picks.iter().any(|p| p.tracker.id == key || p.tracker.tracking_code == key));
        let order = order.ok_or_else(|| EpError::NotFound(format!("tracker {key}")))?;
        order.updated_at = Utc::now();
        let Some(t) = order.picks.iter_mut().map(|p| &mut p.tracker).find(|t| t.id == key || t.tracking_code == key)
        else {
            return Err(EpError::NotFound(format!("tracker {key}")));
        };
        let next = match status {
            Some(s) => s.to_owned(),
            None => {
                let pos = TRACKER_FLOW.iter().position(|s| *s == t.status).unwrap_or(0);
                TRACKER_FLOW[(pos + 1).min(TRACKER_FLOW.len() - 1)].to_owned()
            }
        };
        let previous = std::mem::replace(&mut t.status, next.clone());
        t.updated_at = Utc::now();
        let message = match next.as_str() {
            "in_transit" => "In transit",
            "out_for_delivery" => "Out for delivery",
            "delivered" => "Delivered",
            _ => "Status updated",
        };
        t.details.push(TrackingDetail { status: next, message: message.into(), datetime: t.updated_at });
        Ok((t.json(), previous, t.mode))
    }

    fn warehouse_id(&self, wanted: Option<&str>) -> Result<String, EpError> {
        match wanted {
            Some(w) => self
                .warehouses
                .iter()
                .find(|x| x.id == w)
                .map(|x| x.id.clone())
                .ok_or_else(|| EpError::NotFound(format!("warehouse {w}"))),
            None => {
                self.warehouses.first().map(|x| x.id.clone()).ok_or_else(|| EpError::NotFound("no warehouse".into()))
            }
        }
    }

    /// Adds `units` of `barcode` at a warehouse (the product is created if unknown).
    pub(crate) fn receive(&mut self, barcode: &str, warehouse: Option<&str>, units: i64) -> Result<i64, EpError> {
        let wh = self.warehouse_id(warehouse)?;
        let pid = self.product_for(barcode, None);
        let s = self.stock.entry((pid, wh)).or_default();
        s.on_hand += units;
        Ok(s.on_hand)
    }

    /// Sets the units on hand of `barcode` at a warehouse (reservations are kept).
    pub(crate) fn set_stock(&mut self, barcode: &str, warehouse: Option<&str>, units: i64) -> Result<(), EpError> {
        let wh = self.warehouse_id(warehouse)?;
        let pid = self.product_for(barcode, None);
        self.stock.entry((pid, wh)).or_default().on_hand = units;
        Ok(())
    }

    /// One row per product per warehouse; `quantity` is the units on hand.
    pub(crate) fn inventory_rows(&self, product_ids: &[String]) -> Vec<Value> {
        let products = self.products.iter().filter(|p| product_ids.is_empty() || product_ids.contains(&p.id));
        products
            .flat_map(|p| {
                self.warehouses.iter().map(move |w| {
                    let s = self.stock.get(&(p.id.clone(), w.id.clone())).copied().unwrap_or_default();
                    json!({"object": "Inventory", "product": p.json(), "warehouse": w.json(), "quantity": s.on_hand})
                })
            })
            .collect()
    }
}
