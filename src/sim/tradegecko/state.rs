//! The TradeGecko simulator's data: one account's orders, lines, addresses, variants, stock,
//! fulfillments, stock adjustments and webhooks.

use std::collections::BTreeMap;

use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::{
    Address, Fulfillment, FulfillmentLineItem, FulfillmentStatus, Location, Order, OrderLineItem, OrderStatus,
    PaymentStatus, StockAdjustment, StockAdjustmentLineItem, Variant, Webhook,
};
use crate::sim::seed::{Seed, SeedAddress};
use crate::sim::util::json;

/// Why a TradeGecko call failed, rendered in TradeGecko's shapes.
#[derive(Debug, thiserror::Error)]
pub enum TgError {
    #[error("{0}")]
    NotFound(String),
    /// 422 `{"errors":{"field":["msg"]}}`.
    #[error("validation failed: {0:?}")]
    Invalid(BTreeMap<String, Vec<String>>),
}

impl TgError {
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(BTreeMap::from([(field.to_owned(), vec![message.into()])]))
    }

    pub(crate) fn not_found(kind: &str, id: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("Couldn't find {kind} with 'id'={id}"))
    }

    pub(crate) fn response(&self) -> HttpResponse {
        match self {
            Self::NotFound(m) => json(404, &serde_json::json!({"type": "NotFound", "message": m})),
            Self::Invalid(errors) => json(422, &serde_json::json!({ "errors": errors })),
        }
    }
}

/// An order to create through the control API (or from the seed).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewOrder {
    pub order_number: Option<String>,
    /// Default `finalized`.
    pub status: Option<OrderStatus>,
    /// Default `paid`.
    pub payment_status: Option<PaymentStatus>,
    /// Default: the first location.
    pub stock_location_id: Option<u64>,
    pub lines: Vec<NewLine>,
    /// Default: a sample US address.
    pub ship_to: Option<SeedAddress>,
    pub email: Option<String>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
    /// Adds a `shipping` line with this label: the order's ship method.
    pub ship_method: Option<String>,
    /// Default: now (an order placed before a cart's `created_after`, say).
    pub created_at: Option<DateTime<Utc>>,
}

/// A line of a [`NewOrder`]: a variant by `sku` or `variant_id`, or a freeform line.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewLine {
    pub sku: Option<String>,
    pub variant_id: Option<u64>,
    pub quantity: i64,
    pub price: Option<String>,
    /// `product` (default), `shipping`, `discount`, …
    pub line_type: Option<String>,
    pub freeform: bool,
    pub label: Option<String>,
}

#[derive(Default)]
pub(crate) struct TgState {
    pub orders: BTreeMap<u64, Order>,
    pub lines: BTreeMap<u64, OrderLineItem>,
    pub addresses: BTreeMap<u64, Address>,
    pub variants: BTreeMap<u64, Variant>,
    pub locations: Vec<Location>,
    /// `stock_on_hand` per (variant, location).
    pub stock: BTreeMap<(u64, u64), i64>,
    pub fulfillments: BTreeMap<u64, Fulfillment>,
    pub fulfillment_lines: BTreeMap<u64, FulfillmentLineItem>,
    pub adjustments: BTreeMap<u64, StockAdjustment>,
    pub adjustment_lines: BTreeMap<u64, StockAdjustmentLineItem>,
    pub webhooks: BTreeMap<u64, Webhook>,
    next_id: u64,
}

impl TgState {
    /// The seed's variants and orders at `location_ids` (the first holds the seeded stock).
    pub(crate) fn from_seed(seed: &Seed, location_ids: &[u64]) -> Result<Self, TgError> {
        let mut s = Self { next_id: 1000, ..Self::default() };
        for &id in location_ids {
            s.locations.push(Location {
                id,
                label: format!("Location {id}"),
                status: "active".into(),
                holds_stock: true,
            });
        }
        let first = s.first_location();
        for item in seed.all_items() {
            let vid = s.add_variant(&item.sku, Some(&item.barcode), &item.title);
            s.stock.insert((vid, first), item.cart_stock);
        }
        for (n, o) in seed.all_orders().into_iter().enumerate() {
            let lines = o.lines.iter().map(|l| NewLine {
                sku: Some(l.sku.clone()),
                quantity: l.quantity,
                ..NewLine::default()
            });
            let status = serde_json::from_value(serde_json::Value::String(o.status.clone()))
                .map_err(|_| TgError::invalid("status", format!("unknown order status {}", o.status)))?;
            let payment = serde_json::from_value(serde_json::Value::String(o.payment_status.clone()))
                .map_err(|_| TgError::invalid("payment_status", format!("unknown {}", o.payment_status)))?;
            s.create_order(NewOrder {
                order_number: o.order_number.clone(),
                status: Some(status),
                payment_status: Some(payment),
                lines: lines.collect(),
                ship_to: Some(o.ship_to.clone().unwrap_or_else(|| SeedAddress::sample(n + 1))),
                ..NewOrder::default()
            })?;
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

    /// Adds a variant (its own product), returning its id.
    pub(crate) fn add_variant(&mut self, sku: &str, upc: Option<&str>, title: &str) -> u64 {
        let id = self.next_id();
        let product_id = self.next_id();
        let now = Utc::now();
        self.variants.insert(
            id,
            Variant {
                id,
                product_id,
                sku: sku.to_owned(),
                upc: upc.map(str::to_owned),
                name: "Default".into(),
                product_name: title.to_owned(),
                status: "active".into(),
                created_at: now,
                updated_at: now,
            },
        );
        id
    }

    fn variant_by_line(&self, line: &NewLine) -> Result<Option<u64>, TgError> {
        if let Some(id) = line.variant_id {
            return self
                .variants
                .contains_key(&id)
                .then_some(Some(id))
                .ok_or_else(|| TgError::invalid("variant_id", format!("{id} does not exist")));
        }
        match &line.sku {
            Some(sku) => self
                .variants
                .values()
                .find(|v| &v.sku == sku)
                .map(|v| Some(v.id))
                .ok_or_else(|| TgError::invalid("sku", format!("no variant with SKU {sku}"))),
            None if line.freeform || line.line_type.as_deref().is_some_and(|t| t != "product") => Ok(None),
            None => Err(TgError::invalid("order_line_items", "a product line needs a sku or variant_id")),
        }
    }

    /// Creates an order with its lines and shipping address.
    pub(crate) fn create_order(&mut self, mut spec: NewOrder) -> Result<u64, TgError> {
        if let Some(label) = spec.ship_method.take() {
            let price = Some("0.0".to_owned());
            let line_type = Some("shipping".to_owned());
            spec.lines.push(NewLine { quantity: 1, price, line_type, label: Some(label), ..NewLine::default() });
        }
        let variant_ids = spec.lines.iter().map(|l| self.variant_by_line(l)).collect::<Result<Vec<_>, _>>()?;
        let location = spec.stock_location_id.unwrap_or_else(|| self.first_location());
        if !self.locations.iter().any(|l| l.id == location) {
            return Err(TgError::invalid("stock_location_id", format!("{location} does not exist")));
        }
        let id = self.next_id();
        let address = spec.ship_to.clone().unwrap_or_else(|| SeedAddress::sample(id as usize));
        let email = spec.email.clone().or_else(|| address.email.clone());
        let address_id = self.insert_address(address);
        let (line_ids, total) = self.insert_lines(id, &spec.lines, variant_ids);
        let now = Utc::now();
        let number = spec.order_number.unwrap_or_else(|| format!("SO{:05}", self.orders.len() + 1));
        self.orders.insert(
            id,
            Order {
                id,
                order_number: number,
                status: spec.status.unwrap_or(OrderStatus::Finalized),
                payment_status: spec.payment_status.unwrap_or(PaymentStatus::Paid),
                fulfillment_status: FulfillmentStatus::Unshipped,
                packed_status: "unpacked".into(),
                invoice_status: "uninvoiced".into(),
                company_id: None,
                shipping_address_id: Some(address_id),
                billing_address_id: Some(address_id),
                stock_location_id: location,
                currency_id: 1,
                email,
                phone_number: None,
                notes: spec.notes,
                reference_number: None,
                issued_at: now.format("%Y-%m-%d").to_string(),
                ship_at: None,
                created_at: spec.created_at.unwrap_or(now),
                updated_at: now,
                tags: spec.tags,
                total: format!("{total:.2}"),
                order_line_item_ids: line_ids,
                fulfillment_ids: Vec::new(),
            },
        );
        Ok(id)
    }

    fn insert_address(&mut self, fields: SeedAddress) -> u64 {
        let id = self.next_id();
        let address = Address { id, company_id: None, label: "Shipping".into(), status: "active".into(), fields };
        self.addresses.insert(id, address);
        id
    }

    /// Inserts an order's lines; returns their ids and the order total.
    fn insert_lines(&mut self, order_id: u64, lines: &[NewLine], variant_ids: Vec<Option<u64>>) -> (Vec<u64>, f64) {
        let mut ids = Vec::new();
        let mut total = 0.0;
        for (pos, (line, variant_id)) in lines.iter().zip(variant_ids).enumerate() {
            let id = self.next_id();
            let price = line.price.clone().unwrap_or_else(|| "10.0".into());
            total += price.parse::<f64>().unwrap_or(0.0) * line.quantity as f64;
            let item = OrderLineItem {
                id,
                order_id,
                variant_id,
                quantity: line.quantity,
                price,
                discount: None,
                freeform: line.freeform,
                label: line.label.clone(),
                line_type: line.line_type.clone().unwrap_or_else(|| "product".into()),
                position: pos as u32,
                fulfillment_line_item_ids: Vec::new(),
            };
            self.lines.insert(id, item);
            ids.push(id);
        }
        (ids, total)
    }

    /// Replaces an order's lines, as an edit in TradeGecko's order screen does (the new lines get
    /// new ids; the old ones are gone). An order already (partly) fulfilled cannot be edited.
    pub(crate) fn replace_lines(&mut self, order_id: u64, lines: &[NewLine]) -> Result<(), TgError> {
        let variant_ids = lines.iter().map(|l| self.variant_by_line(l)).collect::<Result<Vec<_>, _>>()?;
        let order = self.order_mut(order_id)?;
        if !order.fulfillment_ids.is_empty() {
            return Err(TgError::invalid("order_line_items", "a fulfilled order cannot be edited"));
        }
        for old in std::mem::take(&mut order.order_line_item_ids) {
            self.lines.remove(&old);
        }
        let (ids, total) = self.insert_lines(order_id, lines, variant_ids);
        let order = self.order_mut(order_id)?;
        order.order_line_item_ids = ids;
        order.total = format!("{total:.2}");
        Ok(())
    }

    pub(crate) fn order_mut(&mut self, id: u64) -> Result<&mut Order, TgError> {
        self.orders.get_mut(&id).ok_or_else(|| TgError::not_found("Order", id))
    }

    /// Sets an order's status (and `updated_at`).
    pub(crate) fn set_status(&mut self, id: u64, status: OrderStatus) -> Result<Order, TgError> {
        let order = self.order_mut(id)?;
        order.status = status;
        order.updated_at = Utc::now();
        Ok(order.clone())
    }
}
