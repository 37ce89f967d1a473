//! Which handler runs which job kind, and the recurring jobs the configuration asks for.

use std::time::Duration;

use super::{Deps, cancel_order, deliver, ensure_webhooks, import_order, poll_orders, send_order};
use crate::jobs::{CartTask, MerchantTask};
use crate::settings::Interval;
use crate::store::{ClaimedJob, JobKind, NewJob};
use crate::workers::{Handler, Outcome, Recurring, Registry};

/// How often webhook registrations are checked.
const WEBHOOK_CHECK: Duration = Duration::from_secs(24 * 3600);

/// Defines a handler type that runs a workflow function over [`Deps`].
macro_rules! workflow {
    ($name:ident, $run:path) => {
        struct $name(Deps);

        #[async_trait::async_trait]
        impl Handler for $name {
            async fn handle(&self, job: &ClaimedJob) -> Outcome {
                $run(&self.0, job).await
            }
        }
    };
}

workflow!(ImportOrderHandler, import_order::run);
workflow!(SendOrderHandler, send_order::run);
workflow!(CancelOrderHandler, cancel_order::run);
workflow!(PollOrdersHandler, poll_orders::run);
workflow!(EnsureWebhooksHandler, ensure_webhooks::run);
workflow!(DeliverOrdersHandler, deliver::run);

/// Every workflow handler, and the recurring jobs of every cart and merchant.
pub fn registry(deps: &Deps) -> Registry {
    let mut registry = Registry::standard()
        .with(JobKind::ImportOrder, ImportOrderHandler(deps.clone()))
        .with(JobKind::SendOrder, SendOrderHandler(deps.clone()))
        .with(JobKind::CancelOrder, CancelOrderHandler(deps.clone()))
        .with(JobKind::PollOrders, PollOrdersHandler(deps.clone()))
        .with(JobKind::EnsureWebhooks, EnsureWebhooksHandler(deps.clone()))
        .with(JobKind::DeliverOrders, DeliverOrdersHandler(deps.clone()));
    for merchant in &deps.settings.merchants {
        if let Interval::Every(period) = merchant.schedule.order_delivery {
            let job = MerchantTask { merchant: merchant.id.clone() }.job(JobKind::DeliverOrders);
            registry = registry.every(recurring(job, period));
        }
        for cart in &merchant.carts {
            let task = CartTask { cart: cart.id.clone() };
            // `auto` still polls: edits and voids are only seen by polling.
            let poll_every = cart.schedule.order_download.period_or(Duration::from_secs(300));
            registry = registry.every(recurring(task.job(JobKind::PollOrders), poll_every));
            registry = registry.every(recurring(task.job(JobKind::EnsureWebhooks), WEBHOOK_CHECK));
        }
    }
    registry
}

fn recurring(job: NewJob, period: Duration) -> Recurring {
    Recurring { id: job.id, kind: job.kind, payload: job.payload, period }
}
