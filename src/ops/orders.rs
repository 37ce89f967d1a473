//! Orders: the list, one order, and the merchant's two actions on an unsent order.
//!
//! The rules of those actions are [`cancel_sending`] and [`resend`]: pure functions over the
//! order that change it only through [`Order::transition`] (the domain state machine,
//! invariant 8), so every change lands on the timeline. The ledger applies them by
//! compare-and-set; a refusal leaves the order untouched and becomes a 409.

use chrono::{DateTime, Utc};

use super::tenants::CartOps;
use super::{OpError, Ops, Refusal};
use crate::domain::MerchantId;
use crate::domain::{Order, OrderStatus};
use crate::ledger::{ListCursor, OrderFilter};
use crate::workflows::holds;

/// Orders per page when the caller does not say, and the most one page may hold.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;

/// One page of the order list.
pub struct OrderPage {
    pub orders: Vec<Order>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<ListCursor>,
}

impl Ops {
    /// Orders matching `filter`, oldest first after `cursor`; `limit` is clamped to 1..=500.
    /// Without a merchant in the filter, every known merchant's orders (the file's and the
    /// stored tenants', usable or not) are merged.
    pub async fn list_orders(
        &self,
        filter: &OrderFilter,
        limit: Option<usize>,
        cursor: Option<ListCursor>,
    ) -> Result<OrderPage, OpError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        let known: Vec<MerchantId> =
            self.deps().tenants.now().entries().filter_map(|(id, _)| MerchantId::parse(id).ok()).collect();
        let (orders, next_cursor) = self.deps().ledger.orders.list(&known, filter, limit, cursor).await?;
        Ok(OrderPage { orders, next_cursor })
    }
}

impl CartOps<'_> {
    /// One order of this cart.
    pub async fn order(&self, order_id: u64) -> Result<Order, OpError> {
        let order = self.deps().ledger.orders.get(self.merchant_id(), &self.settings().id, order_id).await?;
        order.ok_or_else(|| OpError::NoOrder { cart: self.settings().id.to_string(), order_id })
    }

    /// "Cancelled Sending To WMS": the order will not be sent (again already cancelled is fine).
    pub async fn cancel_sending(&self, order_id: u64) -> Result<Order, OpError> {
        self.change(order_id, cancel_sending).await
    }

    /// Sends a held, failed or cancelled-sending order again (a new one just gets its send due).
    pub async fn resend(&self, order_id: u64) -> Result<(), OpError> {
        self.change(order_id, resend).await?;
        holds::send_now(self.deps(), vec![(self.settings().id.clone(), order_id)]).await?;
        Ok(())
    }

    /// Applies an order rule to an existing order and stores the result.
    async fn change(
        &self,
        order_id: u64,
        rule: fn(&mut Order, DateTime<Utc>) -> Result<(), Refusal>,
    ) -> Result<Order, OpError> {
        self.order(order_id).await?;
        let now = Utc::now();
        match self
            .deps()
            .ledger
            .orders
            .update(self.merchant_id(), &self.settings().id, order_id, |o| rule(o, now))
            .await?
        {
            Some((order, Ok(()))) => Ok(order),
            Some((_, Err(refusal))) => Err(refusal.into()),
            None => Err(OpError::OrderVanished),
        }
    }
}

/// The cancel-sending rule: not while a send is under way, not once the warehouse has it.
pub fn cancel_sending(o: &mut Order, now: DateTime<Utc>) -> Result<(), Refusal> {
    if o.send_started_at.is_some() {
        return Err(Refusal::SendInProgress);
    }
    if o.status() == OrderStatus::CancelSending {
        return Ok(());
    }
    if o.status() == OrderStatus::Skipped {
        return Err(Refusal::Skipped);
    }
    let from = o.status();
    o.transition(OrderStatus::CancelSending, "cancelled sending by the merchant", now)
        .map_err(|_| Refusal::AlreadySent(from))
}

/// The resend rule: held, failed and cancelled-sending orders become `new`; `new` stays.
pub fn resend(o: &mut Order, now: DateTime<Utc>) -> Result<(), Refusal> {
    match o.status() {
        OrderStatus::OnHold | OrderStatus::Error | OrderStatus::CancelSending => {
            Ok(o.transition(OrderStatus::New, "resend requested", now)?)
        }
        OrderStatus::New => Ok(()),
        // The cart's filters decide: the order goes when it changes in the cart and passes.
        OrderStatus::Skipped => Err(Refusal::Skipped),
        other => Err(Refusal::NothingToResend(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_in(status: OrderStatus) -> Order {
        let mut o = Order::sample(vec![]);
        if status != OrderStatus::New {
            let via = if status.is_unsent() { status } else { OrderStatus::AtWms };
            o.transition(via, "setup", Utc::now()).unwrap();
            if via != status {
                o.transition(status, "setup", Utc::now()).unwrap();
            }
        }
        o
    }

    #[test]
    fn cancel_sending_stops_an_unsent_order_and_refuses_one_the_warehouse_has() {
        let mut o = order_in(OrderStatus::OnHold);
        cancel_sending(&mut o, Utc::now()).unwrap();
        assert_eq!(o.status(), OrderStatus::CancelSending);
        assert_eq!(cancel_sending(&mut o, Utc::now()), Ok(()), "cancelling twice is fine");
        let mut sent = order_in(OrderStatus::AtWms);
        let refused = cancel_sending(&mut sent, Utc::now()).unwrap_err();
        assert_eq!(refused.to_string(), "the order is at_wms and can no longer be kept from the warehouse");
        let mut sending = order_in(OrderStatus::New);
        sending.send_started_at = Some(Utc::now());
        assert_eq!(cancel_sending(&mut sending, Utc::now()), Err(Refusal::SendInProgress));
        assert_eq!(sending.status(), OrderStatus::New);
    }

    #[test]
    fn resend_makes_a_stopped_order_new_and_refuses_a_sent_one() {
        for status in [OrderStatus::OnHold, OrderStatus::Error, OrderStatus::CancelSending] {
            let mut o = order_in(status);
            resend(&mut o, Utc::now()).unwrap();
            assert_eq!(o.status(), OrderStatus::New, "from {status}");
            assert_eq!(o.timeline().last().map(|t| t.reason.as_str()), Some("resend requested"));
        }
        let mut new = order_in(OrderStatus::New);
        assert_eq!(resend(&mut new, Utc::now()), Ok(()));
        assert_eq!(new.timeline().len(), 1, "a new order is left as it is");
        let mut shipped = order_in(OrderStatus::Shipped);
        let refused = resend(&mut shipped, Utc::now()).unwrap_err();
        assert_eq!(refused.to_string(), "the order is shipped: there is nothing to resend");
    }

    #[test]
    fn a_skipped_order_is_neither_resent_nor_cancelled_by_hand() {
        let mut o = order_in(OrderStatus::New);
        o.transition(OrderStatus::Skipped, "tagged \"wholesale\" (tags_none)", Utc::now()).unwrap();
        assert_eq!(resend(&mut o, Utc::now()), Err(Refusal::Skipped));
        assert_eq!(cancel_sending(&mut o, Utc::now()), Err(Refusal::Skipped));
        assert_eq!(o.status(), OrderStatus::Skipped);
    }
}
