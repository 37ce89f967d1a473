//! The workflows (DESIGN.md, "The four workflows"): what cartgate does with a job.
//!
//! * [`jobs`] — the handlers, one file per job kind (DESIGN.md, "Jobs"): `import_order`,
//!   `send_order`, `cancel_order`, `poll_orders`, `deliver_orders`, `ensure_webhooks`,
//!   `poll_shipments`, `check_shipment`, `tracker_event`, `push_tracking`, `sync_inventory`,
//!   `push_inventory`. Each is `run(&Deps, &ClaimedJob) -> Outcome`.
//! * [`registry`] — which handler runs which job kind, and the recurring jobs.
//! * The helpers the handlers share, and that the admin operations call too:
//!   [`translate`] (SKU → warehouse barcode), [`holds`] (releasing held orders),
//!   [`release_early`] (holds an inventory sync can fill), [`aliases`] (alias uploads),
//!   [`connection`] ("Test Connection"), [`counters`] (metrics).
//!
//! Handlers are plain async functions over [`Deps`] and return an [`Outcome`]; upstream errors
//! map to outcomes in one place ([`retry_or_give_up`]). They speak to the cart and the
//! warehouse in domain types only ([`crate::cart::Cart`], [`crate::wms::EasyPost`]).

pub mod aliases;
pub mod connection;
pub mod counters;
pub mod holds;
pub mod jobs;
pub mod release_early;
pub mod translate;

mod registry;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use registry::registry;

use crate::cart::Cart;
use crate::ledger::{Ledger, LedgerError};
use crate::settings::{CartSettings, MerchantSettings, Settings};
use crate::store::{JobStore, StoreError};
use crate::upstream::{UpstreamClient, UpstreamError};
use crate::wms::EasyPost;
use crate::workers::Outcome;

/// What every workflow can reach.
#[derive(Clone)]
pub struct Deps {
    pub settings: Arc<Settings>,
    pub jobs: Arc<dyn JobStore>,
    pub ledger: Ledger,
    pub upstream: UpstreamClient,
    /// Fault injection for tests of the no-duplicate protocol (never set in production).
    pub faults: Arc<Faults>,
}

/// Points where tests make a worker "crash".
#[derive(Default)]
pub struct Faults {
    /// Fail this many sends right after the warehouse accepted the order, before the ledger
    /// records it — the window the duplicate protocol exists for.
    pub crash_after_wms_accept: std::sync::atomic::AtomicU32,
}

impl Faults {
    pub(crate) fn take(counter: &std::sync::atomic::AtomicU32) -> bool {
        use std::sync::atomic::Ordering;
        counter.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1)).is_ok()
    }
}

impl Deps {
    /// The cart and its merchant, or a permanent failure for a job naming a cart that is no
    /// longer configured.
    pub fn cart(&self, id: &str) -> Result<(&MerchantSettings, &CartSettings), Outcome> {
        self.settings.cart(id).ok_or_else(|| Outcome::Permanent(format!("cart `{id}` is not configured")))
    }

    pub fn merchant(&self, id: &str) -> Result<&MerchantSettings, Outcome> {
        self.settings.merchant(id).ok_or_else(|| Outcome::Permanent(format!("merchant `{id}` is not configured")))
    }

    /// The cart's API, whichever kind of cart it is.
    pub fn cart_api(&self, cart: &CartSettings) -> Result<Arc<dyn Cart>, Outcome> {
        crate::cart::connect(&self.upstream, cart).map_err(|e| Outcome::Permanent(e.to_string()))
    }

    pub fn easypost(&self, merchant: &MerchantSettings) -> Result<EasyPost, Outcome> {
        self.upstream.easypost(&merchant.wms).map(EasyPost::new).map_err(|e| Outcome::Permanent(e.to_string()))
    }

    /// Now, on the process clock (ledger timestamps; scheduling uses the store's clock).
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The outcome for an upstream failure of a step that is safe to retry as it is.
pub fn retry_or_give_up(e: UpstreamError) -> Outcome {
    match e {
        UpstreamError::RateLimited { until, .. } => Outcome::RateLimited(until),
        // The upstream said "too many": a wait, not a failure of this job.
        UpstreamError::Transient { status: Some(429), retry_at: Some(at), .. } => Outcome::RateLimited(at),
        UpstreamError::Transient { retry_at: Some(at), .. } => Outcome::RetryAt(at),
        UpstreamError::Transient { .. } | UpstreamError::Ambiguous { .. } => Outcome::Retry(e.to_string()),
        // Credentials can be fixed without touching the job: keep retrying on the backoff.
        UpstreamError::Unauthorized { .. } => Outcome::Retry(e.merchant_message()),
        UpstreamError::NotFound { .. } | UpstreamError::Rejected { .. } | UpstreamError::Invalid { .. } => {
            Outcome::Permanent(e.to_string())
        }
    }
}

/// Store and ledger failures are transient from a job's point of view.
pub fn store_failed(e: impl Into<WorkflowStoreError>) -> Outcome {
    Outcome::Retry(e.into().0)
}

/// Any store-side error, as text for the retry record.
pub struct WorkflowStoreError(String);

impl From<StoreError> for WorkflowStoreError {
    fn from(e: StoreError) -> Self {
        Self(e.to_string())
    }
}

impl From<LedgerError> for WorkflowStoreError {
    fn from(e: LedgerError) -> Self {
        Self(e.to_string())
    }
}

/// Reads a job's typed payload; an unreadable one can never succeed.
pub fn payload<T: serde::de::DeserializeOwned>(job: &crate::store::ClaimedJob) -> Result<T, Outcome> {
    serde_json::from_value(job.payload.clone()).map_err(|e| Outcome::Permanent(format!("unreadable payload: {e}")))
}
