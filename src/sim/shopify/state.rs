//! The shop's data and the changes the merchant makes to it (through the control API): adding
//! variants with stock, creating, editing and cancelling orders, fulfilling by hand. The
//! changes the API makes (`fulfillmentCreate`, `inventorySetQuantities`) live in [`super::mutations`].
//!
//! An order gets one fulfillment order at its location holding every line with a variant
//! (Shopify splits by location; the simulator's orders are assigned to one). Editing an
//! unfulfilled order replaces its lines and its fulfillment order's lines, as Shopify's order
//! edit does.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{
    AdjustmentGroup, FoLine, Fulfillment, FulfillmentOrder, Level, LineItem, Location, Order, ShippingLine, Variant,
    WebhookSubscription,
};
use crate::sim::seed::{Seed, SeedAddress};

/// The first order id: above 2^53 on purpose (see [`super::model`]).
pub const FIRST_ORDER_ID: u64 = 820_982_911_946_154_500;

/// Why a control call was refused.
#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
}

/// An order to create through the control API.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewShopOrder {
    /// `displayFinancialStatus`; default `PAID`.
    pub financial_status: Option<String>,
    pub lines: Vec<NewShopLine>,
    /// Default: a sample US address.
    pub ship_to: Option<SeedAddress>,
    pub email: Option<String>,
    pub tags: Vec<String>,
    /// The shipping line's title (and code).
    pub ship_method: Option<String>,
    /// Default: the first location.
    pub location_id: Option<u64>,
    /// Default: now.
    pub created_at: Option<DateTime<Utc>>,
}

/// A line of a [`NewShopOrder`]: a variant by `sku` (or a custom line without one).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewShopLine {
    pub sku: Option<String>,
    pub title: Option<String>,
    pub quantity: i64,
}

/// Cloned for a mutation: it runs on the copy, which replaces the state only when the whole
/// answer could be built (so a bad selection writes nothing).
#[derive(Clone, Default)]
pub(crate) struct ShopState {
    pub locations: Vec<Location>,
    pub variants: BTreeMap<u64, Variant>,
    /// Per (inventory item, location); an item without an entry is not stocked there.
    pub levels: BTreeMap<(u64, u64), Level>,
    pub orders: BTreeMap<u64, Order>,
    pub fulfillment_orders: BTreeMap<u64, FulfillmentOrder>,
    pub fulfillments: BTreeMap<u64, Fulfillment>,
    pub subscriptions: BTreeMap<u64, WebhookSubscription>,
    pub adjustments: Vec<AdjustmentGroup>,
    /// `inventorySetQuantities` answers by `@idempotent` key: (the input, the payload).
    pub idempotent: HashMap<String, (Value, Value)>,
    next_id: u64,
    next_order_id: u64,
    next_number: u64,
}

impl ShopState {
    /// Locations `location_ids` (the first holds the seeded stock), the seed's items and orders
    /// (its payment status as the financial status; its order number and status are TradeGecko's
    /// and not used: Shopify numbers orders itself).
    pub(crate) fn from_seed(seed: &Seed, location_ids: &[u64]) -> Result<Self, ShopError> {
        let mut s = Self { next_id: 1000, next_order_id: FIRST_ORDER_ID, next_number: 1000, ..Self::default() };
        for &id in location_ids {
            s.locations.push(Location { id, name: format!("Warehouse {id}"), is_active: true });
        }
        for item in seed.all_items() {
            s.add_variant(&item.sku, Some(&item.barcode), &item.title, item.cart_stock, None);
        }
        for (n, o) in seed.all_orders().into_iter().enumerate() {
            let lines =
                o.lines.iter().map(|l| NewShopLine { sku: Some(l.sku.clone()), title: None, quantity: l.quantity });
            let spec = NewShopOrder {
                financial_status: Some(o.payment_status.to_ascii_uppercase()),
                lines: lines.collect(),
                ship_to: Some(o.ship_to.clone().unwrap_or_else(|| SeedAddress::sample(n + 1))),
                ..NewShopOrder::default()
            };
            s.create_order(spec).map_err(|e| ShopError::Invalid(format!("seed order {}: {e}", n + 1)))?;
        }
        Ok(s)
    }

    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub(crate) fn first_location(&self) -> u64 {
        self.locations.first().map_or(1, |l| l.id)
    }

    /// Adds a variant (its own product and inventory item) stocked at `location` (default: the
    /// first) with `stock` available and on hand; returns the variant id.
    pub(crate) fn add_variant(
        &mut self,
        sku: &str,
        barcode: Option<&str>,
        title: &str,
        stock: i64,
        location: Option<u64>,
    ) -> u64 {
        let (id, product_id, inventory_item_id) = (self.next_id(), self.next_id(), self.next_id());
        let v = Variant {
            id,
            product_id,
            inventory_item_id,
            sku: sku.to_owned(),
            barcode: barcode.map(str::to_owned),
            title: title.to_owned(),
        };
        self.variants.insert(id, v);
        let loc = location.unwrap_or_else(|| self.first_location());
        self.levels.insert((inventory_item_id, loc), Level { available: stock, on_hand: stock });
        id
    }

    pub(crate) fn variant_by_sku(&self, sku: &str) -> Option<&Variant> {
        self.variants.values().find(|v| v.sku == sku)
    }

    pub(crate) fn variant_by_item(&self, item: u64) -> Option<&Variant> {
        self.variants.values().find(|v| v.inventory_item_id == item)
    }

    fn line_items(&mut self, lines: &[NewShopLine]) -> Result<Vec<LineItem>, ShopError> {
        let mut out = Vec::new();
        for l in lines {
            if l.quantity < 1 {
                return Err(ShopError::Invalid("a line's quantity must be at least 1".into()));
            }
            let variant = match &l.sku {
                Some(sku) => Some(
                    self.variant_by_sku(sku).cloned().ok_or_else(|| ShopError::NotFound(format!("variant {sku}")))?,
                ),
                None => None,
            };
            let title = l.title.clone().or_else(|| variant.as_ref().map(|v| v.title.clone())).unwrap_or_default();
            let id = self.next_id();
            out.push(LineItem {
                id,
                variant_id: variant.as_ref().map(|v| v.id),
                sku: variant.map(|v| v.sku),
                title,
                quantity: l.quantity,
            });
        }
        Ok(out)
    }

    /// A fulfillment order at `location` for every line with a variant.
    fn open_fulfillment_order(&mut self, order_id: u64, location: u64, lines: &[LineItem]) -> u64 {
        let id = self.next_id();
        let fo_lines = lines
            .iter()
            .filter(|l| l.variant_id.is_some())
            .map(|l| (l.id, l.quantity))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|(line_item_id, q)| FoLine {
                id: self.next_id(),
                line_item_id,
                total_quantity: q,
                remaining_quantity: q,
            })
            .collect();
        let fo = FulfillmentOrder { id, order_id, location_id: location, status: "OPEN".into(), lines: fo_lines };
        self.fulfillment_orders.insert(id, fo);
        id
    }

    pub(crate) fn create_order(&mut self, spec: NewShopOrder) -> Result<u64, ShopError> {
        let location = spec.location_id.unwrap_or_else(|| self.first_location());
        if !self.locations.iter().any(|l| l.id == location) {
            return Err(ShopError::NotFound(format!("location {location}")));
        }
        let lines = self.line_items(&spec.lines)?;
        self.next_order_id += 1;
        self.next_number += 1;
        let (id, number) = (self.next_order_id, self.next_number);
        let address = spec.ship_to.unwrap_or_else(|| SeedAddress::sample(number as usize));
        let email =
            spec.email.or_else(|| address.email.clone()).unwrap_or_else(|| format!("buyer{number}@example.com"));
        let fo = self.open_fulfillment_order(id, location, &lines);
        let customer_id = self.next_id();
        let now = Utc::now();
        let shipping_line =
            spec.ship_method.map(|t| ShippingLine { code: t.clone(), title: t, source: "shopify".into() });
        let order = Order {
            id,
            name: format!("#{number}"),
            email,
            customer_id,
            created_at: spec.created_at.unwrap_or(now),
            updated_at: now,
            cancelled_at: None,
            financial_status: spec.financial_status.unwrap_or_else(|| "PAID".into()),
            fulfillment_status: "UNFULFILLED".into(),
            tags: spec.tags,
            shipping_address: address,
            shipping_line,
            line_items: lines,
            fulfillment_order_ids: vec![fo],
            fulfillment_ids: Vec::new(),
        };
        self.orders.insert(id, order);
        Ok(id)
    }

    pub(crate) fn order_mut(&mut self, id: u64) -> Result<&mut Order, ShopError> {
        self.orders.get_mut(&id).ok_or_else(|| ShopError::NotFound(format!("order {id}")))
    }

    /// Replaces the lines of an order nothing of which is fulfilled (Shopify's order edit).
    pub(crate) fn replace_lines(&mut self, id: u64, lines: &[NewShopLine]) -> Result<(), ShopError> {
        let order = self.order_mut(id)?;
        if !order.fulfillment_ids.is_empty() || order.cancelled_at.is_some() {
            return Err(ShopError::Invalid("only an unfulfilled, open order can be edited".into()));
        }
        let (old_fos, location) = (order.fulfillment_order_ids.clone(), self.fo_location(id));
        let new_lines = self.line_items(lines)?;
        for fo in old_fos {
            self.fulfillment_orders.remove(&fo);
        }
        let fo = self.open_fulfillment_order(id, location, &new_lines);
        let order = self.order_mut(id)?;
        order.line_items = new_lines;
        order.fulfillment_order_ids = vec![fo];
        order.updated_at = Utc::now();
        Ok(())
    }

    fn fo_location(&self, order_id: u64) -> u64 {
        let fo = self.orders.get(&order_id).and_then(|o| o.fulfillment_order_ids.first());
        fo.and_then(|id| self.fulfillment_orders.get(id)).map_or_else(|| self.first_location(), |f| f.location_id)
    }

    /// Cancels an order: its open fulfillment orders close as `CANCELLED`.
    pub(crate) fn cancel(&mut self, id: u64) -> Result<(), ShopError> {
        let order = self.order_mut(id)?;
        if order.cancelled_at.is_some() {
            return Err(ShopError::Invalid(format!("order {id} is already cancelled")));
        }
        let now = Utc::now();
        order.cancelled_at = Some(now);
        order.updated_at = now;
        for fo in order.fulfillment_order_ids.clone() {
            if let Some(f) = self.fulfillment_orders.get_mut(&fo).filter(|f| f.status != "CLOSED") {
                f.status = "CANCELLED".into();
            }
        }
        Ok(())
    }

    /// The order's display fulfillment status from its fulfillment orders' remaining quantities.
    pub(crate) fn refresh_fulfillment_status(&mut self, order_id: u64) {
        let (mut total, mut remaining) = (0, 0);
        for fo in self.fulfillment_orders.values().filter(|f| f.order_id == order_id) {
            for l in &fo.lines {
                total += l.total_quantity;
                remaining += l.remaining_quantity;
            }
        }
        if let Some(o) = self.orders.get_mut(&order_id) {
            o.fulfillment_status = match (remaining, total) {
                (0, t) if t > 0 => "FULFILLED",
                (r, t) if r < t => "PARTIALLY_FULFILLED",
                _ => "UNFULFILLED",
            }
            .into();
            o.updated_at = Utc::now();
        }
    }
}
