//! TradeGecko as a [`Cart`]: the API calls ([`client`]), their wire shapes ([`wire`], private
//! to this folder) and the conversions into domain types ([`convert`]).
//!
//! TradeGecko sends order webhooks only for creation and finalisation (edits and voids are
//! found by polling), and deletes a webhook after 3 days of failed deliveries, so
//! [`Cart::ensure_webhooks`] is run daily.

mod client;
mod convert;
mod wire;

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};

pub use client::TradeGecko;

use super::{Cart, Page};
use crate::domain::{
    Barcode, CartFulfillment, CartItem, CartOrder, Destination, NewFulfillment, OrderLine, Sku, StockAdjustment,
    UpdatedOrder,
};
use crate::intake::tradegecko::Event;
use crate::upstream::UpstreamError;

/// The order events cartgate needs from every cart.
pub const EVENTS: [&str; 2] = ["order.create", "order.finalized"];

#[async_trait::async_trait]
impl Cart for TradeGecko {
    async fn order(&self, id: u64) -> Result<CartOrder, UpstreamError> {
        let (order, lines) = self.order_with_lines(id).await?;
        Ok(convert::cart_order(order, &lines))
    }

    async fn order_details(&self, order: &CartOrder) -> Result<(Destination, Vec<OrderLine>), UpstreamError> {
        let address = match order.shipping_address_id {
            Some(id) => self.address(id).await?,
            None => wire::Address::default(),
        };
        let ids: Vec<u64> = order.lines.iter().map(|l| l.variant_id).collect();
        let variants: HashMap<u64, CartItem> =
            self.variants(&ids).await?.into_iter().map(|v| (v.id, CartItem::from(v))).collect();
        let lines = order
            .lines
            .iter()
            .filter(|l| l.quantity >= 1)
            .map(|l| {
                let v = variants.get(&l.variant_id);
                OrderLine {
                    line_item_id: l.line_item_id,
                    variant_id: l.variant_id,
                    sku: v.and_then(|v| v.sku.clone()).unwrap_or_else(|| Sku::of_unnamed_variant(l.variant_id)),
                    upc: v.and_then(|v| v.upc.clone()),
                    barcode: None::<Barcode>,
                    quantity: l.quantity,
                }
            })
            .collect();
        Ok((convert::destination(&address, order), lines))
    }

    /// Pages are numbered from 1; the token is the next page's number.
    async fn orders_updated_since(
        &self,
        since: DateTime<Utc>,
        after: Option<&str>,
    ) -> Result<Page<UpdatedOrder>, UpstreamError> {
        let since = since.to_rfc3339_opts(SecondsFormat::Millis, true);
        let page = after.and_then(|p| p.parse::<u32>().ok()).unwrap_or(1);
        let (orders, more) = self.orders_page(&since, page).await?;
        let next = more.then(|| (page + 1).to_string());
        Ok((orders.iter().map(UpdatedOrder::from).collect(), next))
    }

    async fn items(&self, variant_ids: &[u64]) -> Result<Vec<CartItem>, UpstreamError> {
        Ok(self.variants(variant_ids).await?.into_iter().map(CartItem::from).collect())
    }

    async fn all_items(&self) -> Result<Vec<CartItem>, UpstreamError> {
        Ok(self.all_variants().await?.into_iter().map(CartItem::from).collect())
    }

    async fn fulfillments(&self, order_id: u64) -> Result<Vec<CartFulfillment>, UpstreamError> {
        Ok(self.order_fulfillments(order_id).await?.into_iter().map(CartFulfillment::from).collect())
    }

    async fn create_fulfillment(&self, f: &NewFulfillment, idempotency_key: &str) -> Result<u64, UpstreamError> {
        Ok(self.post_fulfillment(&f.into(), idempotency_key).await?.id)
    }

    async fn adjust_stock(&self, a: &StockAdjustment, idempotency_key: &str) -> Result<(), UpstreamError> {
        self.create_stock_adjustment(&a.into(), idempotency_key).await
    }

    async fn ensure_webhooks(&self, address: &str) -> Result<Vec<&'static str>, UpstreamError> {
        let existing = self.webhooks().await?;
        let mut created = Vec::new();
        for event in EVENTS {
            let present =
                existing.iter().any(|w| w.address == address && Event::parse(&w.event) == Event::parse(event));
            if !present {
                self.create_webhook(address, event).await?;
                created.push(event);
            }
        }
        Ok(created)
    }

    async fn check(&self) -> Result<(), UpstreamError> {
        self.check_token().await
    }
}
