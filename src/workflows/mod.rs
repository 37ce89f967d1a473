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
//!   [`connection`] ("Test Connection"), [`counters`] (metrics), [`filters`] (the cart's order
//!   and item filters that skip an order).
//!
//! Handlers are plain async functions over [`Deps`] and return an [`Outcome`]; upstream errors
//! map to outcomes in one place ([`retry_or_give_up`]). They speak to the cart and the
//! warehouse in domain types only ([`crate::cart::Cart`], [`crate::wms::EasyPost`]).

pub mod aliases;
pub mod connection;
pub mod counters;
pub mod filters;
pub mod holds;
pub mod jobs;
pub mod recurring;
pub mod release_early;
pub mod ship_methods;
pub mod translate;

mod registry;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use registry::{DeadJobs, registry};

use crate::alerts::Alerts;
use crate::cart::Cart;
use crate::domain::MerchantId;
use crate::ledger::{Ledger, LedgerError};
use crate::settings::{CartSettings, MerchantSettings, Settings};
use crate::store::{JobStore, StoreError};
use crate::tenants::Tenants;
use crate::upstream::{UpstreamClient, UpstreamError, Watched};
use crate::wms::EasyPost;
use crate::workers::Outcome;

/// What every workflow can reach.
#[derive(Clone)]
pub struct Deps {
    pub settings: Arc<Settings>,
    /// The merchants and carts served now (file and store): every lookup goes through here.
    pub tenants: Tenants,
    pub jobs: Arc<dyn JobStore>,
    pub ledger: Ledger,
    pub upstream: UpstreamClient,
    /// The OAuth connections of `auth = "oauth"` carts (the token source `upstream` uses).
    pub oauth: Arc<crate::oauth::Connections>,
    /// Raising and clearing the merchants' alerts.
    pub alerts: Alerts,
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
    /// The cart and its merchant. A cart this replica does not know is looked up once more in
    /// the store (it may have been added a moment ago through another replica); a cart that is
    /// gone (deleted) finishes the job without a dead letter, and stops its recurring jobs.
    pub async fn cart(&self, id: &str) -> Result<(Arc<MerchantSettings>, Arc<CartSettings>), Outcome> {
        if let Some(found) = self.tenants.cart(id) {
            return Ok(found);
        }
        self.refresh().await?;
        let dir = self.tenants.now();
        match (dir.cart(id), dir.owner_of(id)) {
            (Some(found), _) => Ok(found),
            (None, Some(owner)) => Err(Outcome::Retry(format!("cart `{id}`: merchant `{owner}` is unusable"))),
            (None, None) => Err(gone("cart", id)),
        }
    }

    /// The merchant, on the same terms as [`Deps::cart`].
    pub async fn merchant(&self, id: &str) -> Result<Arc<MerchantSettings>, Outcome> {
        if let Some(found) = self.tenants.merchant(id) {
            return Ok(found);
        }
        self.refresh().await?;
        let dir = self.tenants.now();
        match (dir.merchant(id), dir.entry(id)) {
            (Some(found), _) => Ok(found),
            (None, Some(_)) => Err(Outcome::Retry(format!("merchant `{id}` is unusable"))),
            (None, None) => Err(gone("merchant", id)),
        }
    }

    async fn refresh(&self) -> Result<bool, Outcome> {
        self.tenants.reload().await.map_err(store_failed)
    }

    /// The cart's API, whichever kind of cart it is; a 401/403 raises the merchant's
    /// `credentials_rejected` alert for `<kind>:<cart>` (`tradegecko:…`, `shopify:…`), the next
    /// success clears it.
    pub fn cart_api(&self, cart: &CartSettings) -> Result<Arc<dyn Cart>, Outcome> {
        let owner = self.tenants.now().owner_of(cart.id.as_str()).and_then(|m| MerchantId::parse(m).ok());
        let upstream = match owner {
            Some(owner) => self.upstream.watched(self.watch(owner, format!("{}:{}", cart.kind.as_str(), cart.id))),
            None => self.upstream.clone(),
        };
        crate::cart::connect(&upstream, cart).map_err(|e| Outcome::Permanent(e.to_string()))
    }

    /// The merchant's warehouse with its active key, watched as `easypost:<merchant>:<mode>`.
    pub fn easypost(&self, merchant: &MerchantSettings) -> Result<EasyPost, Outcome> {
        let account = format!("easypost:{}:{}", merchant.id, merchant.wms.mode().as_str());
        let upstream = self.upstream.watched(self.watch(merchant.id.clone(), account));
        upstream.easypost(&merchant.wms).map(EasyPost::new).map_err(|e| Outcome::Permanent(e.to_string()))
    }

    fn watch(&self, owner: MerchantId, account: String) -> Watched {
        Watched { watch: Arc::new(self.alerts.clone()), owner, account }
    }

    /// The merchant a job owner (a merchant or a cart id) belongs to.
    pub fn owner_merchant(&self, owner: &str) -> Option<MerchantId> {
        let dir = self.tenants.now();
        let merchant = if dir.entry(owner).is_some() { Some(owner) } else { dir.owner_of(owner) };
        merchant.and_then(|m| MerchantId::parse(m).ok())
    }

    /// Now, on the process clock (ledger timestamps; scheduling uses the store's clock).
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A job for a cart or merchant that no longer exists: nothing left to do.
fn gone(what: &str, id: &str) -> Outcome {
    tracing::info!(what, id, "job for a {what} that no longer exists: finished without running");
    Outcome::Done
}

/// The outcome for an upstream failure of a step that is safe to retry as it is.
pub fn retry_or_give_up(e: UpstreamError) -> Outcome {
    match e {
        UpstreamError::RateLimited { until, .. } => Outcome::RateLimited(until),
        // The upstream said "too many": a wait, not a failure of this job.
        UpstreamError::Transient { status: Some(429), retry_at: Some(at), .. } => Outcome::RateLimited(at),
        UpstreamError::Transient { retry_at: Some(at), .. } => Outcome::RetryAt(at),
        UpstreamError::Transient { .. } | UpstreamError::Ambiguous { .. } => Outcome::Retry(e.to_string()),
        // The merchant must connect again: wait, uncharged, however long that takes.
        UpstreamError::Disconnected { .. } => Outcome::Parked(e.to_string()),
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
