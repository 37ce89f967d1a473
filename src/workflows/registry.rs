//! Which handler runs which job kind; the recurring jobs come from the live tenant directory
//! (`super::recurring`).

use super::Deps;
use super::jobs::{
    cancel_order, check_shipment, deliver_orders, ensure_webhooks, erase_personal_data, import_order, poll_orders,
    poll_shipments, prune_ledger, push_inventory, push_tracking, send_order, sync_inventory, tracker_event,
};
use crate::store::{ClaimedJob, JobKind};
use crate::workers::{Handler, Outcome, Registry};

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
workflow!(PruneLedgerHandler, prune_ledger::run);
workflow!(ErasePersonalDataHandler, erase_personal_data::run);

/// Every workflow handler, and the recurring jobs of every cart and merchant.
pub fn registry(deps: &Deps) -> Registry {
    Registry::standard()
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
        .with(JobKind::PushInventory, PushInventoryHandler(deps.clone()))
        .with(JobKind::PruneLedger, PruneLedgerHandler(deps.clone()))
        .with(JobKind::ErasePersonalData, ErasePersonalDataHandler(deps.clone()))
        .with(JobKind::DeliverAlert, crate::alerts::DeliveryHandler::new(deps))
        .live(super::recurring::DirectoryRecurring::new(deps.tenants.clone()))
}

/// Raises the owning merchant's `jobs_dead` alert for every buried job (the application
/// installs it in every registry, the workflows' or a test's).
pub struct DeadJobs(pub Deps);

#[async_trait::async_trait]
impl crate::workers::Burials for DeadJobs {
    async fn buried(&self, id: &crate::store::JobId, kind: &str) {
        let Some(merchant) = self.0.owner_merchant(id.owner()) else { return };
        if let Err(e) = self.0.alerts.job_buried(&merchant, kind, id.as_str()).await {
            tracing::warn!(job = %id, error = %e, "cannot raise the dead job's alert");
        }
    }
}
