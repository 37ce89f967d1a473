//! Where each cart's order poll has read up to, and where its first download started.
//!
//! One field per cart in its merchant's `cursors` hash, holding an RFC 3339 time in UTC with milliseconds.
//! A cursor that does not parse reads as absent: the poll then starts over from its first-run
//! look-back, which re-imports (idempotently) rather than skips.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};

use super::keys;
use super::kv::Kv;
use crate::domain::{CartId, MerchantId};
use crate::store::StoreError;

/// The order-poll cursors.
#[derive(Clone)]
pub struct Cursors {
    kv: Arc<dyn Kv>,
}

impl Cursors {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self { kv }
    }

    /// The newest `updated_at` the cart's order poll has seen (none before its first run).
    pub async fn order_poll(&self, merchant: &MerchantId, cart: &CartId) -> Result<Option<DateTime<Utc>>, StoreError> {
        let text = self.kv.hget(&keys::cursors(merchant.as_str()), &keys::order_poll_cursor(cart)).await?;
        Ok(text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc)))
    }

    /// Where the cart's first order download started (none before its first poll).
    pub async fn cart_start(&self, merchant: &MerchantId, cart: &CartId) -> Result<Option<DateTime<Utc>>, StoreError> {
        let text = self.kv.hget(&keys::cursors(merchant.as_str()), &keys::cart_start(cart)).await?;
        Ok(text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc)))
    }

    /// Records where the cart's first download started, unless recorded already.
    pub async fn set_cart_start_once(
        &self,
        merchant: &MerchantId,
        cart: &CartId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if self.cart_start(merchant, cart).await?.is_some() {
            return Ok(());
        }
        let text = at.to_rfc3339_opts(SecondsFormat::Millis, true);
        self.kv.hset(&keys::cursors(merchant.as_str()), &[(keys::cart_start(cart), text)]).await
    }

    /// When the cart's webhooks were first registered (none before): a webhook missing after
    /// that was deleted, and re-creating it is a repair (`webhooks_repaired`).
    pub async fn webhooks_registered(
        &self,
        merchant: &MerchantId,
        cart: &CartId,
    ) -> Result<Option<String>, StoreError> {
        self.kv.hget(&keys::cursors(merchant.as_str()), &keys::webhooks_registered(cart)).await
    }

    /// Records that the cart's webhooks are registered, unless recorded already.
    pub async fn set_webhooks_registered_once(
        &self,
        merchant: &MerchantId,
        cart: &CartId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if self.webhooks_registered(merchant, cart).await?.is_some() {
            return Ok(());
        }
        let text = at.to_rfc3339_opts(SecondsFormat::Millis, true);
        self.kv.hset(&keys::cursors(merchant.as_str()), &[(keys::webhooks_registered(cart), text)]).await
    }

    /// Moves the cart's order-poll cursor to `at`.
    pub async fn set_order_poll(
        &self,
        merchant: &MerchantId,
        cart: &CartId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let text = at.to_rfc3339_opts(SecondsFormat::Millis, true);
        self.kv.hset(&keys::cursors(merchant.as_str()), &[(keys::order_poll_cursor(cart), text)]).await
    }
}
