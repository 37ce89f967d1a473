//! `import_order`: bring one cart order into the ledger.
//!
//! Read the order and its product lines from the cart ([`Cart::order`]); apply the cart's
//! filters; then its shipping address and its lines' SKU and UPC ([`Cart::order_details`]),
//! unless the cart's fingerprint says nothing changed since the last import; store it.
//!
//! Filters come in two kinds. The ready-filters (`status`, `payment_status`,
//! `fulfillment_status`) leave an order they refuse alone: it is not ready yet. The others
//! ([`filters`]: stock location, tags, creation date, only skipped items) record the order as
//! `skipped` with the reason, once — an import that finds the same reason writes nothing. Every
//! import of an order not yet sent looks again: one that now fails goes to `skipped`, a skipped
//! one that now passes (its tags were edited, say) goes back to `new` and is sent. A new
//! eligible order is sent at once when the merchant's `order_delivery` is `auto` (otherwise
//! the scheduled delivery run picks it up). An order voided in the cart is stopped if not yet
//! sent, or cancelled at the warehouse if it was.
//!
//! [`Cart::order`]: crate::cart::Cart::order
//! [`Cart::order_details`]: crate::cart::Cart::order_details

use chrono::NaiveDate;

use crate::alerts::ErrorCause;
use crate::domain::{CartId, CartOrder, CartOrderState, Destination, NewOrder, Order, OrderLine, OrderStatus};
use crate::jobs::{CancelOrder, ImportOrder, SendOrder};
use crate::settings::{CartSettings, Interval, MerchantSettings};
use crate::store::{ClaimedJob, OnExisting, When};
use crate::upstream::UpstreamError;
use crate::workers::Outcome;
use crate::workflows::counters::ORDERS_SKIPPED;
use crate::workflows::filters::{self, Skip, shippable};
use crate::workflows::{Deps, holds, payload, retry_or_give_up, store_failed};

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    import(deps, job).await.unwrap_or_else(|o| o)
}

async fn import(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: ImportOrder = payload(job)?;
    let (merchant, cart) = &deps.cart(p.cart.as_str()).await?;
    let api = deps.cart_api(cart)?;
    let order = match api.order(p.order_id).await {
        Ok(found) => found,
        Err(UpstreamError::NotFound { .. }) => {
            tracing::info!(cart = %p.cart, order = p.order_id, "order no longer exists in the cart");
            return Ok(Outcome::Done);
        }
        Err(e) => return Ok(retry_or_give_up(e)),
    };
    let known = deps.ledger.orders.get(&merchant.id, &p.cart, p.order_id).await.map_err(store_failed)?;
    if order.state == CartOrderState::Voided {
        return voided(deps, &p, known).await;
    }
    match &known {
        Some(k) if !refreshable(k) => return Ok(Outcome::Done),
        // A skipped order goes out only if it is ready too (not fulfilled by hand meanwhile).
        Some(k) if k.status() == OrderStatus::Skipped && !filters::eligible(&order, &cart.filters, cart.kind) => {
            return Ok(Outcome::Done);
        }
        None if !filters::eligible(&order, &cart.filters, cart.kind) => return Ok(Outcome::Done),
        _ => {}
    }
    let version = order.version.clone();
    if let Some(why) = filters::order_skip(&order, &cart.filters, cart_start(deps, merchant, cart).await?) {
        // Decided on the order alone: no address or variant calls for an order never sent.
        let fresh = Fresh { order: &order, merchant, details: None };
        return skip(deps, cart, known, fresh, why).await;
    }
    if let Some(k) = &known
        && version.is_some()
        && k.cart_version == version
        && k.status() != OrderStatus::Skipped
    {
        // Unchanged since the last import (`order.finalized` right after `order.create`, a poll
        // overlapping a webhook): no address or variant calls, only make sure the send is queued.
        if k.status() == OrderStatus::New {
            queue_send(deps, merchant, cart, k.cart_order_id).await?;
        }
        return Ok(Outcome::Done);
    }
    let (destination, lines) = api.order_details(&order).await.map_err(retry_or_give_up)?;
    if let Some(why) = filters::items_skip(&lines, &cart.filters.skip_skus) {
        let fresh = Fresh { order: &order, merchant, details: Some((destination, lines)) };
        return skip(deps, cart, known, fresh, why).await;
    }
    let Some(known) = known else {
        let new = NewOrder {
            cart: cart.id.clone(),
            cart_order_id: order.id,
            order_number: order.number,
            merchant: merchant.id.clone(),
            destination,
            lines,
            ship_method: order.ship_method,
        };
        return create(deps, merchant, cart, new, version, &p.trigger).await;
    };
    let cart_says = CartSays { destination, lines, ship_method: order.ship_method, version };
    refresh(deps, merchant, cart, known, cart_says).await
}

/// The day the cart's first download started, which stands in for an unset `created_after`.
async fn cart_start(
    deps: &Deps,
    merchant: &MerchantSettings,
    cart: &CartSettings,
) -> Result<Option<NaiveDate>, Outcome> {
    if cart.filters.created_after.is_some() {
        return Ok(None);
    }
    let start = deps.ledger.cursors.cart_start(&merchant.id, &cart.id).await.map_err(store_failed)?;
    Ok(start.map(|t| t.date_naive()))
}

/// A known order is brought up to date from the cart only while it has not gone out.
fn refreshable(o: &Order) -> bool {
    let unsent =
        matches!(o.status(), OrderStatus::New | OrderStatus::Error | OrderStatus::OnHold | OrderStatus::Skipped);
    unsent && o.send_started_at.is_none()
}

/// What an import read of an order it skips: the order, and its address and lines when the
/// item filter needed them.
struct Fresh<'a> {
    order: &'a CartOrder,
    merchant: &'a MerchantSettings,
    details: Option<(Destination, Vec<OrderLine>)>,
}

/// Records the order as `skipped` for `why`: a new record, or a known unsent order moved there.
/// The same reason again writes nothing (an order is recorded as skipped once).
async fn skip(
    deps: &Deps,
    cart: &CartSettings,
    known: Option<Order>,
    fresh: Fresh<'_>,
    why: Skip,
) -> Result<Outcome, Outcome> {
    let now = deps.now();
    let Fresh { order, merchant, details } = fresh;
    let Some(known) = known else {
        let (destination, lines) = details.unwrap_or_default();
        let new = NewOrder {
            cart: cart.id.clone(),
            cart_order_id: order.id,
            order_number: order.number.clone(),
            merchant: merchant.id.clone(),
            destination,
            lines,
            ship_method: order.ship_method.clone(),
        };
        let mut record = Order::new(new, now, "imported from the cart");
        record.cart_version = order.version.clone();
        // `new → skipped` is always allowed.
        record.transition_or_note(OrderStatus::Skipped, &why.reason, now);
        deps.ledger.orders.create(&record).await.map_err(store_failed)?;
        metrics::counter!(ORDERS_SKIPPED, "filter" => why.filter).increment(1);
        return Ok(Outcome::Done);
    };
    let same = |o: &Order| o.status() == OrderStatus::Skipped && o.status_reason.as_deref() == Some(&why.reason);
    if same(&known) {
        return Ok(Outcome::Done);
    }
    let became = deps
        .ledger
        .orders
        .update(&known.merchant, &known.cart, known.cart_order_id, |o| {
            if !refreshable(o) || same(o) {
                return false;
            }
            let was = o.status();
            o.cart_version = order.version.clone();
            if let Some((destination, lines)) = &details {
                o.destination = destination.clone();
                o.lines = lines.clone();
            }
            o.transition_or_note(OrderStatus::Skipped, &why.reason, now) && was != OrderStatus::Skipped
        })
        .await
        .map_err(store_failed)?;
    if matches!(became, Some((_, true))) {
        metrics::counter!(ORDERS_SKIPPED, "filter" => why.filter).increment(1);
    }
    Ok(Outcome::Done)
}

/// What an import read from the cart about a known order.
struct CartSays {
    destination: Destination,
    lines: Vec<OrderLine>,
    ship_method: Option<String>,
    version: Option<String>,
}

/// Applies edits made in the cart to an order not yet sent. When its lines (or its ship
/// method) changed, an order
/// stopped with an error is sent again (the merchant fixed it in the cart), and one on hold for
/// inventory is sent at once rather than at the next daily release (the edit may be what makes
/// it fit the stock; if not, the warehouse refuses it again and it waits as before). A `new`
/// order makes sure its send is queued — the record may come from a run that crashed before
/// queueing it.
async fn refresh(
    deps: &Deps,
    merchant: &MerchantSettings,
    cart: &CartSettings,
    known: Order,
    cart_says: CartSays,
) -> Result<Outcome, Outcome> {
    let CartSays { destination, lines, ship_method, version } = cart_says;
    let now = deps.now();
    // Lines the item filter takes away are never sent (nor kept once sent): not a change.
    let skip = &cart.filters.skip_skus;
    let same_lines = |a: &[OrderLine], b: &[OrderLine]| {
        let (a, b): (Vec<_>, Vec<_>) = (shippable(a, skip).collect(), shippable(b, skip).collect());
        a.len() == b.len()
            && a.iter().zip(&b).all(|(x, y)| (x.variant_id, &x.sku, x.quantity) == (y.variant_id, &y.sku, y.quantity))
    };
    let updated = deps
        .ledger
        .orders
        .update(&known.merchant, &known.cart, known.cart_order_id, |o| {
            if !refreshable(o) {
                return (o.status(), false, false);
            }
            o.cart_version = version.clone();
            let lines_changed = !same_lines(&o.lines, &lines) || o.ship_method != ship_method;
            if lines_changed || o.destination != destination {
                o.lines = lines.clone();
                o.destination = destination.clone();
                o.ship_method = ship_method.clone();
                o.note("updated from the cart", now);
                if lines_changed && o.status() == OrderStatus::Error {
                    // `error → new` is always allowed.
                    o.transition_or_note(OrderStatus::New, "edited in the cart: sending again", now);
                }
            }
            if o.status() == OrderStatus::Skipped {
                // `skipped → new` and `new → error` are always allowed.
                o.transition_or_note(OrderStatus::New, "changed in the cart: passes the cart's filters now", now);
                if let Some(problem) = unshippable(o) {
                    o.transition_or_note(OrderStatus::Error, &problem, now);
                    return (o.status(), lines_changed, true);
                }
            }
            (o.status(), lines_changed, false)
        })
        .await
        .map_err(store_failed)?;
    if let Some((_, (OrderStatus::Error, _, true))) = updated {
        alert_unshippable(deps, merchant, &known.cart, known.cart_order_id).await;
    }
    match updated {
        Some((_, (OrderStatus::New, _, _))) => queue_send(deps, merchant, cart, known.cart_order_id).await?,
        Some((_, (OrderStatus::OnHold, true, _))) => {
            holds::send_now(deps, vec![(known.cart.clone(), known.cart_order_id)]).await.map_err(store_failed)?;
        }
        _ => {}
    }
    Ok(Outcome::Done)
}

async fn create(
    deps: &Deps,
    merchant: &MerchantSettings,
    cart: &CartSettings,
    new: NewOrder,
    version: Option<String>,
    trigger: &str,
) -> Result<Outcome, Outcome> {
    let now = deps.now();
    let mut order = Order::new(new, now, &format!("imported from the cart ({trigger})"));
    order.cart_version = version;
    if let Some(problem) = unshippable(&order) {
        // A new order is `new`, and `new → error` is always allowed.
        order.transition_or_note(OrderStatus::Error, &problem, now);
    }
    // Created or found (a rerun after a crash): either way a `new` order gets its send queued.
    let created = deps.ledger.orders.create(&order).await.map_err(store_failed)?;
    if created && let Some(method) = &order.ship_method {
        // Counted once per order, for `GET /admin/carts/{c}/ship-methods` ("what to map").
        deps.ledger.ship_methods.seen(&merchant.id, &cart.id, method, now).await.map_err(store_failed)?;
    }
    if order.status() == OrderStatus::New {
        queue_send(deps, merchant, cart, order.cart_order_id).await?;
    }
    if created && order.status() == OrderStatus::Error {
        alert_unshippable(deps, merchant, &order.cart, order.cart_order_id).await;
    }
    Ok(Outcome::Done)
}

/// Queues the send now when the merchant's delivery is `auto`; otherwise the scheduled
/// delivery run picks the order up.
async fn queue_send(
    deps: &Deps,
    merchant: &MerchantSettings,
    cart: &CartSettings,
    order_id: u64,
) -> Result<(), Outcome> {
    if merchant.schedule.order_delivery != Interval::Auto {
        return Ok(());
    }
    let job = SendOrder { cart: cart.id.clone(), order_id }.job();
    deps.jobs.enqueue(&job, When::Now, OnExisting::Keep).await.map_err(store_failed)?;
    Ok(())
}

/// Why the warehouse could not take this order, if it obviously could not.
async fn alert_unshippable(deps: &Deps, merchant: &MerchantSettings, cart: &CartId, id: u64) {
    let cause = [ErrorCause::Unshippable];
    deps.alerts.order_in_error(&deps.ledger.orders, &merchant.id, cart, id, &cause).await;
}

fn unshippable(order: &Order) -> Option<String> {
    if order.lines.is_empty() {
        return Some("the order has no product lines to ship".into());
    }
    let d = &order.destination;
    if d.street1.is_empty() || d.city.is_empty() || d.country.is_empty() {
        return Some("the order has no complete shipping address".into());
    }
    None
}

async fn voided(deps: &Deps, p: &ImportOrder, known: Option<Order>) -> Result<Outcome, Outcome> {
    let Some(order) = known else { return Ok(Outcome::Done) };
    let now = deps.now();
    if order.status().is_unsent() && order.status() != OrderStatus::CancelSending && order.send_started_at.is_none() {
        deps.ledger
            .orders
            .update(&order.merchant, &p.cart, p.order_id, |o| {
                // Already `cancel_sending` (a second look at the void): nothing to record. From
                // the other unsent statuses the move is always allowed.
                let stoppable = o.status().is_unsent() && o.status() != OrderStatus::CancelSending;
                if stoppable && o.send_started_at.is_none() {
                    o.transition_or_note(OrderStatus::CancelSending, "voided in cart", now);
                }
            })
            .await
            .map_err(store_failed)?;
    } else if order.status() == OrderStatus::AtWms || order.send_started_at.is_some() {
        let job = CancelOrder { cart: p.cart.clone(), order_id: p.order_id }.job();
        deps.jobs.enqueue(&job, When::Now, OnExisting::Keep).await.map_err(store_failed)?;
    }
    Ok(Outcome::Done)
}
