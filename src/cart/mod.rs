//! The cart side: what cartgate asks of a shopping cart, in domain terms ([`Cart`]), and one
//! adapter per cart kind that speaks its API (`tradegecko/`, `shopify/`).
//!
//! An adapter's wire shapes stay inside its folder: workflows get [`CartOrder`]s, order lines
//! with [`Sku`]s and [`Barcode`]s, [`CartItem`]s with their stock, and hand back fulfillments
//! and stock adjustments. Errors are the shared [`UpstreamError`], which the workflows already
//! classify into retry, wait or give up.
//!
//! [`Sku`]: crate::domain::Sku
//! [`Barcode`]: crate::domain::Barcode

pub mod shopify;
pub mod tradegecko;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use shopify::Shopify;
pub use tradegecko::TradeGecko;

use crate::domain::{
    CartFulfillment, CartItem, CartOrder, Destination, NewFulfillment, OrderLine, StockAdjustment, UpdatedOrder,
};
use crate::settings::{CartKind, CartSettings};
use crate::upstream::{UpstreamClient, UpstreamError};

/// One page of a listing, and where the next one starts (`None`: this was the last).
pub type Page<T> = (Vec<T>, Option<PageToken>);

/// Where a listing goes on, as the adapter wrote it (a page number, a cursor): opaque to the
/// workflows, which only hand it back.
pub type PageToken = String;

/// A connected cart account.
#[async_trait::async_trait]
pub trait Cart: Send + Sync {
    /// The order and its product lines (`NotFound` once it is gone from the cart).
    async fn order(&self, id: u64) -> Result<CartOrder, UpstreamError>;

    /// Where the order ships, and its product lines with their variants' SKU and UPC (lines
    /// with no units left out).
    async fn order_details(&self, order: &CartOrder) -> Result<(Destination, Vec<OrderLine>), UpstreamError>;

    /// One page of the orders updated since `since`: the first when `after` is `None`, else the
    /// one the previous page's token names.
    async fn orders_updated_since(
        &self,
        since: DateTime<Utc>,
        after: Option<&str>,
    ) -> Result<Page<UpdatedOrder>, UpstreamError>;

    /// These items (variants), with their stock.
    async fn items(&self, variant_ids: &[u64]) -> Result<Vec<CartItem>, UpstreamError>;

    /// Every item of the account (bounded by the adapter), with their stock.
    async fn all_items(&self) -> Result<Vec<CartItem>, UpstreamError>;

    /// The fulfillments already recorded on an order.
    async fn fulfillments(&self, order_id: u64) -> Result<Vec<CartFulfillment>, UpstreamError>;

    /// Records a parcel on its order at most once per `idempotency_key`; the fulfillment's id.
    async fn create_fulfillment(&self, f: &NewFulfillment, idempotency_key: &str) -> Result<u64, UpstreamError>;

    /// Applies a stock adjustment at most once per `idempotency_key`.
    async fn adjust_stock(&self, a: &StockAdjustment, idempotency_key: &str) -> Result<(), UpstreamError>;

    /// Makes sure the order webhooks cartgate needs point at `address`; the events registered
    /// now (those already there are left alone).
    async fn ensure_webhooks(&self, address: &str) -> Result<Vec<&'static str>, UpstreamError>;

    /// A cheap authenticated call, for "Test Cart Connection".
    async fn check(&self) -> Result<(), UpstreamError>;
}

/// The adapter for a configured cart, on its account (token, rate limit, timeout).
pub fn connect(upstream: &UpstreamClient, cart: &CartSettings) -> Result<Arc<dyn Cart>, UpstreamError> {
    match cart.kind {
        CartKind::Tradegecko => Ok(Arc::new(TradeGecko::new(upstream.tradegecko(cart)?))),
        CartKind::Shopify => {
            let api = upstream.shopify(cart, upstream.shopify_api_version())?;
            Ok(Arc::new(Shopify::new(api, cart.stock_location())))
        }
    }
}

/// The code of a stock write refused because the level changed since it was read (Shopify's
/// `CHANGE_FROM_QUANTITY_STALE`): nothing was written; read the levels again.
pub const STALE_LEVEL: &str = "CHANGE_FROM_QUANTITY_STALE";

/// Whether `e` says a stock level changed since it was read ([`STALE_LEVEL`]).
pub fn is_stale_level(e: &UpstreamError) -> bool {
    matches!(e, UpstreamError::Rejected { code: Some(code), .. } if code == STALE_LEVEL)
}
