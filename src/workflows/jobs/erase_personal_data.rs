//! `erase_personal_data`: Shopify's compliance erasure (`customers/redact`, `shop/redact`) over
//! a cart's ledger orders (`ledger::redact` says what goes and what stays).
//!
//! A customer's erasure covers the orders Shopify lists and every order of the cart whose
//! destination e-mail is the customer's; the payload carries only a digest of that e-mail
//! (`jobs::erasure_email_digest`), so once the job is done no Redis value names the customer.
//! Each order is erased with its own compare-and-set; a retry after a crash erases the rest
//! (erasing an erased order writes nothing).

use crate::domain::{CartId, MerchantId};
use crate::jobs::{ErasePersonalData, ErasureScope, erasure_email_digest};
use crate::ledger::LedgerError;
use crate::store::ClaimedJob;
use crate::workers::Outcome;
use crate::workflows::{Deps, payload, store_failed};

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    erase_job(deps, job).await.unwrap_or_else(|o| o)
}

async fn erase_job(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: ErasePersonalData = payload(job)?;
    let (merchant, _) = deps.cart(p.cart.as_str()).await?;
    let (ids, why) = match &p.scope {
        ErasureScope::Shop => {
            (deps.ledger.orders.ids_of_cart(&merchant.id, &p.cart).await.map_err(store_failed)?, "shop/redact")
        }
        ErasureScope::Customer { orders, email_digest, .. } => {
            let mut ids = orders.clone();
            if let Some(digest) = email_digest {
                ids.extend(orders_with_email(deps, &merchant.id, &p.cart, digest).await.map_err(store_failed)?);
            }
            ids.sort_unstable();
            ids.dedup();
            (ids, "customers/redact")
        }
    };
    let reason = format!("personal data erased ({why})");
    let mut erased = 0usize;
    for id in &ids {
        if deps
            .ledger
            .orders
            .erase_personal(&merchant.id, &p.cart, *id, &reason, deps.now())
            .await
            .map_err(store_failed)?
        {
            erased += 1;
        }
    }
    let customer = match &p.scope {
        ErasureScope::Customer { customer_id, .. } => *customer_id,
        ErasureScope::Shop => None,
    };
    tracing::info!(cart = %p.cart, request = why, customer_id = ?customer, orders = erased, "personal data erased");
    Ok(Outcome::Done)
}

/// The cart's orders whose destination e-mail has `digest`.
async fn orders_with_email(
    deps: &Deps,
    merchant: &MerchantId,
    cart: &CartId,
    digest: &str,
) -> Result<Vec<u64>, LedgerError> {
    let mut out = Vec::new();
    for id in deps.ledger.orders.ids_of_cart(merchant, cart).await? {
        let Some(order) = deps.ledger.orders.get(merchant, cart, id).await? else { continue };
        if order.destination.email.as_deref().is_some_and(|e| erasure_email_digest(cart, e) == digest) {
            out.push(id);
        }
    }
    Ok(out)
}
