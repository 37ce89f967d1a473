//! `order_error` and `held_orders` alerts. `order_error`: one per reason class and subject — every order missing the same SKU
//! is one alert listing them — resolved when the last of its orders left `error`.
//!
//! Raised where the reason is known in types (`send_order`, `import_order`); cleared by the
//! order ledger, which tells [`ErrorExits`] about every order leaving `error` whatever the path
//! (alias added, method mapped, resend, cancel, edit, skip). An order can leave `error` between
//! its transition and the raise (an alias saved at that moment); so after raising, the order
//! is read again, and if it has left already, it is cleared at once.
//!
//! `held_orders`: an order whose send after a hold release is refused for inventory again
//! stays on hold; the merchant's one alert lists them (count, barcodes of the latest) and
//! resolves when the last has left `on_hold` (sent, cancelled…), through the same ledger hook.

use super::lifecycle::Alerts;
use super::model::AlertKind;
use crate::domain::{CartId, MerchantId, Order, OrderStatus, Sku};
use crate::ledger::orders::member;
use crate::ledger::{ErrorExits, OrderLedger};

/// Why an order is in `error`, as an alert groups it.
#[derive(Debug, Clone, Copy)]
pub enum ErrorCause<'a> {
    /// No warehouse barcode for this SKU (subject `unknown_sku:<sku>`).
    UnknownSku(&'a Sku),
    /// The cart's ship method has no mapping (subject `ship_method:<label>`).
    UnmappedShipMethod(&'a str),
    /// The warehouse refused the key (subject `wms_credentials`).
    WmsCredentials,
    /// The warehouse refused the order itself, e.g. its address (subject `warehouse_refused`).
    WarehouseRefused,
    /// The order cannot be shipped as it is: no lines, no complete address (subject `unshippable`).
    Unshippable,
}

impl ErrorCause<'_> {
    pub fn subject(&self) -> String {
        match self {
            Self::UnknownSku(sku) => format!("unknown_sku:{sku}"),
            Self::UnmappedShipMethod(label) => format!("ship_method:{label}"),
            Self::WmsCredentials => "wms_credentials".into(),
            Self::WarehouseRefused => "warehouse_refused".into(),
            Self::Unshippable => "unshippable".into(),
        }
    }

    fn summary(&self) -> String {
        match self {
            Self::UnknownSku(sku) => format!("Orders wait for a warehouse barcode for SKU {sku}: add an alias"),
            Self::UnmappedShipMethod(label) => format!("Orders wait for a mapping of the ship method \"{label}\""),
            Self::WmsCredentials => "The warehouse rejected the API key: orders wait until it is fixed".into(),
            Self::WarehouseRefused => "The warehouse refused orders (address or contents): fix and resend them".into(),
            Self::Unshippable => {
                "Orders without lines or a complete address cannot be sent: fix them in the cart".into()
            }
        }
    }
}

impl Alerts {
    /// The order just went to `error` for `causes`: raises one alert per cause. Failures are
    /// logged, not returned: the order's own state is already recorded and shown.
    pub async fn order_in_error(
        &self,
        orders: &OrderLedger,
        merchant: &MerchantId,
        cart: &CartId,
        id: u64,
        causes: &[ErrorCause<'_>],
    ) {
        let m = member(cart, id);
        for cause in causes {
            if let Err(e) =
                self.raise(merchant, AlertKind::OrderError, &cause.subject(), &cause.summary(), Some(&m)).await
            {
                tracing::warn!(error = %e, order = %m, "cannot raise the order's alert");
            }
        }
        match orders.get(merchant, cart, id).await {
            Ok(Some(o)) if o.status() == OrderStatus::Error => {}
            Ok(_) => self.left_error_logged(merchant, &m).await,
            Err(e) => tracing::warn!(error = %e, order = %m, "cannot re-read the order after raising its alert"),
        }
    }

    async fn left_error_logged(&self, merchant: &MerchantId, order: &str) {
        if let Err(e) = self.order_left_error(merchant, order).await {
            tracing::warn!(error = %e, order, "cannot clear the order from its alerts");
        }
    }
}

/// The subject of the merchant's one `held_orders` alert.
pub const HELD: &str = "on_hold";

impl Alerts {
    /// A send after a hold release was refused for inventory again: the order stays on hold.
    /// One `held_orders` alert lists every such order, resolved when none is held any more.
    pub async fn stays_on_hold(
        &self,
        orders: &OrderLedger,
        merchant: &MerchantId,
        cart: &CartId,
        id: u64,
        barcodes: &[String],
    ) {
        let m = member(cart, id);
        let summary = format!(
            "Orders stay on hold after the hold release: the warehouse lacks stock (latest {m}: barcodes {})",
            barcodes.join(", ")
        );
        if let Err(e) = self.raise(merchant, AlertKind::HeldOrders, HELD, &summary, Some(&m)).await {
            tracing::warn!(error = %e, order = %m, "cannot raise the held orders alert");
        }
        // Released and sent meanwhile (as for `order_error`): it no longer waits.
        if let Ok(Some(o)) = orders.get(merchant, cart, id).await
            && o.status() != OrderStatus::OnHold
            && let Err(e) = self.clear(merchant, AlertKind::HeldOrders, HELD, Some(&m)).await
        {
            tracing::warn!(error = %e, order = %m, "cannot clear the order from the held orders alert");
        }
    }
}

#[async_trait::async_trait]
impl ErrorExits for Alerts {
    async fn left(&self, order: &Order, from: OrderStatus) {
        let m = member(&order.cart, order.cart_order_id);
        match from {
            OrderStatus::Error => self.left_error_logged(&order.merchant, &m).await,
            OrderStatus::OnHold => {
                if let Err(e) = self.clear(&order.merchant, AlertKind::HeldOrders, HELD, Some(&m)).await {
                    tracing::warn!(error = %e, order = %m, "cannot clear the order from the held orders alert");
                }
            }
            _ => {}
        }
    }
}
