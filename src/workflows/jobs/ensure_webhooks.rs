//! `ensure_webhooks`: keep each cart's order webhooks registered at `server.public_url`
//! (TradeGecko deletes a webhook after 3 days of failed deliveries, Shopify after 8 failed
//! retries over 4 hours).
//!
//! Re-creating a webhook after the cart's first registration is a repair: orders may have
//! come only by the poll meanwhile, so the merchant's `webhooks_repaired` alert opens (subject:
//! the cart); the next run that finds every webhook in place resolves it.

use crate::alerts::AlertKind;
use crate::jobs::CartTask;
use crate::store::ClaimedJob;
use crate::workers::Outcome;
use crate::workflows::{Deps, payload, retry_or_give_up, store_failed};

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    ensure(deps, job).await.unwrap_or_else(|o| o)
}

async fn ensure(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: CartTask = payload(job)?;
    let (merchant, cart) = &deps.cart(p.cart.as_str()).await?;
    let Some(public) = deps.settings.server.public_url.as_ref() else {
        tracing::info!(cart = %cart.id, "server.public_url is not set: webhooks are not registered");
        return Ok(Outcome::Done);
    };
    let kind_name = cart.kind.as_str();
    let address = format!("{}/webhooks/{kind_name}/{}", public.as_str().trim_end_matches('/'), cart.id);
    let created = deps.cart_api(cart)?.ensure_webhooks(&address).await.map_err(retry_or_give_up)?;
    for event in &created {
        tracing::info!(cart = %cart.id, event, %address, "registered webhook");
    }
    let cursors = &deps.ledger.cursors;
    let repaired = !created.is_empty()
        && cursors.webhooks_registered(&merchant.id, &cart.id).await.map_err(store_failed)?.is_some();
    let alerts = &deps.alerts;
    let (kind, subject) = (AlertKind::WebhooksRepaired, cart.id.as_str());
    let told = if repaired {
        let summary = format!(
            "{} webhooks of cart {} had gone missing and were re-created: {}",
            cart.kind.label(),
            cart.id,
            created.join(", ")
        );
        alerts.raise(&merchant.id, kind, subject, &summary, None).await
    } else {
        alerts.clear(&merchant.id, kind, subject, None).await
    };
    told.map_err(store_failed)?;
    cursors.set_webhooks_registered_once(&merchant.id, &cart.id, deps.now()).await.map_err(store_failed)?;
    Ok(Outcome::Done)
}
