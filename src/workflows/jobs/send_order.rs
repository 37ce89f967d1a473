//! `send_order`: deliver one order to the warehouse, exactly once.
//!
//! The warehouse has no idempotency key, so duplicates are prevented by a marker in the
//! ledger: `send_started_at` is written (compare-and-set) just before the POST and cleared
//! only when the outcome is known. A send that finds the marker set — after a timeout, a 5xx
//! that may have been processed, or a crash between the warehouse accepting and the ledger
//! recording — first looks for an existing warehouse order with this order number
//! (`description`) and adopts it. A definitive refusal (4xx) clears the marker.
//!
//! Not finding it is not enough to send again at once: a request cut off by a crash, a drain
//! or a timeout may still be on its way through the warehouse's load balancers. So a missing
//! order counts as missing only after a settle window (twice the WMS request timeout, on the
//! store's clock) from the interrupted attempt; until then the job waits and looks again.
//!
//! The order goes out with the service its ship method maps to (`[merchants.carts.ship_methods]`,
//! read at send time, so a mapping saved later applies). A method the cart rejects unmapped
//! stops the order in `error` and records it as waiting; saving a mapping for it sends it
//! (`workflows::ship_methods`).

use chrono::{DateTime, Utc};

use crate::alerts::ErrorCause;
use crate::domain::hold::next_release;
use crate::domain::{MerchantId, Order, OrderStatus, Sku, WarehouseService};
use crate::jobs::SendOrder;
use crate::ledger::orders::member;
use crate::settings::{CartSettings, Unmapped};
use crate::store::ClaimedJob;
use crate::upstream::UpstreamError;
use crate::workers::Outcome;
use crate::workflows::counters::ORDERS_SKIPPED;
use crate::workflows::translate::{TranslateError, Translation, translate};
use crate::workflows::{Deps, Faults, counters, holds, payload, retry_or_give_up, store_failed};

/// What a merchant reads when EasyPost refuses the key.
pub const KEY_REJECTED: &str =
    "EasyPost rejected the API key — check it, or ask EasyPost to classify the account as a vendor account";

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    send(deps, job).await.unwrap_or_else(|o| o)
}

fn sendable(o: &Order) -> bool {
    matches!(o.status(), OrderStatus::New | OrderStatus::OnHold)
}

async fn send(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: SendOrder = payload(job)?;
    let (merchant, cart) = &deps.cart(p.cart.as_str()).await?;
    let ledger = &deps.ledger.orders;
    let Some(order) = ledger.get(&merchant.id, &p.cart, p.order_id).await.map_err(store_failed)? else {
        return Ok(Outcome::Done);
    };
    if !sendable(&order) {
        return Ok(Outcome::Done);
    }
    let ep = deps.easypost(merchant)?;
    let now = store_now(job);
    if let Some(started) = order.send_started_at {
        match ep.find_order(&order.order_number).await {
            Ok(Some(found)) => {
                return record_accepted(
                    deps,
                    &merchant.id,
                    &p,
                    &found,
                    "found at the warehouse after an interrupted send",
                )
                .await;
            }
            Ok(None) => {
                let settled = started + settle_window(merchant.wms.timeout_secs);
                if now < settled {
                    return Ok(Outcome::RetryAt(settled.timestamp_millis()));
                }
            }
            Err(e) => return Ok(retry_or_give_up(e)),
        }
    }
    let lines = match translate(deps, merchant, cart.item_field, &cart.filters.skip_skus, &order.lines).await {
        Ok(Translation::Complete(lines)) => lines,
        Ok(Translation::Missing(skus)) => return stop_for_aliases(deps, &p, &merchant.id, skus).await,
        Ok(Translation::Skipped(why)) => {
            // The item filter changed since the import: nothing of this order goes out.
            set_outcome(deps, &merchant.id, &p, Some((OrderStatus::Skipped, &why.reason)), |_| {}).await?;
            metrics::counter!(ORDERS_SKIPPED, "filter" => why.filter).increment(1);
            return Ok(Outcome::Done);
        }
        Err(TranslateError::Upstream(e)) => return Ok(retry_or_give_up(e)),
        Err(TranslateError::Ledger(e)) => return Err(store_failed(e)),
    };
    let service = match service_for(deps, cart, &order).await? {
        Ok(service) => service,
        Err(unmapped) => return stop_for_ship_method(deps, job, &merchant.id, &p, unmapped).await,
    };
    let marked = ledger
        .update(&merchant.id, &p.cart, p.order_id, |o| {
            let go = sendable(o);
            if go {
                o.send_started_at = Some(now);
                o.lines = lines.clone();
            }
            go
        })
        .await
        .map_err(store_failed)?;
    if !matches!(marked, Some((_, true))) {
        return Ok(Outcome::Done);
    }
    match ep.create_order(&order, &lines, &service).await {
        Ok(_) if Faults::take(&deps.faults.crash_after_wms_accept) => {
            Ok(Outcome::Retry("injected crash after the warehouse accepted the order".into()))
        }
        Ok(created) => record_accepted(deps, &merchant.id, &p, &created, "accepted by the warehouse").await,
        Err(e) => {
            let held_before = order.status() == OrderStatus::OnHold;
            let barcodes: Vec<String> =
                lines.iter().filter_map(|l| l.barcode.as_ref().map(ToString::to_string)).collect();
            let stays = held_before.then_some(barcodes.as_slice());
            refused(deps, job, &p, &merchant.id, e, stays).await
        }
    }
}

/// Classifies a failed POST (UPSTREAMS.md: insufficient inventory → hold; key → error; …).
async fn refused(
    deps: &Deps,
    job: &ClaimedJob,
    p: &SendOrder,
    merchant: &MerchantId,
    e: UpstreamError,
    stays_on_hold: Option<&[String]>,
) -> Result<Outcome, Outcome> {
    match &e {
        UpstreamError::Transient { .. } | UpstreamError::Ambiguous { .. } => Ok(retry_or_give_up(e)),
        UpstreamError::RateLimited { until, .. } => {
            set_outcome(deps, merchant, p, None, |o| o.send_started_at = None).await?;
            Ok(Outcome::RateLimited(*until))
        }
        _ if is_insufficient_inventory(&e) => {
            let until = next_release(store_now(job), deps.settings.hold.release_at.0, deps.settings.hold.timezone);
            let reason = format!("the warehouse lacks inventory: {}", e.merchant_message());
            set_outcome(deps, merchant, p, Some((OrderStatus::OnHold, &reason)), |o| o.next_attempt_at = Some(until))
                .await?;
            if let Some(barcodes) = stays_on_hold {
                deps.alerts.stays_on_hold(&deps.ledger.orders, merchant, &p.cart, p.order_id, barcodes).await;
            }
            // Read after writing `on_hold`, so a release by hand is never missed (`holds`).
            if holds::released_during(deps, merchant.as_str(), job).await.map_err(store_failed)? {
                return Ok(Outcome::RetryAt(job.claimed_at));
            }
            Ok(Outcome::Hold { until: until.timestamp_millis(), reason })
        }
        UpstreamError::Unauthorized { .. } => {
            set_outcome(deps, merchant, p, Some((OrderStatus::Error, KEY_REJECTED)), |_| {}).await?;
            alert(deps, merchant, p, &[ErrorCause::WmsCredentials]).await;
            Ok(Outcome::Done)
        }
        _ => {
            let reason = format!("the warehouse refused the order: {}", e.merchant_message());
            set_outcome(deps, merchant, p, Some((OrderStatus::Error, &reason)), |_| {}).await?;
            alert(deps, merchant, p, &[ErrorCause::WarehouseRefused]).await;
            Ok(Outcome::Done)
        }
    }
}

/// The order went to `error` for `causes`: its alerts (`alerts::orders`).
async fn alert(deps: &Deps, merchant: &MerchantId, p: &SendOrder, causes: &[ErrorCause<'_>]) {
    deps.alerts.order_in_error(&deps.ledger.orders, merchant, &p.cart, p.order_id, causes).await;
}

/// A 4xx (not auth, not-found, not rate) whose code or message speaks of inventory.
pub fn is_insufficient_inventory(e: &UpstreamError) -> bool {
    let UpstreamError::Rejected { status, code, message, .. } = e else { return false };
    if matches!(status, 401 | 403 | 404 | 429) {
        return false;
    }
    let text = format!("{} {}", code.as_deref().unwrap_or(""), message).to_ascii_lowercase();
    ["inventory", "stock", "quantity"].iter().any(|w| text.contains(w))
}

/// Clears the send marker and applies the outcome (status change and any extra field).
async fn set_outcome(
    deps: &Deps,
    merchant: &MerchantId,
    p: &SendOrder,
    status: Option<(OrderStatus, &str)>,
    extra: impl Fn(&mut Order),
) -> Result<(), Outcome> {
    let now = deps.now();
    deps.ledger
        .orders
        .update(merchant, &p.cart, p.order_id, |o| {
            o.send_started_at = None;
            if let Some((to, reason)) = status
                && o.transition(to, reason, now).is_err()
            {
                o.note(&format!("outcome not applied ({to}): {reason}"), now);
            }
            extra(o);
        })
        .await
        .map_err(store_failed)?;
    Ok(())
}

async fn record_accepted(
    deps: &Deps,
    merchant: &MerchantId,
    p: &SendOrder,
    wms_id: &str,
    why: &str,
) -> Result<Outcome, Outcome> {
    let reason = format!("{why} as {wms_id}");
    let now = deps.now();
    deps.ledger
        .orders
        .update(merchant, &p.cart, p.order_id, |o| {
            o.send_started_at = None;
            o.wms_order_id = Some(wms_id.to_owned());
            if o.transition(OrderStatus::AtWms, &reason, now).is_err() {
                o.note(&reason, now);
            }
        })
        .await
        .map_err(store_failed)?;
    Ok(Outcome::Done)
}

async fn stop_for_aliases(
    deps: &Deps,
    p: &SendOrder,
    merchant: &MerchantId,
    skus: Vec<Sku>,
) -> Result<Outcome, Outcome> {
    let names: Vec<String> = skus.iter().map(Sku::to_string).collect();
    let reason = format!("no warehouse barcode for SKU {} — add an alias", names.join(", "));
    set_outcome(deps, merchant, p, Some((OrderStatus::Error, &reason)), |_| {}).await?;
    let order = member(&p.cart, p.order_id);
    deps.ledger.aliases.await_aliases(merchant.as_str(), &order, &names).await.map_err(store_failed)?;
    let causes: Vec<ErrorCause> = skus.iter().map(ErrorCause::UnknownSku).collect();
    alert(deps, merchant, p, &causes).await;
    Ok(Outcome::Done)
}

/// The service the order's ship method maps to. Before an unmapped method stops the order, the
/// stored tenants are read again: a mapping saved through another replica may not have reached
/// this one yet (`tenants::sync`), and the send it queued may have been claimed here.
async fn service_for(
    deps: &Deps,
    cart: &CartSettings,
    order: &Order,
) -> Result<Result<WarehouseService, Unmapped>, Outcome> {
    let method = order.ship_method.as_deref();
    if let Ok(service) = cart.ship_methods.resolve(method) {
        return Ok(Ok(service.clone()));
    }
    deps.tenants.reload().await.map_err(store_failed)?;
    let (_, fresh) = deps.cart(cart.id.as_str()).await?;
    Ok(fresh.ship_methods.resolve(method).cloned())
}

/// Stops the order in `error` and records it as waiting for a mapping of its method. A mapping
/// saved meanwhile may have looked for waiting orders before this one was recorded, so the
/// stored tenants are read once more afterwards: if the method is mapped now, the order goes
/// back to `new` and this send runs again (unless the save already moved it).
async fn stop_for_ship_method(
    deps: &Deps,
    job: &ClaimedJob,
    merchant: &MerchantId,
    p: &SendOrder,
    unmapped: Unmapped,
) -> Result<Outcome, Outcome> {
    set_outcome(deps, merchant, p, Some((OrderStatus::Error, &unmapped.to_string())), |_| {}).await?;
    metrics::counter!(counters::UNMAPPED_SHIP_METHODS, "cart" => p.cart.to_string()).increment(1);
    let order = member(&p.cart, p.order_id);
    let waiting = &deps.ledger.ship_methods;
    waiting.await_mapping(merchant, &p.cart, &order, &unmapped.0).await.map_err(store_failed)?;
    alert(deps, merchant, p, &[ErrorCause::UnmappedShipMethod(&unmapped.0)]).await;
    deps.tenants.reload().await.map_err(store_failed)?;
    let (_, cart) = deps.cart(p.cart.as_str()).await?;
    if cart.ship_methods.resolve(Some(&unmapped.0)).is_err() {
        return Ok(Outcome::Done);
    }
    let now = deps.now();
    let moved = deps
        .ledger
        .orders
        .update(merchant, &p.cart, p.order_id, |o| {
            o.status() == OrderStatus::Error
                && o.transition(OrderStatus::New, "ship method mapped: sending again", now).is_ok()
        })
        .await
        .map_err(store_failed)?;
    waiting.done_waiting(merchant, &p.cart, &order).await.map_err(store_failed)?;
    Ok(if matches!(moved, Some((_, true))) { Outcome::RetryAt(job.claimed_at) } else { Outcome::Done })
}

/// How long an interrupted send may still be landing at the warehouse.
fn settle_window(timeout_secs: u64) -> chrono::Duration {
    chrono::Duration::seconds(i64::try_from(timeout_secs.saturating_mul(2).max(10)).unwrap_or(i64::MAX / 1000))
}

/// The store's clock at the claim, as a time (hold releases are wall-clock decisions).
fn store_now(job: &ClaimedJob) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(job.claimed_at).unwrap_or_else(Utc::now)
}
