//! What every handler can reach.
//!
//! One queue handle: the operator actions' [`Deps::jobs`]. [`AppState::for_this_thread`] gives
//! each HTTP worker a state whose queue runs over a connection of its own, driven by that
//! worker's runtime, so a webhook's durable enqueue never hops to another thread and back
//! (README, "The webhook intake"); admin actions use the same handle.

use std::sync::Arc;

use super::slowdown::FailedAuths;
use crate::lifecycle::Readiness;
use crate::metrics::Metrics;
use crate::ops::Ops;
use crate::settings::Settings;
use crate::store::{JobStore, Store};
use crate::workflows::Deps;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub readiness: Readiness,
    pub metrics: &'static Metrics,
    /// The operator actions, over the workflows' dependencies (ledger, queue, upstreams).
    pub ops: Ops,
    /// Failed admin authentications per source address (shared by every HTTP worker).
    pub failed_auths: Arc<FailedAuths>,
}

impl AppState {
    pub fn new(deps: Deps, readiness: Readiness, metrics: &'static Metrics) -> Self {
        let failed_auths = Arc::new(FailedAuths::default());
        Self { settings: deps.settings.clone(), readiness, metrics, ops: Ops::new(deps), failed_auths }
    }

    /// The same state with the queue over `store`'s connection for the calling thread (a
    /// memory or injected store is shared as it is). Call it once per HTTP worker, on its thread.
    pub fn for_this_thread(&self, store: &Store) -> Self {
        let Ok(own) = store.for_this_thread() else { return self.clone() };
        let deps = Deps { jobs: own.jobs().clone(), ..self.ops.deps().clone() };
        Self { ops: Ops::new(deps), ..self.clone() }
    }

    /// The merchants and carts served now.
    pub fn tenants(&self) -> &crate::tenants::Tenants {
        &self.ops.deps().tenants
    }

    /// The queue.
    pub fn queue(&self) -> &Arc<dyn JobStore> {
        &self.ops.deps().jobs
    }
}
