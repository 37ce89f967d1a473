//! Shopify as a [`Cart`], over the GraphQL Admin API: the calls ([`client`]), the operations
//! and their costs ([`queries`]), the wire shapes ([`wire`]), the conversions ([`convert`])
//! and the mapping of a parcel onto fulfillment orders ([`fulfill`]).
//!
//! Two Shopify rules shape the writes:
//! * `fulfillmentCreate` takes no idempotency key. Exactly one fulfillment per parcel comes
//!   from `push_tracking` adopting a fulfillment that already carries the tracking number, and
//!   from this adapter fulfilling only what the fulfillment orders still have remaining; a
//!   lost answer stays [`UpstreamError::Ambiguous`] (retryable), so the retry goes through both
//!   checks before anything is created again.
//! * `inventorySetQuantities` writes absolute `available` levels with `changeFromQuantity` (the
//!   level read just before) under `@idempotent(key:)`: a concurrent change in Shopify is
//!   answered [`STALE_LEVEL`](crate::cart::STALE_LEVEL) instead of being overwritten.

mod client;
mod convert;
mod fulfill;
mod queries;
mod wire;

use chrono::{DateTime, SecondsFormat, Utc};

pub use client::Shopify;

use super::{Cart, Page};
use crate::domain::{
    CartFulfillment, CartItem, CartOrder, Destination, NewFulfillment, OrderLine, StockAdjustment, UpdatedOrder,
};
use crate::upstream::{Upstream, UpstreamError};
use convert::{gid, id_of};

/// The topics cartgate subscribes every shop to (§2).
pub const TOPICS: [&str; 4] = ["ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "APP_UNINSTALLED"];

#[async_trait::async_trait]
impl Cart for Shopify {
    async fn order(&self, id: u64) -> Result<CartOrder, UpstreamError> {
        let order = Shopify::order(self, id).await?;
        let converted = convert::cart_order(&order)?;
        self.remember(&order);
        Ok(converted)
    }

    async fn order_details(&self, order: &CartOrder) -> Result<(Destination, Vec<OrderLine>), UpstreamError> {
        let same = |o: &wire::Order| {
            id_of(&o.id, "Order").is_ok_and(|id| id == order.id)
                && order.version.is_some()
                && convert::cart_order(o).is_ok_and(|c| c.version == order.version)
        };
        let wire_order = match self.recall(same) {
            Some(o) => o,
            None => Shopify::order(self, order.id).await?,
        };
        Ok((convert::destination(&wire_order), convert::order_lines(&wire_order)?))
    }

    /// The token is Shopify's `endCursor` while `hasNextPage`.
    async fn orders_updated_since(
        &self,
        since: DateTime<Utc>,
        after: Option<&str>,
    ) -> Result<Page<UpdatedOrder>, UpstreamError> {
        let since = since.to_rfc3339_opts(SecondsFormat::Secs, true);
        let page = self.orders_page(&since, after).await?;
        let orders = page.nodes.iter().map(convert::updated_order).collect::<Result<Vec<_>, _>>()?;
        Ok((orders, page.next()))
    }

    async fn items(&self, variant_ids: &[u64]) -> Result<Vec<CartItem>, UpstreamError> {
        let location = self.location();
        self.variants(variant_ids).await?.iter().map(|v| convert::cart_item(v, location)).collect()
    }

    async fn all_items(&self) -> Result<Vec<CartItem>, UpstreamError> {
        let location = self.location();
        self.all_variants().await?.iter().map(|v| convert::cart_item(v, location)).collect()
    }

    async fn fulfillments(&self, order_id: u64) -> Result<Vec<CartFulfillment>, UpstreamError> {
        let mut out = Vec::new();
        for f in Shopify::fulfillments(self, order_id).await? {
            out.extend(convert::cart_fulfillments(&f)?);
        }
        Ok(out)
    }

    /// Shopify has no idempotency key for this (see the module docs); `_idempotency_key` is
    /// unused.
    async fn create_fulfillment(&self, f: &NewFulfillment, _idempotency_key: &str) -> Result<u64, UpstreamError> {
        self.location_gid()?;
        let location = self.location().unwrap_or_default();
        let fos = self.fulfillment_orders(f.order_id).await?;
        let groups = fulfill::plan(&fos, location, &f.lines);
        if groups.is_empty() {
            return Err(UpstreamError::Rejected {
                upstream: Upstream::Shopify,
                status: 409,
                code: Some("NOTHING_REMAINS".into()),
                message: format!(
                    "nothing of parcel {} remains to be fulfilled at the cart's location",
                    f.tracking_number
                ),
                raw_body: String::new(),
            });
        }
        let input = wire::FulfillmentInput {
            line_items_by_fulfillment_order: groups,
            tracking_info: wire::TrackingInput {
                company: f.carrier.clone(),
                number: f.tracking_number.clone(),
                url: f.tracking_url.clone(),
            },
            notify_customer: true,
        };
        id_of(&Shopify::create_fulfillment(self, &input).await?, "Fulfillment")
    }

    async fn adjust_stock(&self, a: &StockAdjustment, idempotency_key: &str) -> Result<(), UpstreamError> {
        let ids: Vec<u64> = a.lines.iter().map(|l| l.variant_id).collect();
        let variants = self.variants(&ids).await?;
        let location = gid("Location", a.location);
        let mut quantities = Vec::new();
        for line in &a.lines {
            let item = variants
                .iter()
                .find(|v| id_of(&v.id, "ProductVariant").is_ok_and(|id| id == line.variant_id))
                .and_then(|v| v.inventory_item.as_ref());
            match item {
                Some(item) => quantities.push(wire::QuantityInput {
                    inventory_item_id: item.id.clone(),
                    location_id: location.clone(),
                    quantity: line.target,
                    change_from_quantity: line.seen,
                }),
                None => tracing::warn!(
                    variant = line.variant_id,
                    "Shopify variant without an inventory item: stock not set"
                ),
            }
        }
        if quantities.is_empty() {
            return Ok(());
        }
        let input = wire::InventorySetQuantitiesInput {
            name: "available",
            reason: "correction",
            reference_document_uri: format!("gid://cartgate/StockSync/{idempotency_key}"),
            quantities,
        };
        self.set_quantities(&input, idempotency_key).await
    }

    async fn ensure_webhooks(&self, address: &str) -> Result<Vec<&'static str>, UpstreamError> {
        let existing = self.webhooks().await?;
        let mut created = Vec::new();
        for topic in TOPICS {
            let present = existing.iter().any(|w| w.topic == topic && w.uri.as_deref() == Some(address));
            if !present {
                self.create_webhook(topic, address).await?;
                created.push(topic);
            }
        }
        Ok(created)
    }

    async fn check(&self) -> Result<(), UpstreamError> {
        self.shop().await
    }
}
