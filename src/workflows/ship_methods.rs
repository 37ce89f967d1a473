//! Ship method mapping maintenance: sending the orders that stopped for want of a mapping once
//! one is saved (as adding an alias sends the orders that waited for it, `workflows::aliases`).

use super::Deps;
use crate::domain::{CartId, MerchantId, OrderStatus};
use crate::jobs::SendOrder;
use crate::ledger::LedgerError;
use crate::ledger::orders::parse_member;
use crate::settings::ShipMethods;
use crate::store::{OnExisting, When};

/// Sends every `error` order of `cart` waiting on a method `methods` now maps (or no longer
/// rejects), once: its waiting entry is dropped as it is queued. Returns how many were queued.
pub async fn send_waiting(
    deps: &Deps,
    merchant: &MerchantId,
    cart: &CartId,
    methods: &ShipMethods,
) -> Result<usize, LedgerError> {
    let mut requeued = 0;
    for (member, label) in deps.ledger.ship_methods.awaiting(merchant, cart).await? {
        if methods.resolve(Some(&label)).is_err() {
            continue;
        }
        let Some((order_cart, order_id)) = parse_member(&member).filter(|(c, _)| c == cart) else {
            deps.ledger.ship_methods.done_waiting(merchant, cart, &member).await?;
            continue;
        };
        let now = deps.now();
        let reason = format!("ship method \"{label}\" mapped: sending again");
        let moved = deps
            .ledger
            .orders
            .update(merchant, &order_cart, order_id, |o| {
                // `error → new` is always allowed.
                o.status() == OrderStatus::Error && o.transition(OrderStatus::New, &reason, now).is_ok()
            })
            .await?;
        if matches!(moved, Some((_, true))) {
            let job = SendOrder { cart: order_cart, order_id }.job();
            deps.jobs.enqueue(&job, When::Now, OnExisting::MoveEarlier).await?;
            requeued += 1;
        }
        deps.ledger.ship_methods.done_waiting(merchant, cart, &member).await?;
    }
    Ok(requeued)
}
