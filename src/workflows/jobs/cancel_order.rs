//! `cancel_order`: an order voided in the cart after it reached the warehouse is cancelled
//! there (`DELETE orders/{id}`), or the reason it could not be is recorded.

use crate::domain::OrderStatus;
use crate::jobs::CancelOrder;
use crate::store::ClaimedJob;
use crate::upstream::UpstreamError;
use crate::workers::Outcome;
use crate::workflows::{Deps, payload, retry_or_give_up, store_failed};

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    cancel(deps, job).await.unwrap_or_else(|o| o)
}

async fn cancel(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: CancelOrder = payload(job)?;
    let (merchant, _) = &deps.cart(p.cart.as_str()).await?;
    let Some(order) = deps.ledger.orders.get(&merchant.id, &p.cart, p.order_id).await.map_err(store_failed)? else {
        return Ok(Outcome::Done);
    };
    let ep = deps.easypost(merchant)?;
    // A send may have been interrupted: find the warehouse order it may have created.
    let wms_id = match (&order.wms_order_id, order.send_started_at) {
        (Some(id), _) => id.clone(),
        (None, Some(_)) => match ep.find_order(&order.order_number).await.map_err(retry_or_give_up)? {
            Some(found) => found,
            None => return Ok(Outcome::Retry("send still unresolved; cancelling once it is".into())),
        },
        (None, None) => return Ok(Outcome::Done),
    };
    let now = deps.now();
    let result = ep.cancel_order(&wms_id).await;
    let note = match &result {
        Ok(()) => None,
        Err(e @ (UpstreamError::Rejected { .. } | UpstreamError::NotFound { .. })) => {
            Some(format!("voided in cart, but the warehouse could not cancel {wms_id}: {}", e.merchant_message()))
        }
        Err(e) => return Ok(retry_or_give_up(e.clone())),
    };
    deps.ledger
        .orders
        .update(&merchant.id, &p.cart, p.order_id, |o| {
            o.wms_order_id.get_or_insert_with(|| wms_id.clone());
            o.send_started_at = None;
            match &note {
                None => {
                    // An interrupted send that did reach the warehouse: record it first. An
                    // order stopped meanwhile (`error`, `cancel_sending`) cannot be `at_wms`;
                    // the find is then noted on its timeline instead.
                    if o.status().is_unsent() {
                        o.transition_or_note(OrderStatus::AtWms, &format!("found at the warehouse as {wms_id}"), now);
                    }
                    if o.transition(OrderStatus::Canceled, "voided in cart; cancelled at the warehouse", now).is_err() {
                        o.note("voided in cart; cancelled at the warehouse", now);
                    }
                }
                Some(n) => o.note(n, now),
            }
        })
        .await
        .map_err(store_failed)?;
    Ok(Outcome::Done)
}
