//! The recurring jobs each merchant and cart asks for, read from the live tenant directory: a
//! cart set up through the API recurs from then on, a deleted one's jobs stop at their next run
//! (the handler finds no cart, the job is not a recurring one any more: it is acked).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::jobs::{CartTask, MerchantTask, PushTracking};
use crate::settings::{CartSettings, Interval, MerchantSettings};
use crate::store::{JobId, JobKind, NewJob};
use crate::tenants::{Directory, Tenants};
use crate::workers::{LiveRecurring, Recurring};

/// How often webhook registrations are checked.
const WEBHOOK_CHECK: Duration = Duration::from_secs(24 * 3600);
/// `auto` shipment confirmations still poll this often: EasyPost events can be lost.
const SHIPMENT_BACKSTOP: Duration = Duration::from_secs(15 * 60);
/// `auto` inventory has no event to wait for: it is read this often.
const INVENTORY_AUTO: Duration = Duration::from_secs(15 * 60);

/// The merchant's own recurring jobs, then those of each of its carts.
pub fn of_merchant(merchant: &MerchantSettings) -> Vec<Recurring> {
    let mut jobs = Vec::new();
    let task = MerchantTask { merchant: merchant.id.clone() };
    if let Interval::Every(period) = merchant.schedule.order_delivery {
        jobs.push(recurring(task.job(JobKind::DeliverOrders), period));
    }
    let shipments = merchant.schedule.shipping_confirmations.period_or(SHIPMENT_BACKSTOP);
    jobs.push(recurring(task.job(JobKind::PollShipments), shipments));
    let inventory = merchant.schedule.inventory.period_or(INVENTORY_AUTO);
    jobs.push(recurring(task.job(JobKind::SyncInventory), inventory));
    // Upkeep: its first run is one period after start, not in the start-up burst.
    let prune = recurring(task.job(JobKind::PruneLedger), crate::workflows::jobs::prune_ledger::EVERY);
    jobs.push(Recurring { at_start: false, ..prune });
    for cart in &merchant.carts {
        jobs.extend(of_cart(cart));
    }
    jobs
}

/// A cart's recurring jobs (its order poll, its webhook check, an interval upload).
pub fn of_cart(cart: &CartSettings) -> Vec<Recurring> {
    let task = CartTask { cart: cart.id.clone() };
    // `auto` still polls: edits and voids are only seen by polling.
    let poll_every = cart.schedule.order_download.period_or(Duration::from_secs(300));
    let mut jobs = vec![
        recurring(task.job(JobKind::PollOrders), poll_every),
        recurring(task.job(JobKind::EnsureWebhooks), WEBHOOK_CHECK),
    ];
    // An interval upload schedule: a recurring run uploads what `check_shipment` left.
    if let Interval::Every(period) = cart.schedule.shipment_upload {
        jobs.push(recurring(PushTracking { cart: cart.id.clone(), order_id: None }.job(), period));
    }
    jobs
}

fn recurring(job: NewJob, period: Duration) -> Recurring {
    Recurring { id: job.id, kind: job.kind, payload: job.payload, period, at_start: true }
}

type Table = Arc<HashMap<JobId, Recurring>>;

/// The directory's recurring jobs, recomputed only when the directory changed.
pub struct DirectoryRecurring {
    tenants: Tenants,
    cache: Mutex<Option<(Arc<Directory>, Table)>>,
}

impl DirectoryRecurring {
    pub fn new(tenants: Tenants) -> Self {
        Self { tenants, cache: Mutex::new(None) }
    }

    fn table(&self) -> Table {
        let now = self.tenants.now();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((dir, table)) = cache.as_ref()
            && Arc::ptr_eq(dir, &now)
        {
            return table.clone();
        }
        let table: Table = Arc::new(now.merchants().flat_map(|m| of_merchant(m)).map(|r| (r.id.clone(), r)).collect());
        *cache = Some((now, table.clone()));
        table
    }
}

impl LiveRecurring for DirectoryRecurring {
    fn recurring(&self) -> Vec<Recurring> {
        let mut all: Vec<Recurring> = self.table().values().cloned().collect();
        all.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        all
    }

    fn period_of(&self, id: &JobId) -> Option<Duration> {
        self.table().get(id).map(|r| r.period)
    }
}
