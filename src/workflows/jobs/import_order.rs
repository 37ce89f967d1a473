//! `import_order`: bring one cart order into the ledger.
//!
//! Read the order and its product lines from the cart ([`Cart::order`]); apply the cart's
//! filters; then its shipping address and its lines' SKU and UPC ([`Cart::order_details`]),
//! unless the cart's fingerprint says nothing changed since the last import; store it. A new
//! eligible order is sent at once when the merchant's `order_delivery` is `auto` (otherwise
//! the scheduled delivery run picks it up). An order voided in the cart is stopped if not yet
//! sent, or cancelled at the warehouse if it was.
//!
//! [`Cart::order`]: crate::cart::Cart::order
//! [`Cart::order_details`]: crate::cart::Cart::order_details

use crate::domain::{CartOrder, CartOrderState, Destination, NewOrder, Order, OrderLine, OrderStatus};
use crate::jobs::{CancelOrder, ImportOrder, SendOrder};
use crate::settings::{CartSettings, Interval, MerchantSettings, OrderFilters};
use crate::store::{ClaimedJob, OnExisting, When};
use crate::upstream::UpstreamError;
use crate::workers::Outcome;
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
    let known = deps.ledger.orders.get(&p.cart, p.order_id).await.map_err(store_failed)?;
    if order.state == CartOrderState::Voided {
        return voided(deps, &p, known).await;
    }
    match &known {
        Some(k) if !refreshable(k) => return Ok(Outcome::Done),
        None if !eligible(&order, &cart.filters) => return Ok(Outcome::Done),
        _ => {}
    }
    let version = order.version.clone();
    if let Some(k) = &known
        && version.is_some()
        && k.cart_version == version
    {
        // Unchanged since the last import (`order.finalized` right after `order.create`, a poll
        // overlapping a webhook): no address or variant calls, only make sure the send is queued.
        if k.status() == OrderStatus::New {
            queue_send(deps, merchant, cart, k.cart_order_id).await?;
        }
        return Ok(Outcome::Done);
    }
    let (destination, lines) = api.order_details(&order).await.map_err(retry_or_give_up)?;
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

/// A known order is brought up to date from the cart only while it has not gone out.
fn refreshable(o: &Order) -> bool {
    matches!(o.status(), OrderStatus::New | OrderStatus::Error | OrderStatus::OnHold) && o.send_started_at.is_none()
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
    let same_lines = |a: &[OrderLine], b: &[OrderLine]| {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| (x.variant_id, &x.sku, x.quantity) == (y.variant_id, &y.sku, y.quantity))
    };
    let updated = deps
        .ledger
        .orders
        .update(&known.cart, known.cart_order_id, |o| {
            if !refreshable(o) {
                return (o.status(), false);
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
            (o.status(), lines_changed)
        })
        .await
        .map_err(store_failed)?;
    match updated {
        Some((_, (OrderStatus::New, _))) => queue_send(deps, merchant, cart, known.cart_order_id).await?,
        Some((_, (OrderStatus::OnHold, true))) => {
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
        deps.ledger.ship_methods.seen(&cart.id, method, now).await.map_err(store_failed)?;
    }
    if order.status() == OrderStatus::New {
        queue_send(deps, merchant, cart, order.cart_order_id).await?;
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
            .update(&p.cart, p.order_id, |o| {
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

/// The cart's filters: each list, when non-empty, must contain the order's value.
pub fn eligible(order: &CartOrder, filters: &OrderFilters) -> bool {
    let ok = |allowed: &[String], value: Option<&str>| {
        allowed.is_empty() || value.is_some_and(|v| allowed.iter().any(|a| a.eq_ignore_ascii_case(v)))
    };
    let words = &order.words;
    ok(&filters.status, Some(&words.status))
        && ok(&filters.payment_status, words.payment.as_deref())
        && ok(&filters.fulfillment_status, words.fulfillment.as_deref())
}
