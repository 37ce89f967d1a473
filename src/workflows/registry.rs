//! Which handler runs which job kind, and the recurring jobs the configuration asks for.

use std::time::Duration;

use super::Deps;
use super::jobs::{
    cancel_order, check_shipment, deliver_orders, ensure_webhooks, import_order, poll_orders, poll_shipments,
    push_inventory, push_tracking, send_order, sync_inventory, tracker_event,
};
use crate::jobs::{CartTask, MerchantTask, PushTracking};
use crate::settings::Interval;
use crate::store::{ClaimedJob, JobKind, NewJob};
use crate::workers::{Handler, Outcome, Recurring, Registry};

/// How often webhook registrations are checked.
const WEBHOOK_CHECK: Duration = Duration::from_secs(24 * 3600);
/// `auto` shipment confirmations still poll this often: EasyPost events can be lost.
const SHIPMENT_BACKSTOP: Duration = Duration::from_secs(15 * 60);
/// `auto` inventory has no event to wait for: it is read this often.
const INVENTORY_AUTO: Duration = Duration::from_secs(15 * 60);

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
workflow!(DeliverOrdersHandler, deliver_orders::run);
workflow!(PollShipmentsHandler, poll_shipments::run);
workflow!(CheckShipmentHandler, check_shipment::run);
workflow!(TrackerEventHandler, tracker_event::run);
workflow!(PushTrackingHandler, push_tracking::run);
workflow!(SyncInventoryHandler, sync_inventory::run);
workflow!(PushInventoryHandler, push_inventory::run);

/// Every workflow handler, and the recurring jobs of every cart and merchant.
pub fn registry(deps: &Deps) -> Registry {
    let mut registry = Registry::standard()
        .with(JobKind::ImportOrder, ImportOrderHandler(deps.clone()))
        .with(JobKind::SendOrder, SendOrderHandler(deps.clone()))
        .with(JobKind::CancelOrder, CancelOrderHandler(deps.clone()))
        .with(JobKind::PollOrders, PollOrdersHandler(deps.clone()))
        .with(JobKind::EnsureWebhooks, EnsureWebhooksHandler(deps.clone()))
        .with(JobKind::DeliverOrders, DeliverOrdersHandler(deps.clone()))
        .with(JobKind::PollShipments, PollShipmentsHandler(deps.clone()))
        .with(JobKind::CheckShipment, CheckShipmentHandler(deps.clone()))
        .with(JobKind::TrackerEvent, TrackerEventHandler(deps.clone()))
        .with(JobKind::PushTracking, PushTrackingHandler(deps.clone()))
        .with(JobKind::SyncInventory, SyncInventoryHandler(deps.clone()))
        .with(JobKind::PushInventory, PushInventoryHandler(deps.clone()));
    for merchant in &deps.settings.merchants {
        if let Interval::Every(period) = merchant.schedule.order_delivery {
            let job = MerchantTask { merchant: merchant.id.clone() }.job(JobKind::DeliverOrders);
            registry = registry.every(recurring(job, period));
        }
        let task = MerchantTask { merchant: merchant.id.clone() };
        let shipments = merchant.schedule.shipping_confirmations.period_or(SHIPMENT_BACKSTOP);
        registry = registry.every(recurring(task.job(JobKind::PollShipments), shipments));
        let inventory = merchant.schedule.inventory.period_or(INVENTORY_AUTO);
        registry = registry.every(recurring(task.job(JobKind::SyncInventory), inventory));
        for cart in &merchant.carts {
            let task = CartTask { cart: cart.id.clone() };
            // `auto` still polls: edits and voids are only seen by polling.
            let poll_every = cart.schedule.order_download.period_or(Duration::from_secs(300));
            registry = registry.every(recurring(task.job(JobKind::PollOrders), poll_every));
            registry = registry.every(recurring(task.job(JobKind::EnsureWebhooks), WEBHOOK_CHECK));
            // An interval upload schedule: a recurring run uploads what `check_shipment` left.
            if let Interval::Every(period) = cart.schedule.shipment_upload {
                let upload = PushTracking { cart: cart.id.clone(), order_id: None }.job();
                registry = registry.every(recurring(upload, period));
            }
        }
    }
    registry
}

fn recurring(job: NewJob, period: Duration) -> Recurring {
    Recurring { id: job.id, kind: job.kind, payload: job.payload, period }
}
