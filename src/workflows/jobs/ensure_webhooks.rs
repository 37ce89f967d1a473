//! `ensure_webhooks`: keep each cart's order webhooks registered at `server.public_url`
//! (TradeGecko deletes a webhook after 3 days of failed deliveries).

use crate::jobs::CartTask;
use crate::store::ClaimedJob;
use crate::workers::Outcome;
use crate::workflows::{Deps, payload, retry_or_give_up};

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    ensure(deps, job).await.unwrap_or_else(|o| o)
}

async fn ensure(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: CartTask = payload(job)?;
    let (_, cart) = &deps.cart(p.cart.as_str()).await?;
    let Some(public) = deps.settings.server.public_url.as_ref() else {
        tracing::info!(cart = %cart.id, "server.public_url is not set: webhooks are not registered");
        return Ok(Outcome::Done);
    };
    let address = format!("{}/webhooks/tradegecko/{}", public.as_str().trim_end_matches('/'), cart.id);
    let created = deps.cart_api(cart)?.ensure_webhooks(&address).await.map_err(retry_or_give_up)?;
    for event in created {
        tracing::info!(cart = %cart.id, event, %address, "registered webhook");
    }
    Ok(Outcome::Done)
}
