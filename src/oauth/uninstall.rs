//! `app/uninstalled`: the shop removed cartgate's app, so the cart's grant is gone.
//!
//! An `oauth` cart's connection is stored as disconnected with a reason (compare-and-set over
//! what is stored, or a new document when the cart was never connected), as a refused refresh
//! does; its jobs then park until the merchant connects again. A token cart (a custom app) has
//! no stored connection: it only gets the alert. Either way the merchant's `cart_disconnected`
//! alert is raised for the cart; a repeated delivery changes nothing more.

use super::endpoint::now_ms;
use super::{Connections, record_status};
use crate::alerts::AlertKind;
use crate::domain::MerchantId;
use crate::ledger::{ConnectionStatus, StoredConnection};
use crate::settings::{CartAuth, CartSettings};
use crate::store::StoreError;

/// The reason stored and shown.
pub const UNINSTALLED: &str = "the app was uninstalled from the shop";

impl Connections {
    /// Marks `cart` (of `merchant`) disconnected because its app was uninstalled.
    pub async fn uninstalled(&self, merchant: &MerchantId, cart: &CartSettings) -> Result<(), StoreError> {
        let id = cart.id.as_str();
        if cart.auth == CartAuth::Oauth {
            for _ in 0..5 {
                let stored = self.store.load(id).await?;
                if stored.as_ref().is_some_and(|(_, c)| c.status == ConnectionStatus::Disconnected) {
                    break;
                }
                let (expected, base) = match stored {
                    Some((v, c)) => (Some(v), c),
                    None => (None, never_connected(merchant)),
                };
                let gone = StoredConnection {
                    status: ConnectionStatus::Disconnected,
                    access_token: None,
                    refresh_token: None,
                    reason: Some(UNINSTALLED.to_owned()),
                    since_ms: Some(now_ms()),
                    ..base
                };
                if self.store.save(id, expected, &gone).await?.is_ok() {
                    record_status(id, ConnectionStatus::Disconnected);
                    break;
                }
            }
        }
        tracing::warn!(cart = id, "the shop uninstalled the app: the cart is disconnected");
        let summary = format!("Cart {id}: {UNINSTALLED} ({}); install and connect it again", cart.kind.label());
        self.alerts.raise(merchant, AlertKind::CartDisconnected, id, &summary, None).await
    }
}

fn never_connected(merchant: &MerchantId) -> StoredConnection {
    StoredConnection {
        status: ConnectionStatus::Disconnected,
        merchant: merchant.to_string(),
        access_token: None,
        refresh_token: None,
        obtained_at_ms: 0,
        expires_at_ms: 0,
        reason: None,
        since_ms: None,
    }
}
