//! `deliver_orders`: the scheduled delivery run for merchants whose `order_delivery` is an
//! interval rather than `auto` — every `new` order of the merchant's carts gets a send.

use super::{Deps, payload, store_failed};
use crate::domain::OrderStatus;
use crate::jobs::{MerchantTask, SendOrder};
use crate::ledger::orders::parse_member;
use crate::store::{ClaimedJob, OnExisting, When};
use crate::workers::Outcome;

/// Orders looked at per run (the index is read in pages of this size).
const PAGE: usize = 500;

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    deliver(deps, job).await.unwrap_or_else(|o| o)
}

async fn deliver(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: MerchantTask = payload(job)?;
    let merchant = deps.merchant(p.merchant.as_str())?;
    let mut offset = 0;
    loop {
        let members = deps.ledger.orders.with_status(OrderStatus::New, offset, PAGE).await.map_err(store_failed)?;
        for (cart, order_id) in members.iter().filter_map(|m| parse_member(m)) {
            if merchant.carts.iter().any(|c| c.id == cart) {
                let job = SendOrder { cart, order_id }.job();
                deps.jobs.enqueue(&job, When::Now, OnExisting::Keep).await.map_err(store_failed)?;
            }
        }
        if members.len() < PAGE {
            return Ok(Outcome::Done);
        }
        offset += PAGE;
    }
}
