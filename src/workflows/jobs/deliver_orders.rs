//! `deliver_orders`: the scheduled delivery run for merchants whose `order_delivery` is an
//! interval rather than `auto` — every `new` order of the merchant's carts gets a send.

use crate::domain::OrderStatus;
use crate::jobs::{MerchantTask, SendOrder};
use crate::store::{ClaimedJob, OnExisting, When};
use crate::workers::Outcome;
use crate::workflows::{Deps, payload, store_failed};

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    deliver(deps, job).await.unwrap_or_else(|o| o)
}

async fn deliver(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: MerchantTask = payload(job)?;
    let merchant = &deps.merchant(p.merchant.as_str()).await?;
    let new = deps
        .ledger
        .orders
        .in_status(&merchant.id, OrderStatus::New, |c| merchant.has_cart(c), usize::MAX)
        .await
        .map_err(store_failed)?;
    for (cart, order_id) in new {
        let job = SendOrder { cart, order_id }.job();
        deps.jobs.enqueue(&job, When::Now, OnExisting::Keep).await.map_err(store_failed)?;
    }
    Ok(Outcome::Done)
}
