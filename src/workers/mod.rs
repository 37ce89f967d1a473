//! The workers: every replica claims batches of due jobs from the store and runs them with
//! bounded concurrency (see DESIGN.md, "Jobs").
//!
//! A [`Handler`] per [`JobKind`] turns a claimed job into an [`Outcome`]; the [`Registry`]
//! maps kinds to handlers and lists the [`Recurring`] jobs; [`WorkerPool`] does the rest:
//! leases, extension, retries with backoff, holds, dead letters, graceful drain.

mod outcome;
mod pool;
mod recurring;
mod run;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub use outcome::{Action, Outcome, RetryPolicy, decide};
pub use pool::{PoolConfig, WorkerPool};
pub use recurring::{Recurring, schedule_recurring};

use crate::store::{ClaimedJob, JobId, JobKind};

/// Runs one kind of job. Handlers must be idempotent: a job may run again after a crash.
#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, job: &ClaimedJob) -> Outcome;
}

/// Recurring jobs that change while the replica runs (carts set up through the admin API):
/// asked each time, so a new cart's jobs recur and a deleted cart's stop.
pub trait LiveRecurring: Send + Sync + 'static {
    fn recurring(&self) -> Vec<Recurring>;
    fn period_of(&self, id: &JobId) -> Option<Duration>;
}

/// Told about every job moved to the dead letters, after the move is stored (`jobs_dead`).
#[async_trait::async_trait]
pub trait Burials: Send + Sync + 'static {
    async fn buried(&self, id: &JobId, kind: &str);
}

/// Which handler runs which kind, and which jobs recur.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<JobKind, Arc<dyn Handler>>,
    recurring: Vec<Recurring>,
    live: Option<Arc<dyn LiveRecurring>>,
    burials: Option<Arc<dyn Burials>>,
}

impl Registry {
    /// No handlers: every claimed job is buried as having no handler.
    pub fn new() -> Self {
        Self::default()
    }

    /// What `cartgate serve` runs today: only [`Noop`].
    pub fn standard() -> Self {
        Self::new().with(JobKind::Noop, Noop)
    }

    /// Adds (or replaces) the handler of `kind`.
    pub fn with(mut self, kind: JobKind, handler: impl Handler) -> Self {
        self.handlers.insert(kind, Arc::new(handler));
        self
    }

    /// Adds a recurring job, scheduled when the pool starts.
    pub fn every(mut self, recurring: Recurring) -> Self {
        self.recurring.push(recurring);
        self
    }

    /// Adds recurring jobs that may change at run time.
    pub fn live(mut self, source: impl LiveRecurring) -> Self {
        self.live = Some(Arc::new(source));
        self
    }

    /// Tells `burials` about every job that goes to the dead letters.
    pub fn on_burial(mut self, burials: impl Burials) -> Self {
        self.burials = Some(Arc::new(burials));
        self
    }

    pub fn burials(&self) -> Option<&Arc<dyn Burials>> {
        self.burials.as_ref()
    }

    pub fn handler(&self, kind: JobKind) -> Option<&Arc<dyn Handler>> {
        self.handlers.get(&kind)
    }

    /// Every recurring job now.
    pub fn recurring(&self) -> Vec<Recurring> {
        let live = self.live.as_ref().map(|l| l.recurring()).unwrap_or_default();
        self.recurring.iter().cloned().chain(live).collect()
    }

    /// The period of `id` if it is a recurring job.
    pub fn period_of(&self, id: &JobId) -> Option<Duration> {
        let fixed = self.recurring.iter().find(|r| &r.id == id).map(|r| r.period);
        fixed.or_else(|| self.live.as_ref().and_then(|l| l.period_of(id)))
    }
}

/// Does nothing, successfully (queue tests and benchmarks).
pub struct Noop;

#[async_trait::async_trait]
impl Handler for Noop {
    async fn handle(&self, _job: &ClaimedJob) -> Outcome {
        Outcome::Done
    }
}
